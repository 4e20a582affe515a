/**
 * A domain and `e2e:users` users (a number), so a test can plan more users than the account's limit
 * allows. Run by test/e2e/provider/limits.test.ts with the real Pulumi CLI against a control plane.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("e2e");
const domain = new mailplane.Domain("domain", { name: "limits.test" });
for (let i = 1; i <= (config.getNumber("users") ?? 1); i++) {
  new mailplane.User(
    `user${i}`,
    { address: `user${i}@limits.test`, password: config.requireSecret("password") },
    { dependsOn: [domain] },
  );
}
