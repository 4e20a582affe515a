/**
 * The bulk-mode benchmark: one DomainTenancy of 10,000 objects (aliases and users, 100 users with a
 * password) with the real CLI — first `up`, a no-op `preview`, `refresh`, and `up` of a one-object
 * change — against the targets. Results go to bench/RESULTS.md ("Provider: bulk mode").
 *
 *   npm run bench:bulk -- [--count 10000] [--rounds 3]
 *
 * Each round uses a new stack and a new domain state (destroyed after), so every first `up` creates
 * the whole tenancy; times are medians of the rounds, wall-clock of the whole CLI run. Every round
 * also runs the floor (`programs/bulk-floor`: the same property tree on a no-op dynamic resource),
 * so the table shows what is mailplane's and what is Pulumi's.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createPulumiWorkspace } from "../../test/support/pulumi.ts";
import { writeResultsSection } from "../results-file.ts";
import { AS_INSTALLED, startBenchPlatform } from "./fixture.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** The two programs measured in the same run: DomainTenancy, and the same tree on a no-op resource. */
const PROGRAMS = {
  mailplane: join(here, "programs/bulk"),
  floor: join(here, "programs/bulk-floor"),
} as const;
type Program = keyof typeof PROGRAMS;
/** The targets, in seconds. */
const TARGETS: Record<string, number> = { up: 30, "no-op preview": 5, refresh: 5, "one-object change up": 3 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * CPU seconds (user + system) of this process's finished children so far, from /proc: the Pulumi
 * CLI and everything it waited for (language host, program, provider plugins). Wall-clock on a
 * shared machine measures the other users too; CPU time is what the run itself spent.
 */
function childrenCpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  // Fields 16 and 17 of stat(5) (cutime, cstime), counted after the ") " that ends field 2.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** The keyed maps of a tenancy document: compared by the shape of their entries, not their keys. */
const KEYED = new Set(["aliases", "users", "routes", "senderLists", "groups", "passwords"]);
/** Bookkeeping a DomainTenancy adds to its inputs that is not part of the tree. */
const NOT_TREE = new Set(["__provider", "adopt", "etag"]);

/**
 * The shape of a property tree: field names and value types, each keyed map by its first entry.
 * The floor is only a floor while it holds the tree a DomainTenancy holds; when the model gains a
 * field, this tells the two apart (and the run stops) instead of comparing different trees.
 */
function shapeOf(value: unknown, key = ""): unknown {
  // An object held as a JSON text: its fields are the shape.
  if (typeof value === "string" && value.startsWith("{")) return shapeOf(JSON.parse(value), key);
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (value === null || typeof value !== "object") return value === null ? "null" : typeof value;
  const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => !NOT_TREE.has(k));
  if (KEYED.has(key)) return { "*": entries.length ? shapeOf(entries[0]![1]) : "empty" };
  return Object.fromEntries(
    entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shapeOf(v, k)]),
  );
}

/** The inputs of the one custom resource of an exported stack (the DomainTenancy, or the floor's). */
function treeOf(exported: {
  deployment: { resources: { custom?: boolean; type: string; inputs?: unknown }[] };
}) {
  const resource = exported.deployment.resources.find(
    (r) => r.custom && !r.type.startsWith("pulumi:providers:"),
  );
  return resource?.inputs;
}

const { values } = parseArgs({
  options: { count: { type: "string", default: "10000" }, rounds: { type: "string", default: "3" } },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const startedAt = new Date();
const load0 = loadavg()[0]!;
console.error("building dist/ (npm run build)");
execFileSync("npm", ["run", "build", "--silent"], { cwd: join(here, "..", ".."), stdio: "inherit" });
const platform = await startBenchPlatform();
type Series = Record<string, number[]>;
const times: Record<Program, Series> = { mailplane: {}, floor: {} };
const cpu: Record<Program, Series> = { mailplane: {}, floor: {} };
const requests: Record<string, Record<string, number>> = {};
const stateBytes: Record<Program, number> = { mailplane: 0, floor: 0 };
const shapes: Record<Program, string> = { mailplane: "", floor: "" };
try {
  for (let round = 0; round < rounds; round++) {
    // Paired: both programs in every round, the order alternating, so both share the machine's noise.
    const order: Program[] = round % 2 === 0 ? ["mailplane", "floor"] : ["floor", "mailplane"];
    for (const program of order) {
      const stack = `bulk-${program}-${count}-${process.pid}-${round}`;
      const ws = await createPulumiWorkspace(PROGRAMS[program], stack);
      try {
        await ws.ok(["config", "set", "bench:count", String(count)], AS_INSTALLED);
        await ws.ok(["config", "set", "mailplane:endpoint", platform.url], AS_INSTALLED);
        await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token], AS_INSTALLED);
        const time = async (name: string, args: string[]) => {
          platform.resetCount();
          const cpu0 = childrenCpuSeconds();
          const start = performance.now();
          await ws.ok(args, AS_INSTALLED);
          const seconds = (performance.now() - start) / 1000;
          const cpuSeconds = childrenCpuSeconds() - cpu0;
          times[program][name] = [...(times[program][name] ?? []), seconds];
          cpu[program][name] = [...(cpu[program][name] ?? []), cpuSeconds];
          if (program === "mailplane") requests[name] = platform.counts();
          console.error(
            `round ${round + 1} ${program}: ${name} ${seconds.toFixed(1)} s (CPU ${cpuSeconds.toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)})`,
          );
        };
        await time("up", ["up", "--yes", "--skip-preview"]);
        await time("no-op preview", ["preview", "--expect-no-changes"]);
        await time("refresh", ["refresh", "--yes", "--skip-preview"]);
        await ws.ok(["config", "set", "bench:step", "change"], AS_INSTALLED);
        await time("one-object change up", ["up", "--yes", "--skip-preview"]);
        const state = JSON.parse((await ws.ok(["stack", "export"], AS_INSTALLED)).stdout);
        stateBytes[program] = JSON.stringify(state).length;
        shapes[program] = JSON.stringify(shapeOf(treeOf(state)));
        if (shapes.mailplane && shapes.floor && shapes.mailplane !== shapes.floor) {
          throw new Error(
            `the floor's tree is not the DomainTenancy's: update programs/bulk-floor to the model's fields\n  mailplane: ${shapes.mailplane}\n  floor:     ${shapes.floor}`,
          );
        }
        await ws.ok(["destroy", "--yes", "--skip-preview"], AS_INSTALLED);
      } finally {
        await ws.dispose();
        execFileSync("rm", ["-f", join(PROGRAMS[program], `Pulumi.${stack}.yaml`)]);
      }
    }
  }
} finally {
  await platform.close();
}
const pulumi = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
const rows = Object.keys(TARGETS).map((name) => {
  const ours = times.mailplane[name] ?? [];
  const floor = times.floor[name] ?? [];
  const m = median(ours);
  const ratio = median(ours.map((t, i) => t / floor[i]!));
  const target = TARGETS[name]!;
  const calls = Object.entries(requests[name] ?? {})
    .map(([method, n]) => `${n} ${method}`)
    .join(", ");
  return `| ${name} | ${m.toFixed(1)} | ${ours.map((t) => t.toFixed(1)).join(" / ")} | ${median(floor).toFixed(1)} | ${ratio.toFixed(2)} | ${median(cpu.mailplane[name] ?? []).toFixed(1)} | ${median(cpu.floor[name] ?? []).toFixed(1)} | ≤ ${target} | ${m <= target ? "met" : "**not met**"} | ${calls || "none"} |`;
});
const text = [
  "## Provider: bulk mode",
  "",
  `Run ${startedAt.toISOString().slice(0, 10)} with \`npm run bench:bulk -- --count ${count} --rounds ${rounds}\` on ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Pulumi ${pulumi}; 1-minute load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} (a shared machine).`,
  `One DomainTenancy of ${count.toLocaleString("en")} objects: the domain, ${Math.floor((count - 1) / 2).toLocaleString("en")} aliases (two forwards each) and ${Math.ceil((count - 1) / 2).toLocaleString("en")} users, 100 of them with a password (argon2id, hashed on the control plane's thread pool). File backend, SQLite control plane in the bench process, compiled dist/.`,
  `The floor (\`programs/bulk-floor\`) is one plain dynamic resource whose provider does nothing, holding the same properties as the DomainTenancy's state (each object one JSON text with the same fields, the passwords a map of secrets): Pulumi's own cost of a tree that size.`,
  `Each round: for both programs (order alternating), a new stack; first \`up\`, \`preview --expect-no-changes\`, \`refresh\`, then \`up\` of a one-field change of one user. Times are medians of ${rounds} round(s) (mailplane's rounds listed), wall-clock of the whole CLI run; **ratio** is the median of the rounds' mailplane ÷ floor; *CPU s* is user + system time of the CLI and the processes it waited for (program, provider). State after the rounds: ${(stateBytes.mailplane / 1024).toFixed(0)} KiB (mailplane) and ${(stateBytes.floor / 1024).toFixed(0)} KiB (floor), compact JSON of \`pulumi stack export\`.`,
  "",
  "| scenario | mailplane s | rounds s | floor s | ratio | mailplane CPU s | floor CPU s | target s | | requests (last round) |",
  "|---|---:|---|---:|---:|---:|---:|---:|---|---|",
  ...rows,
];
console.log(writeResultsSection("## Provider: bulk mode", text.join("\n")));
