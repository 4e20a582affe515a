/**
 * Scenario "scale": RCPT lookup time, policy build time and memory with 10 → 100,000 aliases in a
 * domain, on the engine's in-memory snapshot. Runs in its own Node process with --expose-gc so the
 * heap numbers are the snapshot's, not the benchmark's.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { rcptTo } from "../../../platform/smtp/phases/rcpt-to.ts";
import { buildPolicySnapshot, type TenancyInput } from "../../../platform/smtp/policy/snapshot.ts";
import { newTransaction } from "../../../platform/smtp/session.ts";

export interface ScaleRow {
  aliases: number;
  buildMs: number;
  /** Median time of one RCPT TO resolution (alias → user), ns. */
  lookupNs: number;
  /** Heap held by the declared objects and the snapshot built from them, MiB. */
  heapMiB: number;
}

const SIZES = [10, 100, 1_000, 10_000, 100_000];

function tenancy(aliases: number): TenancyInput {
  const domain = "scale.example";
  return {
    revision: 1,
    accounts: [
      {
        id: "scale",
        domains: [{ name: domain, verified: true }],
        users: [{ address: `user@${domain}` }],
        aliases: Array.from({ length: aliases }, (_, i) => ({
          address: `alias${i}@${domain}`,
          action: { type: "forward" as const, to: [`user@${domain}`] },
        })),
      },
    ],
  };
}

/** Measures one size; called in the child process. */
function measureOne(aliases: number): ScaleRow {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  // The declared objects count too: the store-fed engine keeps them beside the snapshot.
  const before = process.memoryUsage().heapUsed;
  const input = tenancy(aliases);
  const t0 = performance.now();
  const snapshot = buildPolicySnapshot(input);
  const buildMs = performance.now() - t0;
  gc();
  const heapMiB = (process.memoryUsage().heapUsed - before) / (1024 * 1024);
  const conn = {
    id: "s",
    listener: "inbound" as const,
    remoteAddress: "192.0.2.1",
    helo: "x",
    secure: false,
    user: null,
  };
  const tx = newTransaction("sender@outside.example", null);
  const samples: number[] = [];
  for (let round = 0; round < 20; round++) {
    const n = 20_000;
    const t = performance.now();
    for (let i = 0; i < n; i++) rcptTo(snapshot, conn, tx, `alias${(i * 7919) % aliases}@scale.example`);
    samples.push(((performance.now() - t) * 1e6) / n);
  }
  samples.sort((a, b) => a - b);
  // Keep the snapshot (and its input) alive until after the heap was measured.
  if (snapshot.counts.aliases !== aliases || input.accounts.length !== 1)
    throw new Error("snapshot lost aliases");
  return { aliases, buildMs, lookupNs: samples[Math.floor(samples.length / 2)]!, heapMiB };
}

export async function run(opts: { log: (line: string) => void }): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const aliases of SIZES) {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--expose-gc", join(import.meta.dirname, "scale.ts"), String(aliases)],
        (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
      ),
    );
    const row = JSON.parse(out) as ScaleRow;
    opts.log(
      `scale: ${aliases} aliases: lookup ${row.lookupNs.toFixed(0)} ns, build ${row.buildMs.toFixed(1)} ms, heap ${row.heapMiB.toFixed(1)} MiB`,
    );
    rows.push(row);
  }
  return rows;
}

// Child mode: `node --expose-gc scale.ts <aliases>` prints one row as JSON.
if (process.argv[1] === import.meta.filename && process.argv[2]) {
  process.stdout.write(JSON.stringify(measureOne(Number(process.argv[2]))));
}
