/**
 * Smoke program: one dynamic resource that owns a file on disk, so every step of the
 * lifecycle (create, read for refresh, delete) has an effect a test can observe.
 * Run by test/e2e/smoke/smoke.test.ts with the real Pulumi CLI.
 */
import * as pulumi from "@pulumi/pulumi";

interface MarkerInputs {
  path: string;
  content: string;
}

// The provider is serialized into state; it captures nothing but node: built-ins it imports itself.
const markerProvider: pulumi.dynamic.ResourceProvider<MarkerInputs> = {
  async create(inputs) {
    const fs = await import("node:fs/promises");
    await fs.writeFile(inputs.path, inputs.content);
    return { id: inputs.path, outs: { ...inputs, nodeVersion: process.version } };
  },
  async read(id, props) {
    const fs = await import("node:fs/promises");
    try {
      const content = await fs.readFile(id, "utf8");
      return { id, props: { ...props, content } };
    } catch {
      return { id: "", props: {} };
    }
  },
  async diff(_id, olds, news) {
    const changed = olds.content !== news.content;
    return { changes: changed || olds.path !== news.path, replaces: olds.path !== news.path ? ["path"] : [] };
  },
  async update(_id, _olds, news) {
    const fs = await import("node:fs/promises");
    await fs.writeFile(news.path, news.content);
    return { outs: { ...news, nodeVersion: process.version } };
  },
  async delete(id) {
    const fs = await import("node:fs/promises");
    await fs.rm(id, { force: true });
  },
};

class Marker extends pulumi.dynamic.Resource {
  declare readonly nodeVersion: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;
  constructor(name: string, args: MarkerInputs, opts?: pulumi.CustomResourceOptions) {
    super(markerProvider, name, { ...args, nodeVersion: undefined }, opts);
  }
}

const config = new pulumi.Config("smoke");
const marker = new Marker("marker", {
  path: config.require("path"),
  content: config.get("content") ?? "hello",
});

export const providerNodeVersion = marker.nodeVersion;
export const programNodeVersion = process.version;
