/** The spool's deferred/ folder: a message waiting for its next attempt, in a record file of its own, with its retry state beside it. */
import { join } from "node:path";
import type { SpoolFs } from "./fs.ts";
import type { QueuedMessage, TargetState } from "./queued-message.ts";
import { decodeRecord, encodeRecord } from "./record.ts";
import { readOrLost, UnreadableMessageError } from "./retry-policy.ts";

/** A deferred message's retry bookkeeping (`<id>.state`, beside its `<id>.msg`). */
export interface RetryState {
  pending: TargetState[];
  nextAttemptAt: number;
}

/**
 * The deferred/ folder. A message's copy (`<id>.msg`, a record) is written, synced, renamed into
 * place and the folder synced: it is durable, so the journal may forget the message. Its retry
 * state is not synced: losing it only means an earlier retry.
 * @example
 * const folder = new DeferredFolder(nodeFs, "/var/spool/mailplane/deferred");
 * const path = await folder.write(meta, body); // durable now: the journal may forget the message
 * await folder.writeState(path, { pending, nextAttemptAt });
 */
export class DeferredFolder {
  readonly dir: string;
  readonly #fs: SpoolFs;

  constructor(fs: SpoolFs, dir: string) {
    this.#fs = fs;
    this.dir = dir;
  }

  /** The messages a previous run left here, with their retry state when it survived. */
  *recover(): Generator<{ meta: QueuedMessage; path: string; state: RetryState | undefined }> {
    const fs = this.#fs;
    for (const file of fs.readdirSync(this.dir)) {
      if (!file.endsWith(".msg")) continue;
      const path = join(this.dir, file);
      // Written, synced and renamed into place whole: one that does not decode was never renamed.
      const rec = decodeRecord(fs.readFileSync(path));
      if (!rec) continue;
      const meta = rec.meta as QueuedMessage;
      let state: RetryState | undefined;
      try {
        state = JSON.parse(fs.readFileSync(path.replace(/\.msg$/, ".state")).toString("utf8"));
      } catch {
        // state is not synced; without it every target is retried now
      }
      yield { meta, path, state };
    }
  }

  /** Writes a message's copy and resolves once it is durable; returns its path. */
  async write(meta: QueuedMessage, body: Buffer): Promise<string> {
    const path = join(this.dir, `${meta.id}.msg`);
    const tmp = `${path}.tmp`;
    const fh = await this.#fs.open(tmp, "w");
    try {
      await fh.writev(encodeRecord(meta, body));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.#fs.rename(tmp, path);
    await this.#fs.syncDir(this.dir);
    return path;
  }

  /** Replaces the retry state beside the copy at `path`. Not synced: losing it only means an earlier retry. */
  async writeState(path: string, state: RetryState): Promise<void> {
    const statePath = path.replace(/\.msg$/, ".state");
    await this.#fs.writeFile(`${statePath}.tmp`, JSON.stringify(state));
    await this.#fs.rename(`${statePath}.tmp`, statePath);
  }

  /** Reads back the body of the copy at `path`; {@link UnreadableMessageError} when it is gone or corrupt. */
  async readBody(path: string, id: string): Promise<Buffer> {
    const rec = decodeRecord(await readOrLost(this.#fs, path, `deferred message ${id}`));
    if (!rec) throw new UnreadableMessageError(`deferred message ${id} fails its checksum`);
    return Buffer.from(rec.body);
  }

  /** Removes the copy at `path` and its state; `sync` syncs the removal (an operator's delete, a spilled body). */
  async remove(path: string, sync: boolean): Promise<void> {
    await this.#fs.unlink(path).catch(() => {});
    await this.#fs.unlink(path.replace(/\.msg$/, ".state")).catch(() => {});
    if (sync) await this.#fs.syncDir(this.dir);
  }
}
