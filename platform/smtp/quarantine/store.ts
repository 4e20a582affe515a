/** The quarantine: held messages on disk (synced), listed, viewed, released, deleted and purged after their days. */
import { join } from "node:path";
import { applyEdits } from "../content/headers.ts";
import { type MessageView, narrowViews, type Owner, viewOf, viewsOfMessage } from "../owners.ts";
import { ensureDir, nodeFs, type SpoolFs } from "../spool/fs.ts";
import { decodeRecord, encodeRecord } from "../spool/journal.ts";
import type { QueuedMessage } from "../spool/queue.ts";

/** One quarantined message as one account sees it (the operations API's entry). */
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

/** A held message as stored: the common fields and every account's view (each sees its own recipients). */
interface StoredEntry extends Omit<QuarantineEntry, "recipients" | "domain"> {
  domain: string | null;
  recipients: string[];
  views: MessageView[];
}

/** Filters of {@link QuarantineStore.list}; all optional, combined with AND. */
export interface QuarantineQuery {
  /** Whose entries: required by the API (an entry is listed for each account it touches). */
  owner?: Owner;
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
  readonly #index = new Map<string, StoredEntry>();
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
        const { entry } = rec.meta as { entry: StoredEntry };
        // Entries held before views existed belong to their domain's pre-generation lifetime.
        entry.views ??= viewsOfMessage({
          domain: entry.domain,
          recipients: entry.recipients.map((address) => ({ address })),
        });
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
    const entry: StoredEntry = {
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
      views: viewsOfMessage(meta),
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
    return publicEntry(entry, entry.views[0]);
  }

  /** Entries matching `query`, newest first. */
  list(query: QuarantineQuery = {}): QuarantineEntry[] {
    const subject = query.subject?.toLowerCase();
    const owner = query.owner;
    return [...this.#index.values()]
      .flatMap((stored) => {
        const view = owner ? viewOf(stored.views, owner) : stored.views[0];
        return view || !owner ? [publicEntry(stored, view)] : [];
      })
      .filter(
        (e) =>
          (!subject || e.subject.toLowerCase().includes(subject)) &&
          (!query.sender || e.sender.toLowerCase().includes(query.sender.toLowerCase())) &&
          (!query.recipient ||
            e.recipients.some((r) => r.toLowerCase().includes(query.recipient!.toLowerCase()))) &&
          (!query.from || e.receivedAt >= query.from) &&
          (!query.to || e.receivedAt < query.to),
      )
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  }

  /** The entry as `owner` sees it; undefined when unknown or none of the owner's business. */
  get(id: string, owner?: Owner): QuarantineEntry | undefined {
    const stored = this.#index.get(id);
    if (!stored) return undefined;
    const view = owner ? viewOf(stored.views, owner) : stored.views[0];
    return view || !owner ? publicEntry(stored, view) : undefined;
  }

  /**
   * Deletes every held message all of whose views belong to lifetimes `ended` says are over (a
   * deleted domain's quarantine); a message another live account also sees stays for that account.
   * Returns the IDs removed.
   */
  async purgeOwners(ended: (owner: Owner) => boolean): Promise<string[]> {
    const gone = [...this.#index.values()]
      .filter((e) => e.views.length > 0 && e.views.every((v) => ended(v.owner)))
      .map((e) => e.id);
    // One folder sync for all of them.
    for (const id of gone) await this.#remove(id);
    if (gone.length > 0) await this.#fs.syncDir(this.dir);
    return gone;
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
    const { entry, message } = rec.meta as { entry: StoredEntry; message: QueuedMessage };
    return { entry: publicEntry(entry, entry.views?.[0]), message, body: Buffer.from(rec.body) };
  }

  /**
   * Keeps a held message for `recipients` only (the others were released): rewrites its file (synced,
   * then renamed over the old one, the folder synced) with the same expiry. False when unknown.
   */
  async keepFor(id: string, recipients: QueuedMessage["recipients"]): Promise<boolean> {
    const held = this.#index.get(id);
    if (!held) return false;
    const rec = decodeRecord(await this.#fs.readFile(join(this.dir, `${id}.msg`)));
    if (!rec) return false;
    const { message } = rec.meta as { message: QueuedMessage };
    const addresses = recipients.map((r) => r.address);
    const views = narrowViews(viewsOfMessage(message), addresses);
    const kept: QueuedMessage = { ...message, recipients, ...(message.views ? { views } : {}) };
    const entry: StoredEntry = { ...held, recipients: addresses, views };
    const path = join(this.dir, `${id}.msg`);
    const fh = await this.#fs.open(`${path}.tmp`, "w");
    try {
      await fh.writev(encodeRecord({ entry, message: kept }, Buffer.from(rec.body)));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.#fs.rename(`${path}.tmp`, path);
    await this.#fs.syncDir(this.dir);
    this.#index.set(id, entry);
    return true;
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

/** A stored entry as one view shows it: only that view's recipients and domain; no other view. */
function publicEntry(stored: StoredEntry, view: MessageView | undefined): QuarantineEntry {
  const { views: _views, ...common } = stored;
  return view ? { ...common, domain: view.owner.domain, recipients: view.recipients } : common;
}
