/**
 * Scenario "greeting delay": smtp-server waits a fixed 100 ms before every 220 greeting; with one
 * connection per message that caps a session at 10 messages/s. mailplane replaces the wait
 * (default 0). Measured: new-connection rate with the library's 100 ms and with mailplane's 0.
 */
import { type LoadResult, median, smtpSource, startMailplane } from "../fixture.ts";
import { SESSIONS } from "./throughput.ts";

export interface GreetingRow {
  greetingDelayMs: number;
  medianPerSecond: number;
  /** 20 sessions / delay: the most a client opening one connection per message can reach. */
  ceilingPerSecond: number | null;
  rounds: LoadResult[];
}

export async function run(opts: { rounds: number; log: (line: string) => void }): Promise<GreetingRow[]> {
  const rows: GreetingRow[] = [];
  for (const greetingDelayMs of [100, 0]) {
    const target = await startMailplane({ greetingDelayMs });
    try {
      const rounds: LoadResult[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        const res = await smtpSource(target, { sessions: SESSIONS, count: 2000, size: 2048, reuse: false });
        rounds.push(res);
        opts.log(
          `greeting delay ${greetingDelayMs} ms, round ${r + 1}: ${res.perSecond.toFixed(0)} msg/s on new connections`,
        );
      }
      rows.push({
        greetingDelayMs,
        medianPerSecond: median(rounds.map((x) => x.perSecond)),
        ceilingPerSecond: greetingDelayMs > 0 ? (SESSIONS * 1000) / greetingDelayMs : null,
        rounds,
      });
    } finally {
      await target.stop();
    }
  }
  return rows;
}
