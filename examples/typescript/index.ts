/**
 * A mail tenant in TypeScript: every mailplane resource used directly.
 *
 *   pulumi config set mailplane:endpoint http://127.0.0.1:8080
 *   pulumi config set --secret mailplane:token "$(npx mailplane token create --account example)"
 *   pulumi config set --secret adaPassword 'Analytical-Engine-1843'
 *   pulumi preview --diff && pulumi up          # README.md has every step, from the account on
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();

const domain = new mailplane.Domain("example.org", {
  name: "example.org",
  aliases: ["example.info"],
  primaryContact: "postmaster@example.org",
  timezone: "America/New_York",
});
const inDomain = { dependsOn: [domain] };

// Relay accepted mail to the company's own servers, best first; 4xx answers fall through to the next.
new mailplane.Route(
  "primary",
  { domain: domain.name, host: "mx1.example.org", port: 25, priority: 10 },
  inDomain,
);
new mailplane.Route(
  "backup",
  { domain: domain.name, host: "mx2.example.org", port: 25, priority: 20, tls: "required" },
  inDomain,
);

const policy = new mailplane.PasswordPolicy(
  "policy",
  {
    scope: domain.name,
    minLength: 12,
    expiry: { days: 365 },
    lockout: { failures: 5, windowMinutes: 10, durationMinutes: 15 },
    // Users sign in to the API with a TOTP code as well (docs/users.md); SMTP keeps passwords.
    requireTwoFactor: true,
  },
  inDomain,
);

const ada = new mailplane.User(
  "ada",
  {
    address: "ada@example.org",
    firstName: "Ada",
    lastName: "Lovelace",
    password: config.requireSecret("adaPassword"),
    quotaMb: 4096,
  },
  // The policy is in force before the password is set.
  { dependsOn: [domain, policy] },
);

new mailplane.Alias(
  "sales",
  { address: "sales@example.org", action: { type: "forward", to: [ada.address, "sales@partner.example"] } },
  inDomain,
);
new mailplane.Alias(
  "joe",
  { address: "joe@example.org", action: { type: "reject", message: "Joe no longer works here" } },
  inDomain,
);

new mailplane.SenderList(
  "blocked-senders",
  {
    domain: domain.name,
    kind: "block",
    target: "sender",
    entries: ["*@junk.example", "offers@spam.example"],
  },
  inDomain,
);
new mailplane.SenderList(
  "trusted-senders",
  { domain: domain.name, kind: "allow", target: "sender", entries: ["billing@bank.example"] },
  inDomain,
);

new mailplane.FilterSettings(
  "filter",
  {
    scope: domain.name,
    quarantineThreshold: 0.85,
    tagThreshold: 0.2,
    // The platform's defaults (bat btm cmd com cpl dll exe msi pif) plus scripts: the policy pack
    // (policy/) refuses a list that drops a default.
    blockedExtensions: ["bat", "btm", "cmd", "com", "cpl", "dll", "exe", "js", "msi", "pif", "scr", "vbs"],
    sizeLimitMb: 25,
  },
  inDomain,
);

/** Publish these in the domain's DNS zone. */
export const dnsRecords = domain.dnsRecords;
