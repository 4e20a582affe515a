/**
 * Two versions of one tenant (config `phase`: before | after). From before to after: the filter
 * gets stricter (update), the route moves to port 2525 (a key: replace), a user joins (create),
 * joe's reject alias goes (delete).
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();
const after = config.require("phase") === "after";

const domain = new mailplane.Domain("example.org", { name: "example.org" });
const inDomain = { dependsOn: [domain] };

new mailplane.Route(
  "primary",
  { domain: "example.org", host: "mx1.example.org", port: after ? 2525 : 25 },
  inDomain,
);
new mailplane.FilterSettings(
  "filter",
  {
    scope: "example.org",
    quarantineThreshold: after ? 0.7 : 0.9,
    blockedExtensions: after ? ["bat", "exe", "js"] : ["bat", "exe"],
  },
  inDomain,
);
new mailplane.User(
  "ada",
  { address: "ada@example.org", firstName: "Ada", password: config.requireSecret("adaPassword") },
  inDomain,
);
if (after) {
  new mailplane.User(
    "katherine",
    {
      address: "katherine@example.org",
      firstName: "Katherine",
      password: config.requireSecret("katherinePassword"),
    },
    inDomain,
  );
} else {
  new mailplane.Alias(
    "joe",
    { address: "joe@example.org", action: { type: "reject", message: "Joe no longer works here" } },
    inDomain,
  );
}
