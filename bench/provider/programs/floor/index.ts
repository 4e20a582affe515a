/**
 * The floor: `bench:count` dynamic resources whose provider does no work at all (no HTTP, no
 * validation). Whatever time `pulumi up`/`preview`/`refresh` takes here is the engine's own cost per
 * dynamic resource; bench/provider/run.ts compares mailplane's program of the same size with it.
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
    return { id: String(inputs.name), outs: inputs };
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
  constructor(name: string) {
    super(noop, name, { name }, {}, "bench", "Noop");
  }
}

const count = new pulumi.Config("bench").requireNumber("count");
for (let i = 0; i < count; i++) new Noop(`noop-${i}`);
