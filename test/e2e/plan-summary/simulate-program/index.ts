/**
 * Two versions of one tenant (config `phase`: before | after) whose mail flow differs. From before
 * to after: the sender block list trades spam.example for phish.example, joe's reject alias goes,
 * a sales alias forwarding to linus comes, `.js` attachments are blocked, the size limit drops from
 * 10 to 5 MB, and ada's mailbox is disabled.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();
const after = config.require("phase") === "after";

const domain = new mailplane.Domain("example.org", { name: "example.org" });
const inDomain = { dependsOn: [domain] };

new mailplane.User(
  "linus",
  { address: "linus@example.org", firstName: "Linus", password: config.requireSecret("linusPassword") },
  inDomain,
);
new mailplane.User(
  "ada",
  {
    address: "ada@example.org",
    firstName: "Ada",
    password: config.requireSecret("adaPassword"),
    enabled: !after,
  },
  inDomain,
);
new mailplane.SenderList(
  "blocked-senders",
  {
    domain: "example.org",
    kind: "block",
    target: "sender",
    entries: after ? ["*@phish.example"] : ["*@spam.example"],
  },
  inDomain,
);
new mailplane.FilterSettings(
  "filter",
  {
    scope: "example.org",
    blockedExtensions: after ? ["bat", "exe", "js"] : ["bat", "exe"],
    sizeLimitMb: after ? 5 : 10,
  },
  inDomain,
);
if (after) {
  new mailplane.Alias(
    "sales",
    { address: "sales@example.org", action: { type: "forward", to: ["linus@example.org"] } },
    inDomain,
  );
} else {
  new mailplane.Alias(
    "joe",
    { address: "joe@example.org", action: { type: "reject", message: "Joe no longer works here" } },
    inDomain,
  );
}
