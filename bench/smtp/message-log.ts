/**
 * The message log with a million entries: heap while writing them and after a restart that streams
 * the files back, against the in-memory cap. Numbers are reported, never asserted.
 *
 *   node --expose-gc bench/smtp/message-log.ts [--entries 1000000] [--in-memory 100000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LogFields } from "../../platform/smtp/message-log/entry.ts";
import { FileMessageLog } from "../../platform/smtp/message-log/log.ts";
import type { Owner } from "../../platform/smtp/owners.ts";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "1000000" },
    "in-memory": { type: "string", default: "100000" },
  },
});
const entries = Number(values.entries);
const inMemory = Number(values["in-memory"]);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heapMiB = () => {
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
};

const owners: Owner[] = Array.from({ length: 10 }, (_, i) => ({
  accountId: `acct${i}`,
  domain: `d${i}.example`,
  generation: `g${i}`,
}));
const dir = mkdtempSync(join(tmpdir(), "mp-log-bench-"));
const start = Date.now();
const fields = (i: number): LogFields => ({
  id: `m${i}`,
  at: new Date(start - (entries - i) * 1_000).toISOString(),
  listener: "inbound",
  clientIp: "192.0.2.1",
  clientHelo: "client.example",
  sender: `sender${i % 1000}@outside.example`,
  subject: `message ${i}`,
  messageId: `<${i}@outside.example>`,
  size: 2_048,
  classification: "clean",
  action: "accepted",
  reply: `250 2.0.0 Ok: queued as m${i}`,
  score: 0,
  delivery: "queued",
  deliveryDetail: null,
});

const open = () => FileMessageLog.open({ dir, retentionDays: () => 3650, maxEntriesInMemory: inMemory });
const before = heapMiB();
let log: FileMessageLog | null = await open();
for (let i = 0; i < entries; i++) {
  const owner = owners[i % owners.length]!;
  log.record(fields(i), [{ owner, recipients: [`user${i % 100}@${owner.domain}`] }]);
  if (i % 1024 === 1023) await log.flush();
}
await log.close();
const afterWrite = heapMiB();
// Dropped before the restart, so the heap measured next is the reopened log's alone.
log = null;
const t0 = performance.now();
const again = await open();
const openMs = Math.round(performance.now() - t0);
const afterOpen = heapMiB();
const t1 = performance.now();
const oldest = await again.search(owners[0]!, { subject: "message 0", limit: 1 });
const searchMs = Math.round(performance.now() - t1);
console.log(
  JSON.stringify({
    entries,
    inMemoryCap: inMemory,
    entriesInMemory: again.entriesInMemory,
    heapMiB: { before, afterWrite, afterOpen },
    openMs,
    fileSearchMs: searchMs,
    oldestFound: oldest.length,
  }),
);
await again.close();
rmSync(dir, { recursive: true, force: true });
