/**
 * The control-plane benchmark: every scenario in bench/api/scenarios/ against the control plane and
 * against bare fastify answering the same JSON, in the same run, load from wrk (a separate process);
 * medians of several rounds go to bench/RESULTS.md ("Control plane") and bench/results/api-*.json.
 *
 *   npm run bench:api -- [--store sqlite|postgres|both] [--rounds 5] [--seconds 8] [--connections 32]
 */

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeRawResults, writeResultsSection } from "../results-file.ts";
import { type Fixture, type Scenario, startBare, startFixture } from "./fixture.ts";
import { type WrkResult, wrk } from "./wrk.ts";

const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  scenario: string;
  kind: "read" | "write";
  description: string;
  store: string;
  mailplane: Measured[];
  bare: Measured[];
}

/** A wrk result plus the server's CPU time per request, in µs. */
type Measured = WrkResult & { cpuUsPerRequest: number };

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
  for (const f of files)
    out.push(((await import(pathToFileURL(join(dir, f)).href)) as { scenario: Scenario }).scenario);
  // Reads first, then writes (writes change the data the reads see, not their size).
  return out.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "read" ? -1 : 1));
}

async function postgresUrl(): Promise<{ url: string; stop: () => void }> {
  const given = process.env.MAILPLANE_BENCH_POSTGRES_URL;
  if (given) return { url: given, stop: () => {} };
  const { startPostgres } = await import("../../test/support/postgres.ts");
  const server = await startPostgres();
  return { url: server.url, stop: () => server.stop() };
}

async function measure(
  store: "sqlite" | "postgres",
  scenarios: Scenario[],
  opts: { rounds: number; seconds: number; connections: number },
): Promise<Row[]> {
  const pg = store === "postgres" ? await postgresUrl() : undefined;
  const fixture: Fixture = await startFixture({ databaseUrl: pg?.url });
  const rows: Row[] = [];
  try {
    for (const s of scenarios) {
      const bareSpec = await s.bare(fixture);
      const bare = await startBare(bareSpec.routes);
      const row: Row = {
        scenario: s.name,
        kind: s.kind,
        description: s.description,
        store,
        mailplane: [],
        bare: [],
      };
      const load = { seconds: opts.seconds, connections: opts.connections, threads: 1 };
      try {
        // Warm both (JIT, connection pools, statement caches) before measuring.
        await wrk(bare.url, bareSpec.load, { ...load, seconds: 2 });
        await wrk(fixture.url, s.load(fixture), { ...load, seconds: 2 });
        for (let round = 0; round < opts.rounds; round++) {
          // Alternate the order, so drift over the run does not favour one side.
          const order = round % 2 === 0 ? ["bare", "mailplane"] : ["mailplane", "bare"];
          for (const side of order) {
            // Both servers live in this process and only one is loaded at a time, so this process's CPU
            // time per answered request is the server's cost — a number other load on the machine barely moves.
            const cpu = process.cpuUsage();
            const measured =
              side === "bare"
                ? await wrk(bare.url, bareSpec.load, load)
                : await wrk(fixture.url, s.load(fixture), load);
            const used = process.cpuUsage(cpu);
            const result = { ...measured, cpuUsPerRequest: (used.user + used.system) / measured.requests };
            (side === "bare" ? row.bare : row.mailplane).push(result);
            process.stderr.write(
              `  ${store} ${s.name} ${side} round ${round + 1}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, ${result.cpuUsPerRequest.toFixed(1)} µs CPU/req${result.errors ? `, ${result.errors} errors` : ""}\n`,
            );
          }
        }
      } finally {
        await bare.close();
      }
      rows.push(row);
    }
  } finally {
    await fixture.close();
    pg?.stop();
  }
  return rows;
}

function machine(): string {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  return `${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average at the end ${load}`;
}

function section(rows: Row[], opts: { rounds: number; seconds: number; connections: number }): string {
  const f0 = (n: number) => n.toFixed(0);
  const f2 = (n: number) => n.toFixed(2);
  const lines = [
    "## Control plane",
    "",
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:api\` on ${machine()}.`,
    `Load: wrk (1 thread, ${opts.connections} connections, ${opts.seconds} s per measurement, keep-alive) from a separate process;`,
    `${opts.rounds} rounds per scenario alternating control plane and bare fastify; the numbers are the **medians** of the rounds.`,
    "Bare fastify answers the very same JSON bodies from a trivial route (no auth, store, validation or rendering).",
    "Rate limiting is off for the run. SQLite runs with `synchronous=FULL` (every write is fsynced before the answer).",
    "*CPU µs/req* is the server process's CPU time per answered request (both servers run in the runner, one loaded at a",
    "time; wrk is a separate process); *ratio by CPU* = bare CPU / control-plane CPU, the throughput ratio on a machine",
    "with a core to spare — the req/s ratio also absorbs whatever else the machine was doing.",
    "",
    "| store | scenario | kind | control plane req/s | p99 ms | CPU µs/req | bare fastify req/s | p99 ms | CPU µs/req | ratio req/s | ratio by CPU | errors |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const mp = median(r.mailplane.map((x) => x.requestsPerSecond));
    const bare = median(r.bare.map((x) => x.requestsPerSecond));
    const mpCpu = median(r.mailplane.map((x) => x.cpuUsPerRequest));
    const bareCpu = median(r.bare.map((x) => x.cpuUsPerRequest));
    const errors = r.mailplane.reduce((a, x) => a + x.errors, 0);
    lines.push(
      `| ${r.store} | ${r.scenario} | ${r.kind} | ${f0(mp)} | ${f2(median(r.mailplane.map((x) => x.p99Ms)))} | ${f0(mpCpu)} | ${f0(bare)} | ${f2(median(r.bare.map((x) => x.p99Ms)))} | ${f0(bareCpu)} | ${f2(mp / bare)} | ${f2(bareCpu / mpCpu)} | ${errors} |`,
    );
  }
  const ratio = (r: Row) =>
    median(r.mailplane.map((x) => x.requestsPerSecond)) / median(r.bare.map((x) => x.requestsPerSecond));
  const cpuRatio = (r: Row) =>
    median(r.bare.map((x) => x.cpuUsPerRequest)) / median(r.mailplane.map((x) => x.cpuUsPerRequest));
  const perStore = [...new Set(rows.map((r) => r.store))].map((store) => {
    const reads = rows.filter((r) => r.store === store && r.kind === "read");
    const worst = Math.min(...reads.map(ratio));
    const worstCpu = Math.min(...reads.map(cpuRatio));
    return `${store} **${worst.toFixed(2)}×** req/s, ${worstCpu.toFixed(2)}× by CPU (${worst >= 0.5 ? "met" : "not met"})`;
  });
  lines.push("", `Target: reads ≥ 0.5× bare fastify. Lowest read ratio per store: ${perStore.join("; ")}.`);
  lines.push(
    "Scenarios: " +
      rows
        .filter((r, i, a) => a.findIndex((x) => x.scenario === r.scenario) === i)
        .map((r) => `*${r.scenario}*: ${r.description}`)
        .join("; ") +
      ".",
    "",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: "string", default: "both" },
      rounds: { type: "string", default: "5" },
      seconds: { type: "string", default: "8" },
      connections: { type: "string", default: "32" },
    },
  });
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error("wrk is not installed: apt-get install -y wrk");
    }
  }
  const opts = {
    rounds: Number(values.rounds),
    seconds: Number(values.seconds),
    connections: Number(values.connections),
  };
  const stores =
    values.store === "both" ? (["sqlite", "postgres"] as const) : [values.store as "sqlite" | "postgres"];
  const scenarios = await loadScenarios();
  const rows: Row[] = [];
  for (const store of stores) {
    process.stderr.write(`store ${store}\n`);
    rows.push(...(await measure(store, scenarios, opts)));
  }
  const json = writeRawResults("api", new Date(), { machine: machine(), options: opts, rows });
  const text = section(rows, opts);
  process.stdout.write(`${text}\n`);
  process.stderr.write(`wrote ${writeResultsSection("## Control plane", text)} and ${json}\n`);
}

await main();
