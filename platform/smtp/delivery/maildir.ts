/** Maildir delivery for local users: written into tmp/, synced, renamed into new/, new/ synced — in batches; one Maildir per user. */
import { hostname } from "node:os";
import { join } from "node:path";
import { splitMailbox } from "../policy/matchers.ts";
import { ensureDir, nodeFs, type SpoolFs } from "../spool/fs.ts";

/** Escapes a path component so any local part is one safe directory name (`a/b` → `a%2Fb`). */
export function safeComponent(value: string): string {
  return value
    .replace(/[^a-z0-9._+-]/gi, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`)
    .replace(/^\./, "%2E");
}

/**
 * Where a user's Maildir lives: `<root>/<domain>@<generation>/<local>/` with `tmp/`, `new/` and
 * `cur/` inside — one folder per lifetime of the Domain (its store generation), so a later Domain
 * of the same name starts with empty mailboxes; `<root>/<domain>/<local>/` for a Domain from
 * before generations (generation '', the default).
 * @example maildirOf("/data/mail", "alice@example.com", "g1f") // "/data/mail/example.com@g1f/alice"
 */
export function maildirOf(root: string, address: string, generation = ""): string {
  const parts = splitMailbox(address);
  if (!parts) throw new Error(`not an address: ${address}`);
  const folder = generation
    ? `${safeComponent(parts.domain)}@${safeComponent(generation)}`
    : safeComponent(parts.domain);
  return join(root, folder, safeComponent(parts.local));
}

/** A copy written into tmp/: in new/ and on disk once `synced` resolves. */
export interface MaildirCopy {
  /** Its path in new/. */
  path: string;
  /** Resolves once the file's data, its rename into new/ and new/ are synced; rejects when any failed. */
  synced: Promise<void>;
}

interface Unsynced {
  fd: number;
  tmp: string;
  final: string;
  /** The new/ folder the file is renamed into. */
  dir: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Written copies whose sync has not started; past this, deliveries wait for the running sync (open files stay bounded). */
const MAX_UNSYNCED = 512;

/**
 * Delivers into Maildirs. The file name is derived from the queue ID and the recipient rather than
 * a random part, so a message the queue delivers again after a crash (its done mark was lost)
 * replaces its own earlier copy in new/ instead of appearing twice. Otherwise it follows the
 * Maildir rules: write in tmp/, rename into new/.
 *
 * Durability is a group commit, as in the journal: copies written meanwhile are synced together —
 * one fdatasync per file, run side by side; then each file is renamed into new/; then one fsync
 * per new/ folder for the whole batch — and `synced` tells when. A file appears in new/ only with
 * its data on disk, so a mail reader never sees a partial message, even after a power cut (a
 * rename can reach the disk before the data it names). The spool keeps the message in its journal
 * until `synced`, so a crash before it means a second delivery of the same file name, never a loss
 * (RFC 5321 §6.1).
 *
 * @example
 * const store = new MaildirStore("/data/mail");
 * const copy = await store.deliver("alice@example.com", "q1", 0, raw);
 * await copy.synced; // in new/, on disk
 */
export class MaildirStore {
  readonly root: string;
  readonly #host = hostname().replace(/\//g, "\\057").replace(/:/g, "\\072");
  readonly #ready = new Map<string, Promise<void>>();
  readonly #fs: SpoolFs;
  #unsynced: Unsynced[] = [];
  #syncing: Promise<void> | null = null;

  /**
   * @param root the folder holding `<domain>/<local>/` Maildirs.
   * @param fs the file system; default node:fs.
   */
  constructor(root: string, fs: SpoolFs = nodeFs) {
    this.root = root;
    this.#fs = fs;
  }

  #ensure(dir: string): Promise<void> {
    let p = this.#ready.get(dir);
    if (!p) {
      p = (async () => {
        // New directories must survive a crash too (each one's parent is synced), or a delivered
        // message could vanish with them.
        for (const sub of ["tmp", "new", "cur"]) await ensureDir(this.#fs, join(dir, sub));
      })();
      p.catch(() => this.#ready.delete(dir));
      this.#ready.set(dir, p);
    }
    return p;
  }

  /**
   * Writes `message` into the user's Maildir tmp/ and returns the copy; its `synced` resolves once
   * it is in new/ and on disk. `seq` tells copies of one queued message to one user apart (one per
   * target); `generation` is the recipient Domain's lifetime (see {@link maildirOf}).
   */
  async deliver(
    address: string,
    queueId: string,
    seq: number,
    message: Buffer | Buffer[],
    receivedAt = Date.now(),
    generation = "",
  ): Promise<MaildirCopy> {
    const dir = maildirOf(this.root, address, generation);
    await this.#ensure(dir);
    while (this.#unsynced.length >= MAX_UNSYNCED) await this.#syncing;
    const parts = Array.isArray(message) ? message : [message];
    const size = parts.reduce((n, p) => n + p.length, 0);
    const name = `${Math.floor(receivedAt / 1000)}.Q${queueId}_${seq}.${this.#host},S=${size}`;
    const tmp = join(dir, "tmp", name);
    const final = join(dir, "new", name);
    // Written on the event loop's thread: creating the file, a page-cache write and the rename are
    // short syscalls, and issued from many pool threads at once the creates in one tmp/ contend on
    // the folder's lock (the kernel spins on it). Only the syncs, which wait for the disk, go to
    // the pool.
    const fs = this.#fs;
    const fd = fs.openSync(tmp, "w");
    try {
      let written = 0;
      while (written < size) {
        const chunk = written === 0 ? parts : [Buffer.concat(parts).subarray(written)];
        written += fs.writevSync(fd, chunk, written);
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    const synced = new Promise<void>((resolve, reject) => {
      this.#unsynced.push({ fd, tmp, final, dir: join(dir, "new"), resolve, reject });
    });
    // Handled here so a failed sync is not an unhandled rejection while the caller still writes
    // other copies; the caller awaits `synced` and sees the error.
    synced.catch(() => {});
    this.#startSync();
    return { path: final, synced };
  }

  /** Resolves once every copy written so far is synced (or failed to sync). */
  async flush(): Promise<void> {
    while (this.#syncing) await this.#syncing;
  }

  /** Starts a sync of every unsynced copy unless one runs; copies written meanwhile form the next batch. */
  #startSync(): void {
    if (this.#syncing || this.#unsynced.length === 0) return;
    const batch = this.#unsynced;
    this.#unsynced = [];
    this.#syncing = this.#sync(batch).finally(() => {
      this.#syncing = null;
      this.#startSync();
    });
  }

  async #sync(batch: Unsynced[]): Promise<void> {
    const fs = this.#fs;
    const files = await Promise.allSettled(
      batch.map(async (u) => {
        try {
          await new Promise<void>((resolve, reject) =>
            fs.fdatasync(u.fd, (err) => (err ? reject(err) : resolve())),
          );
        } finally {
          fs.closeSync(u.fd);
        }
        // Only a file whose data is on disk is renamed into new/.
        fs.renameSync(u.tmp, u.final);
      }),
    );
    const dirs = new Map<string, Promise<void>>();
    for (const u of batch) if (!dirs.has(u.dir)) dirs.set(u.dir, fs.syncDir(u.dir));
    const dirResults = new Map<string, Error | null>();
    for (const [dir, p] of dirs)
      dirResults.set(
        dir,
        await p.then(
          () => null,
          (err: Error) => err,
        ),
      );
    batch.forEach((u, i) => {
      const file = files[i]!;
      const err = file.status === "rejected" ? (file.reason as Error) : dirResults.get(u.dir);
      if (err) u.reject(err);
      else u.resolve();
    });
  }
}
