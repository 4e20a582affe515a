/**
 * The floor: the same program as `programs/mailplane` — `bench:count` resources, one "domain" per
 * 100 and "aliases" with the same inputs depending on it — but as dynamic resources whose provider
 * does no work at all (no validation, no HTTP). Whatever time `pulumi up`/`preview`/`refresh` takes
 * here is the engine's own cost for that program; bench/provider/run.ts compares mailplane with it.
 */
import * as pulumi from "@pulumi/pulumi";

// Captures nothing: serialized once and cached, like mailplane's shim.
const noop: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return {};
  },
  async create(inputs) {
    return { id: String(inputs.name ?? inputs.address), outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

class Noop extends pulumi.dynamic.Resource {
  constructor(name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super(noop, name, args, opts, "bench", "Noop");
  }
}

const count = new pulumi.Config("bench").requireNumber("count");
let domain: Noop | undefined;
let name = "";
for (let i = 0; i < count; i++) {
  if (i % 100 === 0) {
    name = `d${i / 100}.bench.test`;
    domain = new Noop(`domain-${i / 100}`, { name });
    continue;
  }
  new Noop(
    `alias-${i}`,
    { address: `a${i}@${name}`, action: { type: "forward", to: [`x${i}@example.net`, `y${i}@example.net`] } },
    { dependsOn: domain },
  );
}
