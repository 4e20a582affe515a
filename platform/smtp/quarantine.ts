/** The quarantine: held messages on disk (synced), listed, viewed, released, deleted and purged after their days. */
import { join } from "node:path";
import { applyEdits } from "./content/headers.ts";
import { ensureDir, nodeFs, type SpoolFs } from "./spool/fs.ts";
import { decodeRecord, encodeRecord } from "./spool/journal.ts";
import type { QueuedMessage } from "./spool/queue.ts";

/** One quarantined message as the operations API lists it. */
export interface QuarantineEntry {
  id: string;
  receivedAt: string;
  expiresAt: string;
  domain: string | null;
  sender: string;
  recipients: string[];
  subject: string;
  size: number;
  classification: string;
  reason: string;
  score: number;
}

/** Filters of {@link QuarantineStore.list}; all optional, combined with AND. */
export interface QuarantineQuery {
  domain?: string;
  /** Case-insensitive substring of the subject. */
  subject?: string;
  sender?: string;
  recipient?: string;
  from?: string;
  to?: string;
}

/**
 * Quarantined messages, one file each (`<id>.msg`: the queued message's meta and its bytes), written
 * and synced before the queue forgets the message. The index is in memory, rebuilt from the files
 * at start, so listing never reads message bodies. A file holds the whole message, even when the
 * queue kept its body in a file of its own (that file goes when the queue lets the message go).
 * Deleting syncs the folder, so a released message does not come back after a crash to be released
 * twice.
 *
 * @example
 * const q = await QuarantineStore.open("/data/quarantine");
 * await q.put(meta, raw, 28);
 * q.list({ domain: "example.com" });
 */
export class QuarantineStore {
  readonly dir: string;
  readonly #index = new Map<string, QuarantineEntry>();
  readonly #fs: SpoolFs;

  private constructor(dir: string, fs: SpoolFs) {
    this.dir = dir;
    this.#fs = fs;
  }

  /**
   * Opens (or creates) the quarantine folder and indexes its messages.
   * @param fs the file system; default node:fs.
   */
  static async open(dir: string, fs: SpoolFs = nodeFs): Promise<QuarantineStore> {
    await ensureDir(fs, dir);
    const store = new QuarantineStore(dir, fs);
    for (const file of fs.readdirSync(dir)) {
      if (!file.endsWith(".msg")) continue;
      const rec = decodeRecord(fs.readFileSync(join(dir, file)));
      if (rec) {
        const { entry } = rec.meta as { entry: QuarantineEntry };
        store.#index.set(entry.id, entry);
      }
    }
    return store;
  }

  get size(): number {
    return this.#index.size;
  }

  /** Stores a message durably; `days` is the domain's quarantine period. */
  async put(meta: QueuedMessage, body: Buffer, days: number): Promise<QuarantineEntry> {
    const entry: QuarantineEntry = {
      id: meta.id,
      receivedAt: meta.receivedAt,
      expiresAt: new Date(Date.parse(meta.receivedAt) + days * 86_400_000).toISOString(),
      domain: meta.domain,
      sender: meta.sender,
      recipients: meta.recipients.map((r) => r.address),
      subject: meta.subject,
      size: meta.size,
      classification: meta.classification,
      reason: meta.reason,
      score: meta.score,
    };
    const path = join(this.dir, `${meta.id}.msg`);
    // The body is stored here whole: the queue's own body file is removed once the message is held.
    const { bodyFile: _queued, ...message } = meta;
    const fh = await this.#fs.open(`${path}.tmp`, "w");
    try {
      await fh.writev(encodeRecord({ entry, message }, body));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.#fs.rename(`${path}.tmp`, path);
    await this.#fs.syncDir(this.dir);
    this.#index.set(entry.id, entry);
    return entry;
  }

  /** Entries matching `query`, newest first. */
  list(query: QuarantineQuery = {}): QuarantineEntry[] {
    const subject = query.subject?.toLowerCase();
    return [...this.#index.values()]
      .filter(
        (e) =>
          (!query.domain || e.domain === query.domain) &&
          (!subject || e.subject.toLowerCase().includes(subject)) &&
          (!query.sender || e.sender.includes(query.sender.toLowerCase())) &&
          (!query.recipient || e.recipients.some((r) => r.includes(query.recipient!.toLowerCase()))) &&
          (!query.from || e.receivedAt >= query.from) &&
          (!query.to || e.receivedAt < query.to),
      )
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  }

  get(id: string): QuarantineEntry | undefined {
    return this.#index.get(id);
  }

  /** The message as it would be delivered (with its verdict headers), or undefined. */
  async raw(id: string): Promise<Buffer | undefined> {
    const held = await this.read(id);
    return held ? applyEdits(held.body, held.message.edits) : undefined;
  }

  /** The stored meta and bytes (release re-queues them). */
  async read(
    id: string,
  ): Promise<{ entry: QuarantineEntry; message: QueuedMessage; body: Buffer } | undefined> {
    if (!this.#index.has(id)) return undefined;
    const rec = decodeRecord(await this.#fs.readFile(join(this.dir, `${id}.msg`)));
    if (!rec) return undefined;
    const { entry, message } = rec.meta as { entry: QuarantineEntry; message: QueuedMessage };
    return { entry, message, body: Buffer.from(rec.body) };
  }

  /** Deletes a held message, durably. False when unknown. */
  async delete(id: string): Promise<boolean> {
    if (!(await this.#remove(id))) return false;
    await this.#fs.syncDir(this.dir);
    return true;
  }

  async #remove(id: string): Promise<boolean> {
    if (!this.#index.delete(id)) return false;
    await this.#fs.unlink(join(this.dir, `${id}.msg`)).catch(() => {});
    return true;
  }

  /** Deletes every message past its quarantine days (one folder sync for all); returns the IDs removed. */
  async purge(now = new Date()): Promise<string[]> {
    const expired = [...this.#index.values()]
      .filter((e) => e.expiresAt <= now.toISOString())
      .map((e) => e.id);
    for (const id of expired) await this.#remove(id);
    if (expired.length > 0) await this.#fs.syncDir(this.dir);
    return expired;
  }
}
