/**
 * One DomainTenancy (bulk mode) of `bench:count` objects: the domain, half aliases (each forwarding
 * to two addresses) and half users, `bench:passwords` of them with a password (a secret, generated
 * here: a bench, not a real tenant). `bench:step` changes one user's field (the one-object change).
 * Run by bench/provider/bulk.ts against a control plane it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("bench");
const count = config.requireNumber("count");
const withPassword = config.getNumber("passwords") ?? 100;
const step = config.get("step") ?? "base";
const domain = "bulk.bench.test";
const aliases: { address: string; action: { type: "forward"; to: string[] } }[] = [];
const users: { address: string; firstName: string; quotaMb: number }[] = [];
const passwords: Record<string, string> = {};
for (let i = 1; i < count; i++) {
  if (i % 2 === 0) {
    aliases.push({
      address: `a${i}@${domain}`,
      action: { type: "forward", to: [`x${i}@example.net`, `y${i}@example.net`] },
    });
  } else {
    const address = `u${i}@${domain}`;
    users.push({ address, firstName: `User ${i}`, quotaMb: step === "change" && i === 1 ? 2048 : 1024 });
    if (Object.keys(passwords).length < withPassword) passwords[address] = `Bench-${i}-Pass-Xy9`;
  }
}
new mailplane.DomainTenancy("bulk", {
  document: { domains: [{ name: domain }], aliases, users },
  passwords: pulumi.secret(passwords),
});
