/**
 * A domain, a forward alias and optionally a Tenancy, shaped by stack config, so a test can show how a
 * list change, a bad value and the Tenancy's child names look in `pulumi preview`:
 *
 *   e2e:to        the alias's destinations, a JSON list (insert, reorder, bad entries)
 *   e2e:entries   the sender list's entries, a JSON list
 *   e2e:password  a user's password (secret); e2e:withUser  declare that user
 *   e2e:tenancy   declare the Tenancy `acme` from tenancy.yaml
 *
 * Run by test/e2e/provider/diff.test.ts with the real Pulumi CLI against a control plane it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("e2e");

const domain = new mailplane.Domain("domain", { name: "example.test" });

new mailplane.Alias(
  "team",
  {
    address: "team@example.test",
    action: { type: "forward", to: config.requireObject<string[]>("to") },
  },
  { dependsOn: [domain] },
);

new mailplane.SenderList("blocked", {
  domain: domain.name,
  kind: "block",
  target: "sender",
  entries: config.requireObject<string[]>("entries"),
});

if (config.getBoolean("withUser")) {
  new mailplane.User(
    "user",
    { address: "alice@example.test", password: config.requireSecret("password") },
    { dependsOn: [domain] },
  );
}

if (config.getBoolean("tenancy")) {
  new mailplane.Tenancy("acme", { file: "tenancy.yaml" });
}
