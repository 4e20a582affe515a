/** The delivery queue: accepted messages from the journal, retries with back-off, bounces when time runs out. */
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { DeferredFolder } from "./deferred-folder.ts";
import { DeliverySchedule } from "./delivery-schedule.ts";
import { ensureDir, nodeFs, type SpoolFs } from "./fs.ts";
import { Journal } from "./journal.ts";
import { type QueueEntry, recoverEntries } from "./queue-entry.ts";
import {
  type Bounce,
  type Deliver,
  type DeliveryOutcome,
  deliversToMailboxesOnly,
  initialTargets,
  type Quarantine,
  type QueuedMessage,
  type QueueView,
  type TargetState,
} from "./queued-message.ts";
import {
  lostBytesFailures,
  readOrLost,
  retryDelay,
  sortOutcomes,
  UnreadableMessageError,
} from "./retry-policy.ts";

/** Queue options; all durations in milliseconds. */
export interface QueueOptions {
  dir: string;
  deliver: Deliver;
  quarantine: Quarantine;
  bounce: Bounce;
  /** First retry delay; doubles per attempt. Default 60,000 (1 minute). */
  retryBaseMs?: number;
  /** Longest retry delay. Default 3,600,000 (1 hour). */
  retryMaxMs?: number;
  /** How long a target may keep failing before it bounces, per domain (Domain.maxRetryDays); default 4 days. */
  maxRetryMs?: (domain: string | null) => number;
  /** Messages delivered at once. Default 8. */
  concurrency?: number;
  /**
   * Messages delivered at once while clients are handing messages in (one was accepted in the last
   * 250 ms) and the oldest due message has waited `burstHoldMs`. Default 2.
   */
  busyConcurrency?: number;
  /**
   * How long a due message may wait while clients are handing messages in. Receiving and delivering
   * share one thread: a burst is taken in first — durably, on disk — and delivered as it ebbs, or
   * at `busyConcurrency` once its oldest message waited this long, so a burst that never ends
   * still delivers. Default 5,000.
   */
  burstHoldMs?: number;
  /** Bytes of message bodies kept in memory for delivery; beyond it bodies are re-read from disk. Default 64 MiB. */
  memoryBudget?: number;
  /** Size of a journal segment file; default 32 MiB. */
  journalSegmentBytes?: number;
  /** The file system; default node:fs (tests pass a power-loss simulator). */
  fs?: SpoolFs;
  now?: () => number;
}

/**
 * The queue. Accepted messages arrive through {@link Queue.accept}, which resolves once the journal
 * made them durable — the moment the engine may answer 250. Delivery then runs in the background:
 * each message's targets are tried; delivered and permanently failed ones are settled (failures
 * bounce), and the rest retry with exponential back-off from a deferred/ file until the domain's
 * retry time runs out, when they bounce too. Nothing leaves the queue before it was delivered,
 * quarantined, bounced or deleted by an operator.
 *
 * A message whose bytes cannot be read any more ({@link UnreadableMessageError}: its body file is
 * gone, its record fails its checksum) is not retried forever: every pending target fails with
 * 5.3.0 and the sender gets a DSN (without the content, which is lost), and the queue emits `error`
 * so the engine logs it. Other internal errors (a full disk) are retried after `retryBaseMs`.
 *
 * Events: `delivered`, `deferred`, `failed`, `quarantined`, `settled` (message left the queue).
 */
export class Queue extends EventEmitter {
  readonly dir: string;
  readonly bodiesDir: string;
  readonly #deferred: DeferredFolder;
  readonly #opts: Required<
    Omit<QueueOptions, "dir" | "deliver" | "quarantine" | "bounce" | "fs" | "journalSegmentBytes">
  >;
  readonly #deliver: Deliver;
  readonly #quarantine: Quarantine;
  readonly #bounce: Bounce;
  /** The file system the spool writes through (receiving spills large bodies with it too). */
  readonly fs: SpoolFs;
  readonly #segmentBytes: number | undefined;
  #journal!: Journal;
  readonly #entries = new Map<string, QueueEntry>();
  readonly #schedule: DeliverySchedule<QueueEntry>;
  /** Bytes of bodies kept in memory (bounded by the memory budget). */
  #memory = 0;

  private constructor(opts: QueueOptions) {
    super();
    this.dir = opts.dir;
    this.bodiesDir = join(opts.dir, "bodies");
    this.#deliver = opts.deliver;
    this.#quarantine = opts.quarantine;
    this.#bounce = opts.bounce;
    this.fs = opts.fs ?? nodeFs;
    this.#deferred = new DeferredFolder(this.fs, join(opts.dir, "deferred"));
    this.#segmentBytes = opts.journalSegmentBytes;
    this.#opts = {
      retryBaseMs: opts.retryBaseMs ?? 60_000,
      retryMaxMs: opts.retryMaxMs ?? 3_600_000,
      maxRetryMs: opts.maxRetryMs ?? (() => 4 * 86_400_000),
      concurrency: opts.concurrency ?? 8,
      busyConcurrency: Math.min(opts.busyConcurrency ?? 2, opts.concurrency ?? 8),
      burstHoldMs: opts.burstHoldMs ?? 5_000,
      memoryBudget: opts.memoryBudget ?? 64 * 1024 * 1024,
      now: opts.now ?? Date.now,
    };
    this.#schedule = new DeliverySchedule({
      entries: this.#entries,
      start: (e, release) => this.#process(e, release),
      concurrency: this.#opts.concurrency,
      busyConcurrency: this.#opts.busyConcurrency,
      burstHoldMs: this.#opts.burstHoldMs,
      now: this.#opts.now,
    });
  }

  /** Opens the spool in `opts.dir`, recovers what a previous run left and starts delivering it. */
  static async open(opts: QueueOptions): Promise<Queue> {
    const q = new Queue(opts);
    const fs = q.fs;
    await ensureDir(fs, q.bodiesDir);
    await ensureDir(fs, q.#deferred.dir);
    const { journal, recovered } = await Journal.open(
      join(opts.dir, "journal"),
      q.#segmentBytes,
      undefined,
      fs,
    );
    q.#journal = journal;
    const { entries, known } = recoverEntries(q.#deferred, journal, recovered);
    for (const e of entries) q.#add(e);
    q.#cleanBodies(known);
    q.#schedule.pump();
    return q;
  }

  /** Number of messages in the queue. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Makes a message durable and queues it. Resolves when it is on disk (answer 250 then); rejects
   * when the spool cannot write (answer 451). `body` may be the chunks it arrived in.
   * @param syncDirs directories whose entries must be synced in the same commit (large bodies).
   */
  async accept(
    meta: QueuedMessage,
    body: Buffer | readonly Buffer[],
    syncDirs: string[] = [],
    pending: TargetState[] = initialTargets(meta),
  ): Promise<void> {
    this.#schedule.accepted();
    const parts = Buffer.isBuffer(body) ? [body] : body;
    const ref = await this.#journal.append(meta, meta.bodyFile ? [] : parts, syncDirs);
    const length = parts.reduce((n, p) => n + p.length, 0);
    const keep = !meta.bodyFile && this.#memory + length <= this.#opts.memoryBudget;
    if (keep) this.#memory += length;
    this.#add({
      meta,
      ref,
      deferredPath: null,
      // Joined only when kept: past the budget (a burst of large messages) delivery reads the journal.
      body: keep ? (Buffer.isBuffer(body) ? body : Buffer.concat(parts, length)) : null,
      pending,
      nextAttemptAt: 0,
      running: false,
      deleted: false,
      dueSince: 0,
    });
    this.#schedule.pump();
  }

  /**
   * Accepts a message like {@link accept}, but delivers it first when every target is a local
   * mailbox and it is to be delivered (not quarantined, body in memory): the Maildir copies are
   * written, fdatasynced, renamed into new/ and new/ synced before this resolves — durable as the
   * journal record would be (RFC 5321 §6.1), without writing the message twice. Targets not
   * delivered that way (a write error, a mailbox refused now) go through the journal as usual;
   * forwards, routes, auto-replies and quarantined mail always do.
   *
   * Resolves with `announce`, to be called once the caller logged the message: it emits
   * `delivered` for the copies written and `settled` when nothing was left for the journal.
   * Rejects like {@link accept} (answer 451) when the remainder could not be journaled.
   * @example
   * const announce = await queue.acceptDelivering(meta, chunks);
   * log.record(entry, views);
   * announce();
   */
  async acceptDelivering(meta: QueuedMessage, body: readonly Buffer[]): Promise<() => void> {
    if (this.#schedule.closed || !deliversToMailboxesOnly(meta)) {
      await this.accept(meta, body);
      return () => {};
    }
    this.#schedule.accepted();
    const joined = body.length === 1 ? body[0]! : Buffer.concat(body);
    const targets = initialTargets(meta);
    let outcomes: DeliveryOutcome[];
    try {
      outcomes = await this.#deliver(meta, joined, targets);
    } catch {
      outcomes = [];
    }
    const delivered = new Map<string, DeliveryOutcome>();
    for (const o of outcomes) {
      if (o.status !== "delivered") continue;
      // Acknowledged only once the copy is on disk: until then it counts as not delivered.
      if (
        o.durable &&
        !(await o.durable.then(
          () => true,
          () => false,
        ))
      )
        continue;
      delivered.set(o.key, o);
    }
    const done = targets.filter((t) => delivered.has(t.key));
    const rest = targets.filter((t) => !delivered.has(t.key));
    if (rest.length > 0) await this.accept(meta, joined, [], rest);
    return () => {
      for (const t of done) this.emit("delivered", meta, t, delivered.get(t.key));
      if (rest.length === 0) this.emit("settled", meta);
    };
  }

  /** Lists queued messages, oldest first. */
  list(): QueueView[] {
    return [...this.#entries.values()]
      .sort((a, b) => a.meta.receivedAt.localeCompare(b.meta.receivedAt))
      .map((e) => this.#view(e));
  }

  get(id: string): QueueView | undefined {
    const e = this.#entries.get(id);
    return e ? this.#view(e) : undefined;
  }

  /** A queued message's meta (no body read); undefined when unknown. */
  meta(id: string): QueuedMessage | undefined {
    return this.#entries.get(id)?.meta;
  }

  /** The stored message (before header edits) and its meta. */
  async content(id: string): Promise<{ meta: QueuedMessage; body: Buffer } | undefined> {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    return { meta: e.meta, body: await this.#loadBody(e) };
  }

  /** True while a delivery attempt of the message runs. */
  running(id: string): boolean {
    return this.#entries.get(id)?.running ?? false;
  }

  /** Retries a deferred message now (the operator's "force retry"). False when unknown. */
  retry(id: string): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    if (!e.running) this.#schedule.dueNow(e);
    return true;
  }

  /** Retries every deferred message now. Returns how many. */
  retryAll(): number {
    let n = 0;
    for (const id of this.#entries.keys()) if (this.retry(id)) n++;
    return n;
  }

  /**
   * Removes a message without delivering or bouncing it (the operator's "delete"). The removal is
   * synced (journal done mark, deferred copy's unlink) before this resolves: an operator's delete
   * that a power cut undid would deliver the mail after all. A message being delivered right now is
   * removed once the attempt ends (what it delivered stays delivered).
   */
  async delete(id: string): Promise<boolean> {
    const e = this.#entries.get(id);
    if (!e) return false;
    e.deleted = true;
    if (!e.running) await this.#settle(e, true);
    return true;
  }

  /**
   * Removes a message only while no delivery attempt runs ({@link delete} otherwise), synced like
   * it: "unknown" when it is not queued (delivered, bounced, deleted), "delivering" when an attempt
   * runs now (the message stays queued).
   */
  async deleteIdle(id: string): Promise<"deleted" | "unknown" | "delivering"> {
    const e = this.#entries.get(id);
    if (!e) return "unknown";
    if (e.running) return "delivering";
    e.deleted = true;
    await this.#settle(e, true);
    return "deleted";
  }

  /** Resolves when nothing is being delivered and nothing is due (tests and shutdown). */
  idle(): Promise<void> {
    return this.#schedule.idle();
  }

  /** Stops scheduling, waits for running deliveries, closes the journal. Queued messages stay on disk. */
  async close(): Promise<void> {
    await this.#schedule.close();
    await this.#journal.close();
  }

  #view(e: QueueEntry): QueueView {
    const attempts = Math.max(0, ...e.pending.map((t) => t.attempts));
    return {
      id: e.meta.id,
      receivedAt: e.meta.receivedAt,
      sender: e.meta.sender,
      recipients: [...new Set(e.pending.map((t) => t.recipient))],
      size: e.meta.size,
      subject: e.meta.subject,
      domain: e.meta.domain,
      state: e.nextAttemptAt > this.#opts.now() ? "deferred" : "active",
      attempts,
      lastError: e.pending.find((t) => t.lastError)?.lastError ?? null,
      nextAttemptAt: e.nextAttemptAt > 0 ? new Date(e.nextAttemptAt).toISOString() : null,
    };
  }

  #add(e: QueueEntry): void {
    this.#entries.set(e.meta.id, e);
    this.#schedule.add(e);
  }

  async #loadBody(e: QueueEntry): Promise<Buffer> {
    if (e.body) return e.body;
    if (e.meta.bodyFile)
      return readOrLost(this.fs, join(this.bodiesDir, e.meta.bodyFile), `the body file of ${e.meta.id}`);
    if (e.deferredPath) return this.#deferred.readBody(e.deferredPath, e.meta.id);
    try {
      return (await this.#journal.read(e.ref!)).body;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) throw err;
      throw new UnreadableMessageError((err as Error).message);
    }
  }

  async #process(e: QueueEntry, release: () => void): Promise<void> {
    try {
      const body = await this.#loadBody(e);
      if (e.deleted) return await this.#settle(e, true);
      if (e.meta.disposition === "quarantine") {
        await this.#quarantine(e.meta, body);
        this.emit("quarantined", e.meta);
        return await this.#settle(e);
      }
      const outcomes = await this.#deliver(e.meta, body, e.pending);
      // Outside bursts the slot goes to the next message while this one's copies wait for their
      // sync, so syncs batch many copies. During a burst the slot is kept until then: receiving
      // comes first (see busyConcurrency).
      if (!this.#schedule.busy()) release();
      // A delivered copy counts once it is on disk: until then the journal keeps the message.
      for (const o of outcomes) {
        if (!o.durable) continue;
        try {
          await o.durable;
        } catch (err) {
          Object.assign(o, {
            status: "deferred",
            detail: `not synced to disk: ${(err as Error).message}`,
            status_code: "4.3.0",
          });
        }
      }
      const now = this.#opts.now();
      const age = now - Date.parse(e.meta.receivedAt);
      const { failed, deferred, still } = sortOutcomes(
        e.pending,
        outcomes,
        age,
        this.#opts.maxRetryMs,
        (t, o) => this.emit("delivered", e.meta, t, o),
      );
      // Delivered targets are done now, whatever happens to the bounce: should it fail, the
      // retry must not deliver them again (the failed ones stay pending and bounce then).
      e.pending = [...still, ...failed.map((f) => f.target)];
      if (failed.length > 0 && !e.deleted) await this.#bounce(e.meta, body, failed);
      e.pending = still;
      // Announced once the bounce is sent: a failing bounce retries these targets, and announced
      // before it they would be announced again then (the message log would hold them twice).
      for (const f of failed) this.emit("failed", e.meta, f.target, f.outcome);
      if (still.length === 0 || e.deleted) return await this.#settle(e, e.deleted);
      await this.#defer(e, body, now);
      // Announced once the retry is scheduled and durable, so listeners see the deferred state.
      for (const [t, o] of deferred) this.emit("deferred", e.meta, t, o);
    } catch (err) {
      if (err instanceof UnreadableMessageError && !e.deleted) {
        this.emit("error", err);
        return await this.#giveUp(e, err);
      }
      if (e.deleted) {
        // An operator deleted it during the attempt: nothing starts a deleted message again, so
        // kept here it would stay listed, and come back after a restart. Removed as delete promised.
        this.emit("error", err);
        return await this.#settle(e, true);
      }
      // An internal error (full disk, too many open files): keep the message and try again later.
      for (const t of e.pending) t.lastError = `internal error: ${(err as Error).message}`;
      e.nextAttemptAt = this.#opts.now() + this.#opts.retryBaseMs;
      this.#schedule.arm(e.nextAttemptAt);
      this.emit("error", err);
    }
  }

  /**
   * Fails every pending target of a message whose bytes are lost with 5.3.0 and bounces it (the DSN
   * carries no content), then lets it go. A failing bounce keeps it for a retry. Each target's
   * failure is announced once, after its bounce was sent: a retry after a failed bounce announces
   * nothing twice, and one after a sent bounce (nothing pending) neither bounces nor announces again.
   */
  async #giveUp(e: QueueEntry, err: Error): Promise<void> {
    const failed = lostBytesFailures(e.pending, err);
    try {
      // An empty list would still build a DSN (listing no one): nothing left means it was sent.
      if (failed.length > 0) await this.#bounce(e.meta, Buffer.alloc(0), failed);
      e.pending = [];
      for (const f of failed) this.emit("failed", e.meta, f.target, f.outcome);
      await this.#settle(e);
    } catch (bounceErr) {
      e.nextAttemptAt = this.#opts.now() + this.#opts.retryBaseMs;
      this.#schedule.arm(e.nextAttemptAt);
      this.emit("error", bounceErr);
    }
  }

  /** Moves the message out of the journal into its own file (synced) and schedules the next attempt. */
  async #defer(e: QueueEntry, body: Buffer, now: number): Promise<void> {
    e.nextAttemptAt = now + retryDelay(e.pending, this.#opts.retryBaseMs, this.#opts.retryMaxMs);
    if (!e.deferredPath) {
      const path = await this.#deferred.write(e.meta, e.meta.bodyFile ? Buffer.alloc(0) : body);
      // Only now may the journal forget it: the deferred copy is durable.
      e.deferredPath = path;
      if (e.ref) {
        this.#journal.markDone(e.ref);
        e.leftRef = e.ref;
      }
      e.ref = null;
      this.#dropBody(e);
    }
    // Retry bookkeeping is not synced: losing it only means an earlier retry.
    await this.#deferred.writeState(e.deferredPath, { pending: e.pending, nextAttemptAt: e.nextAttemptAt });
    this.#schedule.arm(e.nextAttemptAt);
  }

  /**
   * Lets a message go; `durably` (an operator's delete) syncs its removal before resolving. A body
   * file of its own goes last, once the journal record or deferred copy naming it is gone for good: otherwise a crash could bring the message back without its bytes,
   * and recovery would bounce as lost a message that was delivered or quarantined. (Done marks are
   * not synced for other messages: a lost one means a second delivery, never a loss.)
   */
  async #settle(e: QueueEntry, durably = false): Promise<void> {
    this.#entries.delete(e.meta.id);
    this.#dropBody(e);
    const bodyFile = e.meta.bodyFile;
    const sync = durably || Boolean(bodyFile);
    let forgotten = true;
    try {
      if (e.ref && sync) await this.#journal.markDoneDurably(e.ref);
      else if (e.ref) this.#journal.markDone(e.ref);
      if (e.leftRef && durably) await this.#journal.syncDone(e.leftRef);
      if (e.deferredPath) await this.#deferred.remove(e.deferredPath, sync);
    } catch (err) {
      // The body file stays (the next start removes it once nothing names it).
      forgotten = false;
      this.emit("error", err);
    }
    if (bodyFile && forgotten) await this.fs.unlink(join(this.bodiesDir, bodyFile)).catch(() => {});
    this.emit("settled", e.meta);
  }

  #dropBody(e: QueueEntry): void {
    if (e.body) this.#memory -= e.body.length;
    e.body = null;
  }

  /** Large-body files without a queued message are leftovers of sessions that never got 250. */
  #cleanBodies(known: Set<string>): void {
    const referenced = new Set([...this.#entries.values()].map((e) => e.meta.bodyFile).filter(Boolean));
    for (const file of this.fs.readdirSync(this.bodiesDir)) {
      if (!referenced.has(file) && !known.has(file))
        void this.fs.unlink(join(this.bodiesDir, file)).catch(() => {});
    }
  }
}
