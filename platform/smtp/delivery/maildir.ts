/** Maildir delivery for local users: tmp/ → fsync → new/ → fsync, one Maildir per user under the data directory. */
import { mkdir, open, rename } from "node:fs/promises";
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
 * Where a user's Maildir lives: `<root>/<domain>/<local>/` with `tmp/`, `new/` and `cur/` inside.
 * @example maildirOf("/data/mail", "alice@example.com") // "/data/mail/example.com/alice"
 */
export function maildirOf(root: string, address: string): string {
  const parts = splitMailbox(address);
  if (!parts) throw new Error(`not an address: ${address}`);
  return join(root, safeComponent(parts.domain), safeComponent(parts.local));
}

/**
 * Delivers into Maildirs. The file name is derived from the queue ID and the recipient rather than
 * a random part, so a message the queue delivers again after a crash (its done mark was lost)
 * replaces its own earlier copy in new/ instead of appearing twice. Otherwise it follows the
 * Maildir rules: write in tmp/, sync, rename into new/, sync new/ (one directory sync shared by the
 * deliveries that renamed into it meanwhile).
 *
 * @example
 * const store = new MaildirStore("/data/mail");
 * await store.deliver("alice@example.com", "q1", 0, raw);
 */
export class MaildirStore {
  readonly root: string;
  readonly #host = hostname().replace(/\//g, "\\057").replace(/:/g, "\\072");
  readonly #ready = new Map<string, Promise<void>>();
  readonly #dirSyncs = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();

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
   * Writes `message` to the user's Maildir and returns the file's path in new/. `seq` tells copies
   * of one queued message to one user apart (one per target).
   */
  async deliver(
    address: string,
    queueId: string,
    seq: number,
    message: Buffer | Buffer[],
    receivedAt = Date.now(),
  ): Promise<string> {
    const dir = maildirOf(this.root, address);
    await this.#ensure(dir);
    const parts = Array.isArray(message) ? message : [message];
    const size = parts.reduce((n, p) => n + p.length, 0);
    const name = `${Math.floor(receivedAt / 1000)}.Q${queueId}_${seq}.${this.#host},S=${size}`;
    const tmp = join(dir, "tmp", name);
    const fh = await open(tmp, "w");
    try {
      let written = 0;
      while (written < size) {
        const chunk = written === 0 ? parts : [Buffer.concat(parts).subarray(written)];
        written += (await fh.writev(chunk, written)).bytesWritten;
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }
    const final = join(dir, "new", name);
    await rename(tmp, final);
    await this.#syncDir(join(dir, "new"));
    return final;
  }

  /**
   * fsyncs a directory, sharing syncs between concurrent deliveries (a group commit per folder):
   * a caller waits for a sync that started after its rename, so its entry is covered.
   */
  #syncDir(dir: string): Promise<void> {
    let state = this.#dirSyncs.get(dir);
    if (!state) {
      state = { running: null, next: null };
      this.#dirSyncs.set(dir, state);
    }
    const s = state;
    if (!s.running) {
      s.running = fsyncDir(dir).finally(() => {
        s.running = null;
      });
      return s.running;
    }
    s.next ??= s.running
      .catch(() => {})
      .then(() => {
        s.next = null;
        return this.#syncDir(dir);
      });
    return s.next;
  }
}
