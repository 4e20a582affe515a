/**
 * Scenario "throughput": messages/s accepted by mailplane (full policy, fsynced journal, Maildir
 * delivery running at the same time), smtp-sink (the ceiling) and Haraka (accept + discard), with
 * 2 KB and 100 KB messages over 20 sessions, on reused and on new connections, in one run.
 */
import {
  type Contender,
  type LoadResult,
  median,
  smtpSource,
  startHaraka,
  startMailplane,
  startSmtpSink,
} from "../fixture.ts";

/** One measured cell: contender × size × connection mode, with every round. */
export interface ThroughputRow {
  contender: string;
  size: string;
  mode: "reused" | "new";
  rounds: LoadResult[];
  medianPerSecond: number;
  medianCpuUsPerMessage: number;
}

export interface ThroughputResult {
  rows: ThroughputRow[];
  /** How long mailplane took to deliver its whole backlog to the Maildir after the last load, and its rate. */
  drain: { messages: number; seconds: number; perSecond: number } | null;
}

/** The measured cells; `--loads` picks some by name ("2KB-reused", "100KB-new", …). */
export const LOADS = [
  { name: "2KB-reused", size: 2048, label: "2 KB", mode: "reused" as const, count: 20_000 },
  { name: "2KB-new", size: 2048, label: "2 KB", mode: "new" as const, count: 6_000 },
  { name: "100KB-reused", size: 100 * 1024, label: "100 KB", mode: "reused" as const, count: 3_000 },
  { name: "100KB-new", size: 100 * 1024, label: "100 KB", mode: "new" as const, count: 2_000 },
];

export const SESSIONS = 20;

/** Runs every load `rounds` times against each contender (contenders one after another, same loads). */
export async function run(opts: {
  rounds: number;
  log: (line: string) => void;
  /** Only these contenders (names); default all three. */
  contenders?: string[];
  /** Only these loads (names of {@link LOADS}); default all four. */
  loads?: string[];
  /** Extra node flags for the mailplane process (profiling). */
  nodeFlags?: string[];
}): Promise<ThroughputResult> {
  const rows: ThroughputRow[] = [];
  let drain: ThroughputResult["drain"] = null;
  const starters: [string, () => Promise<Contender>][] = [
    ["smtp-sink", startSmtpSink],
    ["mailplane", () => startMailplane({ nodeFlags: opts.nodeFlags ?? [] })],
    ["Haraka", startHaraka],
  ];
  for (const [name, start] of starters) {
    if (opts.contenders && !opts.contenders.includes(name)) continue;
    const target = await start();
    let accepted = 0;
    try {
      // A short warm-up: JIT, connection pools, the first journal segment.
      await smtpSource(target, { sessions: SESSIONS, count: 2000, size: 2048, reuse: true });
      accepted += 2000;
      for (const load of LOADS.filter((l) => !opts.loads || opts.loads.includes(l.name))) {
        const results: LoadResult[] = [];
        for (let r = 0; r < opts.rounds; r++) {
          const res = await smtpSource(target, {
            sessions: SESSIONS,
            count: load.count,
            size: load.size,
            reuse: load.mode === "reused",
          });
          accepted += load.count;
          results.push(res);
          opts.log(
            `throughput: ${name} ${load.label} ${load.mode} round ${r + 1}: ${res.perSecond.toFixed(0)} msg/s, ${res.cpuUsPerMessage.toFixed(0)} µs CPU/msg`,
          );
        }
        rows.push({
          contender: name,
          size: load.label,
          mode: load.mode,
          rounds: results,
          medianPerSecond: median(results.map((x) => x.perSecond)),
          medianCpuUsPerMessage: median(results.map((x) => x.cpuUsPerMessage)),
        });
      }
      if (target.delivered) {
        // Every accepted message must reach the Maildir; how long the backlog takes is the delivery rate.
        const started = performance.now();
        const from = target.delivered();
        while (target.delivered() < accepted) await new Promise((r) => setTimeout(r, 100));
        const seconds = (performance.now() - started) / 1000;
        drain = {
          messages: accepted - from,
          seconds,
          perSecond: (accepted - from) / Math.max(seconds, 0.001),
        };
        opts.log(
          `throughput: mailplane delivered all ${accepted} accepted messages; the backlog of ${accepted - from} took ${seconds.toFixed(1)} s`,
        );
      }
    } finally {
      await target.stop();
    }
  }
  return { rows, drain };
}
