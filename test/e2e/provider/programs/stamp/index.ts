/**
 * A domain declared object by object (Domain, Alias, User, FilterSettings) and a second one in bulk
 * (DomainTenancy): the provider stamps each with this project and stack.
 *
 * Run by test/e2e/provider/stamp.test.ts with the real Pulumi CLI against a control plane it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("e2e");
const password = config.requireSecret("password");

const domain = new mailplane.Domain("domain", { name: "stamp.test" });
new mailplane.Alias(
  "alias",
  {
    address: "info@stamp.test",
    action: { type: "forward", to: ["ana@stamp.test"] },
  },
  { dependsOn: [domain] },
);
new mailplane.User("user", { address: "ana@stamp.test", password }, { dependsOn: [domain] });
// Declared at its defaults: the provider writes it anyway, to record the stamp.
new mailplane.FilterSettings("filter", { scope: "stamp.test" }, { dependsOn: [domain] });

new mailplane.DomainTenancy("bulk", {
  document: {
    domains: [{ name: "bulk-stamp.test" }],
    aliases: [{ address: "sales@bulk-stamp.test", action: { type: "reject", message: "Gone" } }],
  },
});
