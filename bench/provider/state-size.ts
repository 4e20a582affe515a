/**
 * Bytes per resource in the Pulumi state, per per-object kind: `programs/kinds` as mailplane resources
 * against the same inputs as no-op dynamic resources (the floor), from `pulumi stack export`, split into
 * the serialized provider (`__provider`, in inputs and outputs), the other inputs, the other outputs and
 * the resource's metadata (URN, type, ID, dependencies, timestamps…). Writes the "Provider: state size
 * per resource" section of bench/RESULTS.md and the raw numbers to bench/results/state-size-<time>.json.
 *
 *   node bench/provider/state-size.ts [--count 20] [--before bench/results/state-size-….json] [--no-write]
 *
 * `--before`: a previous run's raw file, shown beside this run (the state before a change).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createPulumiWorkspace } from "../../test/support/pulumi.ts";
import { writeRawResults, writeResultsSection } from "../results-file.ts";
import { AS_INSTALLED, startBenchPlatform } from "./fixture.ts";

const KINDS = ["Domain", "Route", "Alias", "User", "SenderList", "FilterSettings", "PasswordPolicy"];
const PROGRAM = join(import.meta.dirname, "programs/kinds");

/** Mean bytes per resource of one kind, compact JSON. */
export interface KindBytes {
  whole: number;
  /** `__provider` in inputs plus in outputs. */
  provider: number;
  /** The inputs without `__provider`. */
  inputs: number;
  /** The outputs without `__provider`. */
  outputs: number;
  /** Everything but inputs and outputs: URN, type, ID, parent, dependencies, provider reference, timestamps. */
  metadata: number;
}

type Sizes = Record<"floor" | "mailplane", Record<string, KindBytes>>;

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "20" },
    before: { type: "string" },
    "no-write": { type: "boolean", default: false },
  },
});
const count = Number(values.count);
const before: Sizes | undefined = values.before
  ? JSON.parse(readFileSync(values.before, "utf8")).sizes
  : undefined;

const bytes = (v: unknown) => (v === undefined ? 0 : JSON.stringify(v).length);

/** Mean bytes per resource of each kind in an exported deployment. */
function measure(state: { deployment: { resources: Record<string, any>[] } }): Record<string, KindBytes> {
  const out: Record<string, KindBytes> = {};
  for (const kind of KINDS) {
    const resources = state.deployment.resources.filter((r) =>
      new RegExp(`^pulumi-nodejs:dynamic/[a-z]+:${kind}$`).test(String(r.type)),
    );
    if (resources.length === 0) throw new Error(`no ${kind} in the state`);
    const mean = (f: (r: Record<string, any>) => number) =>
      Math.round(resources.reduce((n, r) => n + f(r), 0) / resources.length);
    out[kind] = {
      whole: mean((r) => bytes(r)),
      provider: mean((r) => bytes(r.inputs?.__provider) + bytes(r.outputs?.__provider)),
      inputs: mean((r) => bytes({ ...r.inputs, __provider: undefined })),
      outputs: mean((r) => bytes({ ...r.outputs, __provider: undefined })),
      metadata: mean((r) => bytes({ ...r, inputs: undefined, outputs: undefined })),
    };
  }
  return out;
}

function section(sizes: Sizes, loads: number[]): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const lines = [
    "## Provider: state size per resource",
    "",
    `Run ${new Date().toISOString().slice(0, 10)} with \`node bench/provider/state-size.ts --count ${count}${before ? " --before …" : ""}\`: ${count} of each per-object kind`,
    "(`bench/provider/programs/kinds`: a Domain and, in it, a Route, an Alias forwarding to two addresses, a User with",
    "a password, a SenderList of two entries, FilterSettings and a PasswordPolicy with one field each), once as mailplane",
    "resources and once — same inputs — as dynamic resources whose provider does nothing (the floor, as in the provider",
    "bench). Mean bytes per resource of `pulumi stack export`, compact JSON: *provider* is `__provider` in inputs plus in",
    "outputs, *inputs* and *outputs* the rest of each, *metadata* the rest of the resource (URN, type, ID, dependencies,",
    `timestamps). Bytes do not depend on the machine (1-minute load ${loads.map((l) => l.toFixed(1)).join(" → ")}).`,
    "",
  ];
  const head = before
    ? "| kind | floor B | mailplane B (before) | mailplane B | ÷ floor (before → now) | provider | inputs | outputs | metadata |"
    : "| kind | floor B | mailplane B | ÷ floor | provider | inputs | outputs | metadata |";
  const columns = head.split("|").length - 2;
  lines.push(head, `|---|${"---:|".repeat(columns - 1)}`);
  const parts = (m: KindBytes, f: KindBytes) =>
    (["provider", "inputs", "outputs", "metadata"] as const).map((k) => `${n(m[k])} (${n(f[k])})`);
  for (const kind of KINDS) {
    const f = sizes.floor[kind]!;
    const m = sizes.mailplane[kind]!;
    const ratio = (x: KindBytes) => (x.whole / f.whole).toFixed(2);
    const was = before?.mailplane[kind];
    lines.push(
      was
        ? `| ${kind} | ${n(f.whole)} | ${n(was.whole)} | ${n(m.whole)} | ${ratio(was)} → ${ratio(m)} | ${parts(m, f).join(" | ")} |`
        : `| ${kind} | ${n(f.whole)} | ${n(m.whole)} | ${ratio(m)} | ${parts(m, f).join(" | ")} |`,
    );
  }
  lines.push("", "The last four columns are mailplane's part of each resource (the floor's in brackets).");
  if (before) {
    lines.push("", "Before, by part (mailplane, the same kinds):", "");
    lines.push("| kind | provider | inputs | outputs | metadata |", "|---|---:|---:|---:|---:|");
    for (const kind of KINDS) {
      const was = before.mailplane[kind]!;
      lines.push(
        `| ${kind} | ${n(was.provider)} | ${n(was.inputs)} | ${n(was.outputs)} | ${n(was.metadata)} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  // mailplane runs as users get it: compiled (see AS_INSTALLED in fixture.ts).
  console.error("building dist/ (npm run build)");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: dirname(import.meta.dirname), stdio: "inherit" });
  const loads = [loadavg()[0]!];
  const platform = await startBenchPlatform();
  const sizes = {} as Sizes;
  try {
    for (const mode of ["floor", "mailplane"] as const) {
      const stack = `state-${mode}-${process.pid}`;
      const ws = await createPulumiWorkspace(PROGRAM, stack);
      try {
        await ws.ok(["config", "set", "bench:mode", mode], AS_INSTALLED);
        await ws.ok(["config", "set", "bench:count", String(count)], AS_INSTALLED);
        await ws.ok(["config", "set", "--secret", "bench:password", "State-size-bench-42"], AS_INSTALLED);
        await ws.ok(["config", "set", "mailplane:endpoint", platform.url], AS_INSTALLED);
        await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token], AS_INSTALLED);
        await ws.ok(["up", "--yes", "--skip-preview"], AS_INSTALLED);
        sizes[mode] = measure(JSON.parse((await ws.ok(["stack", "export"], AS_INSTALLED)).stdout));
        await ws.ok(["destroy", "--yes", "--skip-preview"], AS_INSTALLED);
      } finally {
        await ws.dispose();
        execFileSync("rm", ["-f", join(PROGRAM, `Pulumi.${stack}.yaml`)]);
      }
    }
  } finally {
    await platform.close();
  }
  loads.push(loadavg()[0]!);
  const text = section(sizes, loads);
  console.log(text);
  const json = writeRawResults("state-size", new Date(), { count, sizes, loads });
  if (values["no-write"]) console.error(`wrote ${json}`);
  else
    console.error(`wrote ${writeResultsSection("## Provider: state size per resource", text)} and ${json}`);
}

await main();
