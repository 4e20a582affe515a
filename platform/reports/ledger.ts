/** The record of reports and digests sent: one line per send, appended and fsynced, so a restart never sends one twice. */

import { mkdirSync } from "node:fs";
import { appendFile, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { nodeFs } from "../smtp/spool/fs.ts";

/**
 * Which sends happened, by key (`digest|acme|example.com|g1|ana@example.com|2026-W49`). Kept in
 * `<dataDir>/reports-sent.log`: a key is appended (and the file synced) once its notice is durable
 * in the queue, and read back at start. A line torn by a crash is ignored.
 *
 * @example const ledger = await SendLedger.open("/data/smtp/reports-sent.log"); if (!ledger.has(k)) { …; await ledger.record(k); }
 */
export class SendLedger {
  readonly path: string;
  readonly #keys: Set<string>;

  private constructor(path: string, keys: Set<string>) {
    this.path = path;
    this.#keys = keys;
  }

  /** Reads the ledger at `path` (none yet: empty). */
  static async open(path: string): Promise<SendLedger> {
    mkdirSync(dirname(path), { recursive: true });
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    // Only whole lines count: the last one may have been cut by a crash mid-write.
    const lines = text.split("\n").slice(0, -1);
    return new SendLedger(path, new Set(lines.filter((l) => l !== "")));
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Records a send durably: appended, the file fsynced (and its folder, when the file is new). */
  async record(key: string): Promise<void> {
    if (/[\r\n]/.test(key)) throw new Error("a ledger key is one line");
    const created = this.#keys.size === 0;
    await appendFile(this.path, `${key}\n`, { mode: 0o600 });
    const fh = await open(this.path, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (created) await nodeFs.syncDir(dirname(this.path));
    this.#keys.add(key);
  }

  get size(): number {
    return this.#keys.size;
  }
}
