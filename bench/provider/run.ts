/**
 * The provider benchmark: `pulumi up`, a no-op `preview` and `refresh` of N mailplane resources against
 * N no-op dynamic resources (the engine's floor) in the same run, with the real CLI, plus HTTP calls
 * per resource counted at the control plane. Medians go to bench/RESULTS.md ("Provider") and
 * bench/results/provider-*.json.
 *
 *   npm run bench:provider -- [--counts 100,1000] [--rounds 3,1]   (rounds per count, or one for all)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  type BenchPlatform,
  benchStack,
  type ProgramName,
  type Scenario,
  startBenchPlatform,
  timeScenario,
} from "./fixture.ts";

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = dirname(here);
/** The issue's target: mailplane within 1.25× of the floor, ≤ 2 requests per create, 1 per read. */
const TARGET = { ratio: 1.25, createCalls: 2, readCalls: 1 };

interface Sample {
  program: ProgramName;
  count: number;
  round: number;
  ms: Record<string, number>;
  /** Requests at the control plane per scenario (mailplane only; the floor makes none). */
  requests: Record<string, Record<string, number>>;
  /** CPU time of this process — the control plane, since the runner itself only waits — per scenario, ms. */
  serverCpuMs: Record<string, number>;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function loadScenarios(): Promise<Scenario[]> {
  const dir = join(here, "scenarios");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort();
  const out: Scenario[] = [];
  for (const f of files) {
    out.push(((await import(pathToFileURL(join(dir, f)).href)) as { scenario: Scenario }).scenario);
  }
  return out;
}

/** One stack of one program: the scenarios in order (each starts from the state the previous left). */
async function sample(
  program: ProgramName,
  count: number,
  round: number,
  scenarios: Scenario[],
  platform: BenchPlatform,
): Promise<Sample> {
  const stack = await benchStack(program, count, platform);
  const result: Sample = { program, count, round, ms: {}, requests: {}, serverCpuMs: {} };
  try {
    for (const scenario of scenarios) {
      platform.resetCount();
      const cpu = process.cpuUsage();
      result.ms[scenario.name] = await timeScenario(stack.ws, scenario);
      const used = process.cpuUsage(cpu);
      result.serverCpuMs[scenario.name] = (used.user + used.system) / 1000;
      result.requests[scenario.name] = platform.counts();
      console.error(
        `  ${program} × ${count}, round ${round}: ${scenario.name} ${(result.ms[scenario.name]! / 1000).toFixed(1)} s, requests ${JSON.stringify(result.requests[scenario.name])}`,
      );
    }
  } finally {
    await stack.dispose();
  }
  return result;
}

function total(requests: Record<string, number> | undefined): number {
  return Object.values(requests ?? {}).reduce((a, b) => a + b, 0);
}

function machine(): string {
  const cpu = cpus();
  const pulumi = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
  return `${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Pulumi ${pulumi}`;
}

function section(samples: Sample[], scenarios: Scenario[], counts: number[], rounds: number[]): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const lines = [
    "## Provider",
    "",
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:provider\` on ${machine()}.`,
    "Each stack is new (own file backend) and runs the scenarios in order: up, no-op preview, refresh; then it is destroyed.",
    "mailplane's program is one Domain per 100 resources and Aliases (depending on their domain) for the rest;",
    "the floor is the same program — same count, inputs and dependencies — as dynamic resources whose provider does nothing.",
    `Times are wall-clock of the whole CLI run (program included), **medians** of ${counts.map((c, i) => `${rounds[i]} round(s) at ${c}`).join(", ")}, floor and mailplane alternating.`,
    "The control plane runs in the bench process (SQLite, rate limit off) on the same cores as the engine; requests are",
    "counted at its HTTP server and its CPU time is that process's (the runner only waits), to show how much of the gap is the server's.",
    "",
    "| resources | scenario | mailplane s | floor s | ratio | requests (mailplane) | per resource | control plane CPU s |",
    "|---:|---|---:|---:|---:|---|---:|---:|",
  ];
  let worst = 0;
  for (const count of counts) {
    for (const scenario of scenarios) {
      const of = (program: ProgramName) =>
        median(
          samples.filter((x) => x.program === program && x.count === count).map((x) => x.ms[scenario.name]!),
        );
      const mp = of("mailplane");
      const floor = of("floor");
      worst = Math.max(worst, mp / floor);
      const first = samples.find((x) => x.program === "mailplane" && x.count === count);
      const requests = first?.requests[scenario.name];
      const serverCpu = median(
        samples
          .filter((x) => x.program === "mailplane" && x.count === count)
          .map((x) => x.serverCpuMs[scenario.name] ?? 0),
      );
      const byMethod =
        Object.entries(requests ?? {})
          .map(([method, n]) => `${n} ${method}`)
          .join(", ") || "none";
      lines.push(
        `| ${count} | ${scenario.name} | ${s(mp)} | ${s(floor)} | ${(mp / floor).toFixed(2)} | ${byMethod} | ${(total(requests) / count).toFixed(2)} | ${s(serverCpu)} |`,
      );
    }
  }
  const perResource = (name: string) =>
    Math.max(
      ...samples.filter((x) => x.program === "mailplane").map((x) => total(x.requests[name]) / x.count),
    );
  const create = perResource("up");
  const read = perResource("refresh");
  lines.push(
    "",
    `Targets: ≤ ${TARGET.ratio}× the floor — worst ratio in this run **${worst.toFixed(2)}×** (${worst <= TARGET.ratio ? "met" : "not met"}); ` +
      `≤ ${TARGET.createCalls} requests per create — **${create.toFixed(2)}** (${create <= TARGET.createCalls ? "met" : "not met"}); ` +
      `${TARGET.readCalls} per read — **${read.toFixed(2)}** (${read <= TARGET.readCalls ? "met" : "not met"}).`,
    "A create is GET (does it exist? — a create must not take over an object unless `adopt: true`) then PUT;",
    "a read is one GET; a no-op preview makes no requests (check and diff are local).",
    `Scenarios: ${scenarios.map((x) => `*${x.name}*: ${x.description}`).join("; ")}.`,
    "",
  );
  return lines.join("\n");
}

/** Replaces (or appends) the "## Provider" section of bench/RESULTS.md, leaving other sections alone. */
function writeResults(text: string): string {
  const path = join(benchDir, "RESULTS.md");
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmark results\n\n";
  const start = current.indexOf("## Provider");
  let next: string;
  if (start < 0) {
    next = `${current.trimEnd()}\n\n${text}`;
  } else {
    const rest = current.slice(start + 3);
    const end = rest.search(/^## /m);
    next = current.slice(0, start) + text + (end < 0 ? "" : `\n${rest.slice(end)}`);
  }
  writeFileSync(path, `${next.trimEnd()}\n`);
  return path;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      counts: { type: "string", default: "100,1000" },
      // 1,000 resources take minutes per stack (the file backend rewrites the whole checkpoint
      // after each step), so the default repeats only the small size.
      rounds: { type: "string", default: "3,1" },
    },
  });
  const counts = values.counts.split(",").map(Number);
  const roundList = values.rounds.split(",").map(Number);
  const roundsOf = (i: number) => roundList[i] ?? roundList.at(-1)!;
  const scenarios = await loadScenarios();
  const platform = await startBenchPlatform();
  const samples: Sample[] = [];
  try {
    for (const [i, count] of counts.entries()) {
      for (let round = 1; round <= roundsOf(i); round++) {
        // Alternate which program goes first, so neither always runs on a warmer machine.
        const order: ProgramName[] = round % 2 ? ["floor", "mailplane"] : ["mailplane", "floor"];
        for (const program of order) samples.push(await sample(program, count, round, scenarios, platform));
      }
    }
  } finally {
    await platform.close();
  }
  const rounds = counts.map((_, i) => roundsOf(i));
  const text = section(samples, scenarios, counts, rounds);
  mkdirSync(join(benchDir, "results"), { recursive: true });
  const json = join(benchDir, "results", `provider-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(json, JSON.stringify({ counts, rounds, samples }, null, 2));
  console.log(text);
  console.error(`wrote ${writeResults(text)} and ${json}`);
}

await main();
