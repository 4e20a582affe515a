/** Maildir delivery for local users: tmp/ → new/, then the files and new/ synced in batches; one Maildir per user. */
import { closeSync, fdatasync, openSync, renameSync, writevSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { splitMailbox } from "../policy/matchers.ts";
import { fsyncDir } from "../spool/journal.ts";

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

/** A copy written into new/: visible to mail readers now, on disk once `synced` resolves. */
export interface MaildirCopy {
  path: string;
  /** Resolves once the file's data and its entry in new/ are synced; rejects when a sync failed. */
  synced: Promise<void>;
}

interface Unsynced {
  fd: number;
  /** The new/ folder the file was renamed into. */
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
 * Durability is a group commit, as in the journal: a copy's file and its new/ entry are synced
 * together with every other copy written meanwhile (one fdatasync per file, run side by side, then
 * one fsync per new/ folder for the whole batch), and `synced` tells when. The spool keeps the
 * message in its journal until then, so a crash before the sync means a second delivery of the
 * same file name, never a loss (RFC 5321 §6.1). Syncing each copy before its rename cost three more
 * thread-pool round trips and one directory sync per message.
 *
 * @example
 * const store = new MaildirStore("/data/mail");
 * const copy = await store.deliver("alice@example.com", "q1", 0, raw);
 * await copy.synced; // on disk
 */
export class MaildirStore {
  readonly root: string;
  readonly #host = hostname().replace(/\//g, "\\057").replace(/:/g, "\\072");
  readonly #ready = new Map<string, Promise<void>>();
  #unsynced: Unsynced[] = [];
  #syncing: Promise<void> | null = null;

  constructor(root: string) {
    this.root = root;
  }

  #ensure(dir: string): Promise<void> {
    let p = this.#ready.get(dir);
    if (!p) {
      p = (async () => {
        for (const sub of ["tmp", "new", "cur"]) await mkdir(join(dir, sub), { recursive: true });
        // New directories must survive a crash too, or a delivered message could vanish with them.
        await fsyncDir(dir);
        await fsyncDir(join(dir, ".."));
      })();
      p.catch(() => this.#ready.delete(dir));
      this.#ready.set(dir, p);
    }
    return p;
  }

  /**
   * Writes `message` to the user's Maildir (tmp/, then renamed into new/) and returns the copy; its
   * `synced` resolves once it is on disk. `seq` tells copies of one queued message to one user
   * apart (one per target); `generation` is the recipient Domain's lifetime (see {@link maildirOf}).
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
    // the folder's lock (the kernel spins on it). Only the sync, which waits for the disk, goes to
    // the pool.
    const fd = openSync(tmp, "w");
    try {
      let written = 0;
      while (written < size) {
        const chunk = written === 0 ? parts : [Buffer.concat(parts).subarray(written)];
        written += writevSync(fd, chunk, written);
      }
      renameSync(tmp, final);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    const synced = new Promise<void>((resolve, reject) => {
      this.#unsynced.push({ fd, dir: join(dir, "new"), resolve, reject });
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
    const files = await Promise.allSettled(
      batch.map(async (u) => {
        try {
          await new Promise<void>((resolve, reject) =>
            fdatasync(u.fd, (err) => (err ? reject(err) : resolve())),
          );
        } finally {
          closeSync(u.fd);
        }
      }),
    );
    const dirs = new Map<string, Promise<void>>();
    for (const u of batch) if (!dirs.has(u.dir)) dirs.set(u.dir, fsyncDir(u.dir));
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
