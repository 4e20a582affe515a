/**
 * `bench:count` mailplane resources: one Domain per 100, the rest Aliases in those domains (each
 * forwarding to two addresses), so the count is exact and most resources are the cheap, common kind.
 * Run by bench/provider/run.ts against a control plane it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const count = new pulumi.Config("bench").requireNumber("count");
let domain: mailplane.Domain | undefined;
let name = "";
for (let i = 0; i < count; i++) {
  if (i % 100 === 0) {
    name = `d${i / 100}.bench.test`;
    domain = new mailplane.Domain(`domain-${i / 100}`, { name });
    continue;
  }
  new mailplane.Alias(
    `alias-${i}`,
    { address: `a${i}@${name}`, action: { type: "forward", to: [`x${i}@example.net`, `y${i}@example.net`] } },
    { dependsOn: domain },
  );
}
