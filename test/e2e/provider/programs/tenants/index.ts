/**
 * A platform admin's program: the stack's `mailplane:token` is a platform-admin token. It declares a
 * tenant (Account), the tenant's own token (ApiToken), a domain and an alias in that account reached
 * with the new token as `connection` (and a Tenancy manifest with it), a domain on a second platform with that platform's connection,
 * and reads a user managed elsewhere (getUserOutput) as the alias's forward target.
 *
 *   e2e:step           base | update (account name, token description)
 *   e2e:fault          none | tenant-admin (an Account declared with a tenant's account-admin token)
 *                      | missing-lookup | endpoint-without-token
 *   e2e:rotation       the token's rotation trigger (default "1")
 *   e2e:sharedUser     a user in account e2e, managed outside this program
 *   e2e:otherEndpoint / e2e:otherToken (secret)   the second platform
 *   e2e:tenantToken (secret)  an account-admin token of account e2e
 *
 * Run by test/e2e/provider/tenants.test.ts with the real Pulumi CLI against control planes it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("e2e");
const step = config.get("step") ?? "base";
const fault = config.get("fault") ?? "none";
const is = (name: string) => step === name || fault === name;

const acme = new mailplane.Account("acme", {
  accountId: "acme",
  name: is("update") ? "ACME Corporation" : "ACME Corp",
  contact: "it@acme.test",
  limits: { domains: 5 },
});

const token = new mailplane.ApiToken("acme-admin", {
  account: acme.accountId,
  role: "account-admin",
  description: is("update") ? "Pulumi: ACME's tenancy" : "Pulumi",
  rotation: config.get("rotation") ?? "1",
});

// Everything in the tenant goes through the tenant's own token, named for its account.
const asAcme = { token: token.token, account: acme.accountId };

const domain = new mailplane.Domain("acme-domain", {
  name: "acme.test",
  timezone: "Europe/Amsterdam",
  connection: asAcme,
});

// A whole manifest in the tenant: the component hands its connection to every child.
new mailplane.Tenancy("acme-manifest", { file: "tenancy.yaml", connection: asAcme });

// A user managed elsewhere (account e2e, read with the stack's admin token acting on it).
const ops = mailplane.getUserOutput({
  address: is("missing-lookup") ? "nobody@shared.test" : config.require("sharedUser"),
  connection: { account: "e2e" },
});

new mailplane.Alias(
  "acme-info",
  {
    address: "info@acme.test",
    action: { type: "forward", to: [ops.address] },
    connection: asAcme,
  },
  { dependsOn: [domain] },
);

// The same kind of object on another platform, with that platform's own endpoint and token.
new mailplane.Domain("elsewhere", {
  name: "elsewhere.test",
  connection: is("endpoint-without-token")
    ? { endpoint: config.require("otherEndpoint") }
    : { endpoint: config.require("otherEndpoint"), token: config.requireSecret("otherToken") },
});

if (is("tenant-admin")) {
  // A tenant's account-admin token may not create accounts: the platform refuses (403).
  new mailplane.Account("intruder", {
    accountId: "intruder",
    name: "Not allowed",
    connection: { token: config.requireSecret("tenantToken") },
  });
}

export const accountName = acme.name;
export const tokenId = token.id;
export const tokenValue = token.token;
export const opsForwardTarget = ops.address;
