/**
 * The provider benchmark: `pulumi up`, a no-op `preview` and `refresh` of N mailplane resources against
 * N no-op dynamic resources (the engine's floor) in the same run, with the real CLI, plus HTTP calls
 * per resource counted at the control plane. Results go to bench/RESULTS.md ("Provider") and
 * bench/results/provider-*.json.
 *
 *   npm run bench:provider -- [--counts 100,1000] [--rounds 5,1] [--repeats 5,3]
 *
 * Measurements are taken in pairs — floor then mailplane, or the other way round, alternating — and
 * each ratio is the median of the pairs' ratios, so a burst of load from elsewhere on the machine
 * spoils one pair rather than one side of the comparison.
 */

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { PulumiWorkspace } from "../../test/support/pulumi.ts";
import { writeRawResults, writeResultsSection } from "../results-file.ts";
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

/** One timed run of one scenario on one program's stack. */
interface Measurement {
  program: ProgramName;
  count: number;
  scenario: string;
  /** Pairs floor and mailplane measurements taken back to back. */
  pair: number;
  ms: number;
  /** Requests at the control plane (mailplane only; the floor makes none), by method. */
  requests: Record<string, number>;
  /** CPU time of this process — the control plane, since the runner only waits — in ms. */
  serverCpuMs: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function total(requests: Record<string, number> | undefined): number {
  return Object.values(requests ?? {}).reduce((a, b) => a + b, 0);
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

async function measure(
  ws: PulumiWorkspace,
  program: ProgramName,
  count: number,
  scenario: Scenario,
  pair: number,
  platform: BenchPlatform,
): Promise<Measurement> {
  platform.resetCount();
  const cpu = process.cpuUsage();
  const ms = await timeScenario(ws, scenario);
  const used = process.cpuUsage(cpu);
  const m = {
    program,
    count,
    scenario: scenario.name,
    pair,
    ms,
    requests: platform.counts(),
    serverCpuMs: (used.user + used.system) / 1000,
  };
  console.error(
    `  ${program} × ${count}, ${scenario.name} #${pair}: ${(ms / 1000).toFixed(1)} s, requests ${JSON.stringify(m.requests)}`,
  );
  return m;
}

/**
 * For one size: `rounds` pairs of new stacks measure the non-repeatable scenarios (up); the last
 * pair of stacks then measures each repeatable scenario `repeats` times, in pairs.
 */
async function measureSize(
  count: number,
  rounds: number,
  repeats: number,
  scenarios: Scenario[],
  platform: BenchPlatform,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  let pair = 0;
  for (let round = 1; round <= rounds; round++) {
    const stacks = {
      floor: await benchStack("floor", count, platform),
      mailplane: await benchStack("mailplane", count, platform),
    };
    // Alternate which program goes first, so neither always runs on a warmer machine.
    const order = (n: number): ProgramName[] => (n % 2 ? ["floor", "mailplane"] : ["mailplane", "floor"]);
    try {
      for (const scenario of scenarios.filter((s) => !s.repeatable)) {
        pair++;
        for (const program of order(pair)) {
          out.push(await measure(stacks[program].ws, program, count, scenario, pair, platform));
        }
      }
      if (round === rounds) {
        for (const scenario of scenarios.filter((s) => s.repeatable)) {
          for (let r = 0; r < repeats; r++) {
            pair++;
            for (const program of order(pair)) {
              out.push(await measure(stacks[program].ws, program, count, scenario, pair, platform));
            }
          }
        }
      }
    } finally {
      await stacks.floor.dispose();
      await stacks.mailplane.dispose();
    }
  }
  return out;
}

function machine(): string {
  const cpu = cpus();
  const pulumi = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
  return `${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Pulumi ${pulumi}`;
}

function section(
  measurements: Measurement[],
  scenarios: Scenario[],
  sizes: { count: number; rounds: number; repeats: number }[],
  loads: number[],
): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const lines = [
    "## Provider",
    "",
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:provider\` on ${machine()};`,
    `1-minute load average ${loads.map((l) => l.toFixed(1)).join(" → ")} (start → end: the machine is shared, so times vary run to run).`,
    "mailplane's program is one Domain per 100 resources and Aliases (depending on their domain) for the rest;",
    "the floor is the same program — same count, inputs and dependencies — as dynamic resources whose provider does nothing.",
    "Each `up` runs on new stacks (own file backend); preview and refresh then repeat on the last pair of stacks.",
    `Measurements are paired (floor and mailplane back to back, order alternating): ${sizes
      .map((x) => `${x.rounds} up pair(s) and ${x.repeats} pairs per repeatable scenario at ${x.count}`)
      .join("; ")}.`,
    "Times are medians; **ratio is the median of the pairs' ratios**. Wall-clock of the whole CLI run, program included.",
    "mailplane runs as users get it: compiled `dist/` (built first), not the TypeScript sources.",
    "The control plane runs in the bench process (SQLite, rate limit off) on the same cores as the engine; requests are",
    "counted at its HTTP server and its CPU time is that process's (the runner only waits).",
    "",
    "| resources | scenario | mailplane s | floor s | ratio | requests (mailplane) | per resource | control plane CPU s |",
    "|---:|---|---:|---:|---:|---|---:|---:|",
  ];
  let worst = 0;
  for (const { count } of sizes) {
    for (const scenario of scenarios) {
      const of = (program: ProgramName) =>
        measurements.filter(
          (m) => m.program === program && m.count === count && m.scenario === scenario.name,
        );
      const mp = of("mailplane");
      const floor = of("floor");
      const ratios = mp.map((m) => m.ms / floor.find((f) => f.pair === m.pair)!.ms);
      const ratio = median(ratios);
      worst = Math.max(worst, ratio);
      const requests = mp[0]?.requests;
      const byMethod =
        Object.entries(requests ?? {})
          .map(([method, n]) => `${n} ${method}`)
          .join(", ") || "none";
      lines.push(
        `| ${count} | ${scenario.name} | ${s(median(mp.map((m) => m.ms)))} | ${s(median(floor.map((m) => m.ms)))} | ${ratio.toFixed(2)} | ${byMethod} | ${(total(requests) / count).toFixed(2)} | ${s(median(mp.map((m) => m.serverCpuMs)))} |`,
      );
    }
  }
  const perResource = (name: string) =>
    Math.max(
      ...measurements
        .filter((m) => m.program === "mailplane" && m.scenario === name)
        .map((m) => total(m.requests) / m.count),
    );
  const create = perResource("up");
  const read = perResource("refresh");
  lines.push(
    "",
    `Targets: ≤ ${TARGET.ratio}× the floor — worst ratio in this run **${worst.toFixed(2)}×** (${worst <= TARGET.ratio ? "met" : "not met"}); ` +
      `≤ ${TARGET.createCalls} requests per create — **${create.toFixed(2)}** (${create <= TARGET.createCalls ? "met" : "not met"}); ` +
      `${TARGET.readCalls} per read — **${read.toFixed(2)}** (${read <= TARGET.readCalls ? "met" : "not met"}).`,
    "A create is one PUT with `If-None-Match: *` (and an Idempotency-Key): the platform creates the object, or refuses (412)",
    "to replace one that exists — a create takes nothing over unless `adopt: true`, which reads first;",
    "a read is one GET; a no-op preview makes no requests (check and diff are local).",
    `Scenarios: ${scenarios.map((x) => `*${x.name}*: ${x.description}`).join("; ")}.`,
    "",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      counts: { type: "string", default: "100,1000" },
      // A 1,000-resource `up` takes minutes (the file backend rewrites the whole checkpoint after
      // each step), so the default repeats it once; preview and refresh are cheap to repeat.
      rounds: { type: "string", default: "5,1" },
      repeats: { type: "string", default: "5,3" },
    },
  });
  const list = (text: string) => text.split(",").map(Number);
  const counts = list(values.counts);
  const at = (values: number[], i: number) => values[i] ?? values.at(-1)!;
  const sizes = counts.map((count, i) => ({
    count,
    rounds: at(list(values.rounds), i),
    repeats: at(list(values.repeats), i),
  }));
  const scenarios = await loadScenarios();
  // The programs run mailplane as users get it: compiled (see AS_INSTALLED in fixture.ts).
  console.error("building dist/ (npm run build)");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: dirname(benchDir), stdio: "inherit" });
  const platform = await startBenchPlatform();
  const loads = [loadavg()[0]!];
  const measurements: Measurement[] = [];
  try {
    for (const size of sizes) {
      measurements.push(...(await measureSize(size.count, size.rounds, size.repeats, scenarios, platform)));
    }
  } finally {
    await platform.close();
  }
  loads.push(loadavg()[0]!);
  const text = section(measurements, scenarios, sizes, loads);
  const json = writeRawResults("provider", new Date(), { sizes, measurements });
  console.log(text);
  console.error(`wrote ${writeResultsSection("## Provider", text)} and ${json}`);
}

await main();
