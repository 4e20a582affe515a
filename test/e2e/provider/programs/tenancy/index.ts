/**
 * One of each of the ten mailplane resources, in variants chosen by stack config, so a single stack
 * walks every lifecycle step (create, no-op, field change, key change, drift, destroy) for all kinds:
 *
 *   e2e:domain   the domain the objects live in;  e2e:other  a second domain (its name is replaced)
 *   e2e:step     base | update (one field per kind) | replace (one key per kind) | reorder (same
 *                declaration, sets in another order and case) | bad-<case> (invalid input)
 *   e2e:protect / e2e:ignoreChanges / e2e:retainOnDelete   resource options on the route
 *   e2e:withoutRoute  leave the route out of the program (for retainOnDelete)
 *   e2e:password  the user's password (a secret)
 *   e2e:adoptee   a domain that already exists on the platform, declared with e2e:adopt (true/false)
 *
 * Run by test/e2e/provider/tenancy.test.ts with the real Pulumi CLI against a control plane it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("e2e");
const step = config.get("step") ?? "base";
const d = config.require("domain");
const other = config.require("other");
const is = (name: string) => step === name;

const domain = new mailplane.Domain("domain", {
  name: d,
  aliases: is("reorder")
    ? [`Alias-B.${d}`, `alias-a.${d}`, `alias-b.${d}`]
    : [`alias-a.${d}`, `alias-b.${d}`],
  timezone: is("update") ? "Europe/Amsterdam" : "UTC",
});

// A second domain, only so that a Domain's key (its name) can change without touching the others.
const second = new mailplane.Domain("second", { name: is("replace") ? `renamed-${other}` : other });

const routeOptions: pulumi.CustomResourceOptions = {
  protect: config.getBoolean("protect") ?? false,
  retainOnDelete: config.getBoolean("retainOnDelete") ?? false,
  ignoreChanges: config.getBoolean("ignoreChanges") ? ["priority"] : [],
};
if (!config.getBoolean("withoutRoute")) {
  new mailplane.Route(
    "route",
    {
      domain: domain.name,
      host: is("reorder") ? `MX1.${d.toUpperCase()}` : `mx1.${d}`,
      port: is("bad-port") ? 0 : is("replace") ? 2525 : 25,
      priority: is("update") ? 20 : 10,
    },
    routeOptions,
  );
}

const user = new mailplane.User(
  "user",
  {
    address: is("replace") ? `alicia@${d}` : `alice@${d}`,
    firstName: "Alice",
    addresses: is("reorder") ? [`A.Smith@${d}`] : [`a.smith@${d}`],
    password: config.requireSecret("password"),
    quotaMb: is("update") ? 2048 : 1024,
    loginAlerts: { failed: false, successful: true },
    ...(is("bad-address") ? { externalAddress: "not an address" } : {}),
  },
  { dependsOn: [domain] },
);

new mailplane.Alias(
  "alias",
  {
    address: is("replace") ? `hello@${d}` : `info@${d}`,
    action: {
      type: "forward",
      to: is("update")
        ? [user.address, `ops@${d}`, `sales@${d}`]
        : is("reorder")
          ? [`OPS@${d}`, user.address, `ops@${d}`]
          : [user.address, `ops@${d}`],
    },
  },
  { dependsOn: [domain] },
);

new mailplane.Group(
  "group",
  {
    address: is("replace") ? `crew@${d}` : `team@${d}`,
    members: is("update")
      ? [user.address, `ops@${d}`, `zed@${d}`]
      : is("reorder")
        ? [`OPS@${d}`, user.address]
        : [user.address, `ops@${d}`],
    senders: "members",
  },
  { dependsOn: [domain] },
);

new mailplane.AccessRule(
  "access",
  {
    scope: is("replace") ? `alicia@${d}` : is("reorder") ? d.toUpperCase() : domain.name,
    service: "smtp-submission",
    allow: is("update")
      ? ["192.0.2.0/24", "2001:db8::/32", "2001:db9::/32"]
      : is("reorder")
        ? ["2001:DB8::1/32", "192.0.2.7/24", "192.0.2.0/24"]
        : ["192.0.2.0/24", "2001:db8::/32"],
    deny: ["192.0.2.13"],
  },
  { dependsOn: [domain] },
);

new mailplane.SenderList("blocked", {
  domain: domain.name,
  kind: "block",
  target: is("replace") ? "recipient" : "sender",
  entries: is("replace")
    ? ["nomail"]
    : is("update")
      ? ["spam.example", "bob@example.net", "eve@example.net"]
      : is("reorder")
        ? ["Bob@Example.NET", "@spam.example"]
        : ["spam.example", "bob@example.net"],
});

new mailplane.FilterSettings("filter", {
  scope: is("replace") ? second.name : domain.name,
  quarantineThreshold: is("bad-threshold") ? 0.5 : 0.8,
  tagThreshold: is("update") ? 0.4 : is("bad-threshold") ? 0.7 : 0.3,
  blockedExtensions: is("bad-extension")
    ? ["exe", "not/an/extension"]
    : is("reorder")
      ? ["JS", ".exe", "exe"]
      : ["exe", "js"],
});

new mailplane.PasswordPolicy("passwords", {
  scope: is("replace") ? "account" : domain.name,
  minLength: is("update") ? 12 : 10,
  lockout: { failures: 3 },
  requireTlsForSignIn: true,
});

new mailplane.ReportSettings("reports", {
  scope: is("replace") ? second.name : domain.name,
  frequency: is("update") ? "weekly" : "daily",
  userReport: true,
  userReportRecipients: is("reorder") ? [`ALICE@${d.toUpperCase()}`] : [`alice@${d}`],
});

const adoptee = config.get("adoptee");
if (adoptee) {
  new mailplane.Domain("adoptee", {
    name: adoptee,
    timezone: "UTC",
    adopt: config.getBoolean("adopt") ?? false,
  });
}

export const dnsRecordCount = domain.dnsRecords.apply((records) => records.length);
export const userAddress = user.address;
