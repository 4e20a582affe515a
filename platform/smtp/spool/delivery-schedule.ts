/** When each queued message's delivery starts: the due list, the retry timer, the concurrency and the burst hold. */

/** How recently a message must have been accepted for the queue to count clients as busy, ms. */
const BUSY_WINDOW_MS = 250;

/** What the schedule reads and marks on a queued message. */
export interface Schedulable {
  meta: { id: string };
  /** When the next attempt is due (epoch ms from `now`; 0: due now). */
  nextAttemptAt: number;
  /** Set while a delivery attempt runs. */
  running: boolean;
  /** Set by an operator's delete: never started again. */
  deleted: boolean;
  /** When it became due (performance.now()): during a burst, delivery waits for the oldest. */
  dueSince: number;
}

/** What the schedule starts and how many at once (see the queue's options for the defaults). */
export interface ScheduleOptions<T> {
  /** The queue's messages by id: only those still in it are started. */
  entries: ReadonlyMap<string, T>;
  /** Runs one delivery attempt; `release` gives its slot back before the attempt's promise settles. */
  start: (entry: T, release: () => void) => Promise<void>;
  concurrency: number;
  busyConcurrency: number;
  burstHoldMs: number;
  now: () => number;
}

/**
 * Entries due for delivery, first in first out. Array#shift moves every element on the large
 * arrays a backlog makes (tens of thousands of entries after a burst), so the head is an index.
 * Holds anything with a `dueSince` (the queue's entries), which it stamps when the entry joins.
 */
class DueList<T extends { dueSince: number }> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #members = new Set<T>();

  get length(): number {
    return this.#members.size;
  }

  has(e: T): boolean {
    return this.#members.has(e);
  }

  push(e: T): void {
    if (this.#members.has(e)) return;
    e.dueSince = performance.now();
    this.#members.add(e);
    this.#items.push(e);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    const e = this.#items[this.#head];
    if (!e) return undefined;
    this.#items[this.#head++] = undefined;
    this.#members.delete(e);
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return e;
  }
}

/**
 * Starts the delivery attempts of the queue's messages. Due messages wait in a {@link DueList};
 * a timer makes deferred ones due when their next attempt is. At most `concurrency` attempts run at
 * once; while clients are handing messages in (one accepted in the last {@link BUSY_WINDOW_MS}),
 * nothing new starts until the oldest due message waited `burstHoldMs`, then `busyConcurrency` at once.
 * @example
 * const schedule = new DeliverySchedule({ entries, start: (e, release) => attempt(e, release),
 *   concurrency: 8, busyConcurrency: 2, burstHoldMs: 5_000, now: Date.now });
 * schedule.add(entry);
 * schedule.pump();
 */
export class DeliverySchedule<T extends Schedulable> {
  readonly #entries: ReadonlyMap<string, T>;
  readonly #start: (entry: T, release: () => void) => Promise<void>;
  readonly #now: () => number;
  readonly #opts: { concurrency: number; busyConcurrency: number; burstHoldMs: number };
  readonly #ready = new DueList<T>();
  /** Delivery slots in use (bounded by the concurrency). */
  #running = 0;
  /** Messages being processed, including those whose delivered copies wait for their sync. */
  #active = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = 0;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #lastAccept = Number.NEGATIVE_INFINITY;
  #calm: NodeJS.Timeout | null = null;

  constructor(opts: ScheduleOptions<T>) {
    this.#entries = opts.entries;
    this.#start = opts.start;
    this.#now = opts.now;
    this.#opts = {
      concurrency: opts.concurrency,
      busyConcurrency: opts.busyConcurrency,
      burstHoldMs: opts.burstHoldMs,
    };
  }

  /** True once {@link close} was called: nothing starts any more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Notes that a client handed a message in just now (see {@link busy}). */
  accepted(): void {
    this.#lastAccept = performance.now();
  }

  /** Schedules a message just added to the queue: due now, or when its next attempt is. */
  add(e: T): void {
    if (e.nextAttemptAt <= this.#now()) this.#ready.push(e);
    else this.arm(e.nextAttemptAt);
  }

  /** Makes a message due now (an operator's retry) and starts what may start. */
  dueNow(e: T): void {
    e.nextAttemptAt = 0;
    this.#ready.push(e);
    this.pump();
  }

  /** Resolves when nothing is being delivered and nothing is due (tests and shutdown). */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops scheduling and waits for the running deliveries. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#calm) clearTimeout(this.#calm);
    while (this.#active > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Wakes the schedule at `at` (epoch ms) unless it wakes earlier anyway. */
  arm(at: number): void {
    if (this.#closed) return;
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#wake(), Math.max(0, at - this.#now()));
    this.#timer.unref();
  }

  #wake(): void {
    this.#timer = null;
    const now = this.#now();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#entries.values()) {
      if (e.running || this.#ready.has(e)) continue;
      if (e.nextAttemptAt <= now) this.#ready.push(e);
      else next = Math.min(next, e.nextAttemptAt);
    }
    if (Number.isFinite(next)) this.arm(next);
    this.pump();
  }

  /** Starts due messages while slots are free (see the class comment for bursts). */
  pump(): void {
    const busy = this.busy();
    let limit = busy ? this.#opts.busyConcurrency : this.#opts.concurrency;
    // During a burst nothing new starts until the oldest due message has waited burstHoldMs.
    const oldest = this.#ready.peek();
    const held = busy && oldest ? this.#opts.burstHoldMs - (performance.now() - oldest.dueSince) : 0;
    if (held > 0) limit = 0;
    if (busy && this.#running >= limit && this.#ready.length > 0 && !this.#calm) {
      // Look again once the burst may be over or the hold has passed, without waiting for new events.
      this.#calm = setTimeout(
        () => {
          this.#calm = null;
          this.pump();
        },
        held > 0 ? Math.min(BUSY_WINDOW_MS, held) : BUSY_WINDOW_MS,
      );
      this.#calm.unref();
    }
    while (!this.#closed && this.#running < limit && this.#ready.length > 0) {
      const e = this.#ready.shift()!;
      if (e.running || e.deleted || !this.#entries.has(e.meta.id)) continue;
      e.running = true;
      this.#running++;
      this.#active++;
      let slot = true;
      // The slot is given back as soon as the delivery attempt ends, before its copies are synced.
      const release = () => {
        if (!slot) return;
        slot = false;
        this.#running--;
        this.pump();
      };
      void this.#start(e, release).finally(() => {
        e.running = false;
        this.#active--;
        release();
        this.#wakeIdle();
      });
    }
    this.#wakeIdle();
  }

  /** True while clients are handing messages in (one was accepted in the last {@link BUSY_WINDOW_MS}). */
  busy(): boolean {
    return performance.now() - this.#lastAccept < BUSY_WINDOW_MS;
  }

  /** Idle: nothing running and nothing due — or, once closing, nothing running (the rest stays on disk). */
  #wakeIdle(): void {
    if (this.#active === 0 && (this.#ready.length === 0 || this.#closed)) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }
}
