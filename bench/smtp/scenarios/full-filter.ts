/**
 * Scenario "full filter": mailplane scoring every message with rspamd (`--rspamd-url`) against Haraka
 * with its rspamd plugin — the same rspamd (one, with Redis, started by the bench from the platform's
 * generated config), the same message set (two clean, two spammy: bench/smtp/filter-messages.ts),
 * the same load, and both storing every message in a Maildir with fsyncs. Rounds alternate between
 * the two (the machine is shared, so neither gets all the quiet minutes); rspamd's own scan counter
 * proves that every message was scored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startRspamd } from "../../../platform/smtp/content/rspamd-supervisor.ts";
import { writeFilterMessages } from "../filter-messages.ts";
import {
  type Contender,
  cpuMs,
  type LoadResult,
  median,
  smtpSource,
  startHaraka,
  startMailplane,
} from "../fixture.ts";

/** One round of one contender. */
export interface FullFilterRound extends LoadResult {
  /** rspamd's and Redis' CPU per message, µs (the scanner's cost, paid by both contenders alike). */
  rspamdCpuUsPerMessage: number;
  /** Messages rspamd scanned (its controller's `scanned` counter) per message sent: 1 when every one was scored. */
  scansPerMessage: number;
  /** Seconds after the load until every message was in the Maildir (Haraka stores before its 250: ~0). */
  drainSeconds: number;
  /** The 1-minute load average when the round ended (the machine is shared). */
  load1: number;
}

/** One contender's rounds and medians. */
export interface FullFilterRow {
  contender: "mailplane" | "Haraka";
  rounds: FullFilterRound[];
  medianPerSecond: number;
  medianCpuUsPerMessage: number;
  medianRspamdCpuUsPerMessage: number;
  medianDrainSeconds: number;
  /** messages ÷ (load + drain), median over the rounds. */
  medianEndToEndPerSecond: number;
}

export interface FullFilterResult {
  rows: FullFilterRow[];
  /** Messages per round and the message set's names. */
  messages: number;
  messageSet: string[];
}

/** Parallel sessions in all, split evenly over the message files (the throughput rows use 20 too). */
export const FULL_FILTER_SESSIONS = 20;

/** rspamd's count of scanned messages, from its controller (`/stat`, open to loopback). */
async function rspamdScanned(controllerUrl: string): Promise<number> {
  const res = await fetch(`${controllerUrl}/stat`);
  if (!res.ok) throw new Error(`rspamd ${controllerUrl}/stat answered HTTP ${res.status}`);
  const stat = (await res.json()) as { scanned?: number };
  if (typeof stat.scanned !== "number") throw new Error("rspamd /stat without a scanned count");
  return stat.scanned;
}

/**
 * Runs `rounds` rounds of `count` messages (2 KB-ish, reused connections) against each contender,
 * alternating which goes first.
 */
export async function run(opts: {
  rounds: number;
  /** Messages per round and contender; default 4,000 (1,000 of each message). */
  count?: number;
  log: (line: string) => void;
  /** Node flags for mailplane's process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`; default none. */
  nodeFlags?: string[];
}): Promise<FullFilterResult> {
  const dir = mkdtempSync(join(tmpdir(), "mp-bench-filter-"));
  const files = writeFilterMessages(dir);
  const perFile = Math.max(1, Math.floor((opts.count ?? 4000) / files.length));
  const sessions = Math.max(1, Math.floor(FULL_FILTER_SESSIONS / files.length));
  const count = perFile * files.length;
  opts.log(`full filter: starting rspamd + Redis (generated config in ${dir}/rspamd)`);
  // Both servers reach rspamd's normal worker through its Unix socket: no TCP connection per check.
  const rspamd = await startRspamd({ dir: join(dir, "rspamd"), persist: false, socket: true });
  const contenders: Contender[] = [];
  try {
    const socket = rspamd.socketPath!;
    contenders.push(await startMailplane({ rspamdUrl: `unix:${socket}`, nodeFlags: opts.nodeFlags ?? [] }));
    contenders.push(await startHaraka({ rspamdUrl: rspamd.url, rspamdSocket: socket }));
    const accepted = new Map<string, number>(contenders.map((c) => [c.name, 0]));
    const rspamdCpu = () => {
      const p = rspamd.pids();
      return (p.rspamd ? cpuMs(p.rspamd) : 0) + (p.redis ? cpuMs(p.redis) : 0);
    };
    const round = async (target: Contender, each: number): Promise<FullFilterRound> => {
      const scannedBefore = await rspamdScanned(rspamd.controllerUrl);
      const cpuBefore = cpuMs(target.pid);
      const rspamdBefore = rspamdCpu();
      const started = performance.now();
      await Promise.all(
        files.map((f) => smtpSource(target, { sessions, count: each, size: 0, reuse: true, file: f.path })),
      );
      const seconds = (performance.now() - started) / 1000;
      const messages = each * files.length;
      const cpu = cpuMs(target.pid) - cpuBefore;
      const cpuRspamd = rspamdCpu() - rspamdBefore;
      accepted.set(target.name, accepted.get(target.name)! + messages);
      const drainStarted = performance.now();
      while ((target.delivered?.() ?? 0) < accepted.get(target.name)!) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const drainSeconds = (performance.now() - drainStarted) / 1000;
      const scanned = (await rspamdScanned(rspamd.controllerUrl)) - scannedBefore;
      // A contender that did not have every message scored is not measuring the full filter.
      if (scanned < messages) {
        throw new Error(`full filter: rspamd scanned ${scanned} of ${target.name}'s ${messages} messages`);
      }
      return {
        messages,
        seconds,
        perSecond: messages / seconds,
        cpuUsPerMessage: (cpu * 1000) / messages,
        rspamdCpuUsPerMessage: (cpuRspamd * 1000) / messages,
        scansPerMessage: scanned / messages,
        drainSeconds,
        load1: loadavg()[0]!,
      };
    };
    // Warm-up: JIT, connection pools, rspamd's compiled rules, the first journal segment.
    for (const c of contenders) await round(c, Math.max(1, Math.floor(perFile / 5)));
    const results = new Map<string, FullFilterRound[]>(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) {
        const res = await round(c, perFile);
        results.get(c.name)!.push(res);
        opts.log(
          `full filter: ${c.name} round ${r + 1}: ${res.perSecond.toFixed(0)} msg/s, ${res.cpuUsPerMessage.toFixed(0)} µs CPU/msg ` +
            `(rspamd ${res.rspamdCpuUsPerMessage.toFixed(0)}), all in the Maildir ${res.drainSeconds.toFixed(1)} s later`,
        );
      }
    }
    const rows = contenders.map((c): FullFilterRow => {
      const rs = results.get(c.name)!;
      return {
        contender: c.name as FullFilterRow["contender"],
        rounds: rs,
        medianPerSecond: median(rs.map((x) => x.perSecond)),
        medianCpuUsPerMessage: median(rs.map((x) => x.cpuUsPerMessage)),
        medianRspamdCpuUsPerMessage: median(rs.map((x) => x.rspamdCpuUsPerMessage)),
        medianDrainSeconds: median(rs.map((x) => x.drainSeconds)),
        medianEndToEndPerSecond: median(rs.map((x) => x.messages / (x.seconds + x.drainSeconds))),
      };
    });
    return { rows, messages: count, messageSet: files.map((f) => `${f.name} (${f.kind})`) };
  } finally {
    for (const c of contenders) await c.stop();
    await rspamd.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
