/**
 * Scenario "throughput": messages/s accepted by mailplane (full policy, fsynced Maildir copy before the 250), smtp-sink
 * (the ceiling), Haraka (accept + discard) and smtp-server with empty handlers (the library mailplane
 * is built on, running empty), with 2 KB and 100 KB messages over 20 sessions, on reused and on new
 * connections, in one run. After each of mailplane's rounds the bench waits until every accepted
 * message is in the Maildir and reports that time too, so each round starts from an empty queue and
 * the cost of delivery is shown beside the rate of acceptance.
 */
import {
  type Contender,
  type LoadResult,
  median,
  smtpSource,
  startBareSmtpServer,
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
  /**
   * mailplane only: seconds from the end of a round until all its messages were in the Maildir, and
   * messages ÷ (load + that time) — the rate with delivery included (medians over the rounds).
   */
  medianDrainSeconds?: number;
  medianEndToEndPerSecond?: number;
}

export interface ThroughputResult {
  rows: ThroughputRow[];
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
  /** Only these contenders (names); default all four. */
  contenders?: string[];
  /** Only these loads (names of {@link LOADS}); default all four. */
  loads?: string[];
  /** Extra node flags for the mailplane process (profiling). */
  nodeFlags?: string[];
}): Promise<ThroughputResult> {
  const rows: ThroughputRow[] = [];
  const starters: [string, () => Promise<Contender>][] = [
    ["smtp-sink", startSmtpSink],
    ["mailplane", () => startMailplane({ nodeFlags: opts.nodeFlags ?? [] })],
    ["Haraka", startHaraka],
    ["smtp-server (bare)", startBareSmtpServer],
  ];
  for (const [name, start] of starters) {
    if (opts.contenders && !opts.contenders.includes(name)) continue;
    const target = await start();
    let accepted = 0;
    // mailplane delivers what it accepted: wait until the Maildir holds all of it; seconds taken.
    const drain = async (): Promise<number> => {
      if (!target.delivered) return 0;
      const started = performance.now();
      while (target.delivered() < accepted) await new Promise((r) => setTimeout(r, 50));
      return (performance.now() - started) / 1000;
    };
    try {
      // A short warm-up: JIT, connection pools, the first journal segment.
      await smtpSource(target, { sessions: SESSIONS, count: 2000, size: 2048, reuse: true });
      accepted += 2000;
      await drain();
      for (const load of LOADS.filter((l) => !opts.loads || opts.loads.includes(l.name))) {
        if (name === "smtp-server (bare)" && load.mode === "new") continue;
        const results: LoadResult[] = [];
        const drains: number[] = [];
        for (let r = 0; r < opts.rounds; r++) {
          const res = await smtpSource(target, {
            sessions: SESSIONS,
            count: load.count,
            size: load.size,
            reuse: load.mode === "reused",
          });
          accepted += load.count;
          results.push(res);
          const drained = await drain();
          drains.push(drained);
          opts.log(
            `throughput: ${name} ${load.label} ${load.mode} round ${r + 1}: ${res.perSecond.toFixed(0)} msg/s, ${res.cpuUsPerMessage.toFixed(0)} µs CPU/msg` +
              (target.delivered ? `, all delivered ${drained.toFixed(1)} s later` : ""),
          );
        }
        rows.push({
          contender: name,
          size: load.label,
          mode: load.mode,
          rounds: results,
          medianPerSecond: median(results.map((x) => x.perSecond)),
          medianCpuUsPerMessage: median(results.map((x) => x.cpuUsPerMessage)),
          ...(target.delivered
            ? {
                medianDrainSeconds: median(drains),
                medianEndToEndPerSecond: median(results.map((x, i) => x.messages / (x.seconds + drains[i]!))),
              }
            : {}),
        });
      }
    } finally {
      await target.stop();
    }
  }
  return { rows };
}
