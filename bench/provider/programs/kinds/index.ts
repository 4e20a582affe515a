/**
 * `bench:count` of each per-object kind (Domain, Route, Alias, User, SenderList, FilterSettings,
 * PasswordPolicy), one domain's worth per index: as mailplane resources (`bench:mode` mailplane) or,
 * with the very same inputs, as dynamic resources whose provider does nothing (`bench:mode` floor).
 * bench/provider/state-size.ts compares the bytes each resource takes in the state.
 */
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config("bench");
const count = config.requireNumber("count");
const password = config.requireSecret("password");

type Declare = (
  kind: string,
  name: string,
  args: Record<string, unknown>,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

// The floor's provider is programs/floor's (it captures nothing), the ID taken from the key input.
const noop: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return {};
  },
  async create(inputs) {
    return { id: String(inputs.name ?? inputs.address ?? inputs.scope ?? inputs.domain), outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

let declare: Declare;
if (config.require("mode") === "floor") {
  class Noop extends pulumi.dynamic.Resource {
    constructor(
      kind: string,
      name: string,
      args: Record<string, unknown>,
      opts?: pulumi.CustomResourceOptions,
    ) {
      super(noop, name, args, opts, "bench", kind);
    }
  }
  declare = (kind, name, args, opts) => new Noop(kind, name, args, opts);
} else {
  const mailplane: Record<string, any> = await import("mailplane");
  declare = (kind, name, args, opts) => new mailplane[kind](name, args, opts);
}

for (let i = 0; i < count; i++) {
  const name = `k${i}.state.test`;
  const domain = declare("Domain", `domain-${i}`, { name });
  const opts = { dependsOn: [domain] };
  declare("Route", `route-${i}`, { domain: name, host: `mx1.${name}` }, opts);
  declare(
    "Alias",
    `alias-${i}`,
    { address: `info@${name}`, action: { type: "forward", to: [`x${i}@example.net`, `y${i}@example.net`] } },
    opts,
  );
  declare("User", `user-${i}`, { address: `ana@${name}`, firstName: "Ana", password }, opts);
  declare(
    "SenderList",
    `senders-${i}`,
    { domain: name, kind: "block", target: "sender", entries: ["spam.example", "bob@example.net"] },
    opts,
  );
  declare("FilterSettings", `filter-${i}`, { scope: name, quarantineThreshold: 0.8 }, opts);
  declare("PasswordPolicy", `passwords-${i}`, { scope: name, minLength: 12 }, opts);
}
