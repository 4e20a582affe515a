/**
 * Bytes per resource in the Pulumi state: `count` mailplane resources (the provider bench's program)
 * against as many no-op dynamic resources (the floor), from `pulumi stack export`, split into the
 * serialized provider (`__provider`, in inputs and outputs) and the rest.
 *
 *   node bench/provider/state-size.ts [--count 100]
 */
import { parseArgs } from "node:util";
import { AS_INSTALLED, benchStack, type ProgramName, startBenchPlatform } from "./fixture.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "100" } } });
const count = Number(values.count);
const platform = await startBenchPlatform();
try {
  for (const program of ["floor", "mailplane"] as ProgramName[]) {
    const { ws, dispose } = await benchStack(program, count, platform);
    try {
      await ws.ok(["up", "--yes", "--skip-preview"], AS_INSTALLED);
      const state = JSON.parse((await ws.ok(["stack", "export"], AS_INSTALLED)).stdout);
      const resources = (state.deployment.resources as Record<string, any>[]).filter((r) =>
        String(r.type).startsWith("pulumi-nodejs:dynamic/"),
      );
      const bytes = (v: unknown) => JSON.stringify(v ?? null).length;
      const sum = (f: (r: Record<string, any>) => number) =>
        resources.reduce((n, r) => n + f(r), 0) / resources.length;
      const whole = sum((r) => bytes(r));
      const provider = sum((r) => bytes(r.inputs?.__provider) + bytes(r.outputs?.__provider));
      const inputs = sum((r) => bytes({ ...r.inputs, __provider: undefined }));
      const outputs = sum((r) => bytes({ ...r.outputs, __provider: undefined }));
      console.log(
        `${program}: ${resources.length} resources, ${whole.toFixed(0)} B each (compact JSON): __provider ${provider.toFixed(0)} B (inputs + outputs), other inputs ${inputs.toFixed(0)} B, other outputs ${outputs.toFixed(0)} B`,
      );
    } finally {
      await dispose();
    }
  }
} finally {
  await platform.close();
}
