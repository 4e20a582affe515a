/** The delivery queue: a delivered copy leaves the journal only once it is synced; a failed sync is retried; local mail delivered before the reply. */
import { once } from "node:events";
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MaildirStore } from "../../../platform/smtp/delivery/maildir.ts";
import { Queue } from "../../../platform/smtp/spool/queue.ts";
import type {
  Deliver,
  DeliveryOutcome,
  QueuedMessage,
  TargetState,
} from "../../../platform/smtp/spool/queued-message.ts";
import { queuedMessage } from "../../support/queued-message.ts";
import { scratchDirs } from "../../support/scratch.ts";

const scratch = scratchDirs("mp-queue-");

function message(id: string): QueuedMessage {
  return queuedMessage(id);
}

/** A promise with its settle functions outside, for a sync the test finishes itself. */
function pending(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A deliver function whose copies are written at once and synced when the test says so. */
function controlledDeliver() {
  const calls: { id: string; sync: ReturnType<typeof pending> }[] = [];
  const waiters: (() => void)[] = [];
  const deliver: Deliver = async (meta, _body, targets: TargetState[]) => {
    const sync = pending();
    calls.push({ id: meta.id, sync });
    for (const w of waiters.splice(0)) w();
    return targets.map(
      (t): DeliveryOutcome => ({
        key: t.key,
        status: "delivered",
        detail: "delivered to Maildir",
        status_code: "2.0.0",
        durable: sync.promise,
      }),
    );
  };
  const called = (n: number) =>
    calls.length >= n ? Promise.resolve() : new Promise<void>((r) => waiters.push(() => called(n).then(r)));
  return { deliver, calls, called };
}

async function openQueue(dir: string, deliver: Deliver): Promise<Queue> {
  return Queue.open({
    dir,
    deliver,
    quarantine: async () => {},
    bounce: async () => {},
    retryBaseMs: 10,
  });
}

describe("Queue with Maildir copies synced in batches", () => {
  it("keeps a delivered message in the journal until its copy is synced, then settles it", async () => {
    const dir = scratch();
    const d = controlledDeliver();
    const queue = await openQueue(dir, d.deliver);
    const settled: string[] = [];
    queue.on("settled", (meta: QueuedMessage) => settled.push(meta.id));
    await queue.accept(message("q1"), Buffer.from("hello"));
    await d.called(1);
    // Give a done mark every chance to reach the disk, as it would if the copy counted before its sync.
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]);
    expect(queue.size).toBe(1);

    // What a crash now would leave on disk: the message is still there and is delivered again.
    const copy = scratch();
    cpSync(dir, copy, { recursive: true });
    const again = controlledDeliver();
    const recovered = await openQueue(copy, again.deliver);
    await again.called(1);
    expect(again.calls.map((c) => c.id)).toEqual(["q1"]);
    again.calls[0]!.sync.resolve();
    await once(recovered, "settled");
    await recovered.close();

    d.calls[0]!.sync.resolve();
    await queue.idle();
    expect(settled).toEqual(["q1"]);
    expect(queue.size).toBe(0);
    await queue.close();
  });

  it("delivers a copy again when its sync failed", async () => {
    const d = controlledDeliver();
    const queue = await openQueue(scratch(), d.deliver);
    const deferred: string[] = [];
    queue.on("deferred", (_meta: QueuedMessage, _t: TargetState, o: DeliveryOutcome) =>
      deferred.push(o.detail),
    );
    await queue.accept(message("q2"), Buffer.from("hello"));
    await d.called(1);
    d.calls[0]!.sync.reject(new Error("EIO: i/o error, fdatasync"));
    await d.called(2);
    expect(deferred).toEqual(["not synced to disk: EIO: i/o error, fdatasync"]);
    d.calls[1]!.sync.resolve();
    await once(queue, "settled");
    await queue.close();
  });
});

/** Resolves true when `p` settles within a few turns of the event loop, false otherwise (never a timed assertion). */
async function settlesNow(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe("Queue.acceptDelivering (mail for local mailboxes delivered before the reply)", () => {
  it("resolves only once the Maildir copy is synced, leaves no journal record, and announces it delivered and settled", async () => {
    const dir = scratch();
    const d = controlledDeliver();
    const queue = await openQueue(dir, d.deliver);
    const events: string[] = [];
    queue.on("delivered", (meta: QueuedMessage, t: TargetState) =>
      events.push(`delivered ${meta.id} ${t.key}`),
    );
    queue.on("settled", (meta: QueuedMessage) => events.push(`settled ${meta.id}`));
    const accepting = queue.acceptDelivering(message("q4"), [Buffer.from("hel"), Buffer.from("lo")]);
    await d.called(1);
    // The 250 waits for the sync: before it, the copy may not be on disk.
    expect(await settlesNow(accepting)).toBe(false);
    d.calls[0]!.sync.resolve();
    const announce = await accepting;
    expect(queue.size).toBe(0);
    // Nothing is announced before the caller logged the message.
    expect(events).toEqual([]);
    announce();
    expect(events).toEqual(["delivered q4 mailbox:alice@example.com", "settled q4"]);
    await queue.close();

    // What a crash now would leave: no journal record, so nothing is delivered again.
    const again = controlledDeliver();
    const recovered = await openQueue(dir, again.deliver);
    expect(recovered.size).toBe(0);
    await recovered.idle();
    expect(again.calls).toEqual([]);
    await recovered.close();
  });

  it("journals a copy whose sync failed before resolving, and the queue delivers it again", async () => {
    const dir = scratch();
    const d = controlledDeliver();
    const queue = await openQueue(dir, d.deliver);
    const accepting = queue.acceptDelivering(message("q5"), [Buffer.from("hello")]);
    await d.called(1);
    d.calls[0]!.sync.reject(new Error("EIO: i/o error, fdatasync"));
    const announce = await accepting;
    announce();
    // Journaled: a crash now would deliver it after the restart.
    const copy = scratch();
    cpSync(dir, copy, { recursive: true });
    const again = controlledDeliver();
    const recovered = await openQueue(copy, again.deliver);
    await again.called(1);
    expect(again.calls.map((c) => c.id)).toEqual(["q5"]);
    again.calls[0]!.sync.resolve();
    await once(recovered, "settled");
    await recovered.close();
    // And the running queue delivers it from the journal.
    await d.called(2);
    d.calls[1]!.sync.resolve();
    await queue.idle();
    expect(queue.size).toBe(0);
    await queue.close();
  });

  it("sends a message with any target besides local mailboxes, or to be quarantined, through the journal", async () => {
    const d = controlledDeliver();
    const queue = await openQueue(scratch(), d.deliver);
    const forwarded = message("q6");
    forwarded.recipients[0]!.targets.push({ kind: "remote", address: "alice@elsewhere.example" });
    const held = { ...message("q7"), disposition: "quarantine" as const };
    // Resolves without waiting for any delivery: the journal record is what makes it durable.
    await queue.acceptDelivering(forwarded, [Buffer.from("hello")]);
    await queue.acceptDelivering(held, [Buffer.from("hello")]);
    expect(queue.size).toBeGreaterThanOrEqual(1);
    await d.called(1);
    expect(d.calls.map((c) => c.id)).toEqual(["q6"]);
    d.calls[0]!.sync.resolve();
    await queue.idle();
    expect(queue.size).toBe(0);
    await queue.close();
  });
});

describe("MaildirStore", () => {
  it("puts a copy into new/, resolves `synced`, and a second delivery of the same queue ID replaces it", async () => {
    const store = new MaildirStore(scratch());
    const first = await store.deliver("alice@example.com", "q3", 0, [Buffer.from("Subject: a\r\n\r\n")], 0);
    await first.synced;
    const second = await store.deliver("alice@example.com", "q3", 0, [Buffer.from("Subject: a\r\n\r\n")], 0);
    await second.synced;
    expect(second.path).toBe(first.path);
    const newDir = join(first.path, "..");
    expect(readdirSync(newDir)).toHaveLength(1);
    expect(readdirSync(join(newDir, "..", "tmp"))).toEqual([]);
    expect(readFileSync(first.path, "utf8")).toBe("Subject: a\r\n\r\n");
  });
});

/** A queue whose deliveries succeed at once and are recorded with their time since `started`. */
async function recordingQueue(burstHoldMs: number) {
  const delivered: { id: string; at: number }[] = [];
  const started = performance.now();
  const deliver: Deliver = async (meta, _body, targets) => {
    delivered.push({ id: meta.id, at: performance.now() - started });
    return targets.map((t) => ({ key: t.key, status: "delivered", detail: "ok", status_code: "2.0.0" }));
  };
  const queue = await Queue.open({
    dir: scratch(),
    deliver,
    quarantine: async () => {},
    bounce: async () => {},
    burstHoldMs,
  });
  return { queue, delivered, since: () => performance.now() - started };
}

describe("Queue during a burst of incoming mail", () => {
  it("holds delivery while clients hand messages in, and starts it once the oldest has waited burstHoldMs", async () => {
    const { queue, delivered, since } = await recordingQueue(400);
    // A burst: a message every 40 ms for 1.2 s, so the queue never sees a 250 ms pause.
    let sent = 0;
    while (since() < 1200) {
      await queue.accept(message(`b${sent++}`), Buffer.from("hello"));
      if (since() < 350) expect(delivered).toEqual([]);
      await new Promise((r) => setTimeout(r, 40));
    }
    const burstEnded = since();
    // Delivery started during the burst, not before the hold ran out.
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered[0]!.at).toBeGreaterThanOrEqual(390);
    expect(delivered[0]!.at).toBeLessThan(burstEnded);
    expect(delivered[0]!.id).toBe("b0");
    // Once the burst is over everything goes out.
    await new Promise((r) => setTimeout(r, 300));
    await queue.idle();
    expect(new Set(delivered.map((d) => d.id)).size).toBe(sent);
    expect(queue.size).toBe(0);
    await queue.close();
  });

  it("delivers a short burst as soon as clients pause, before the hold runs out", async () => {
    const { queue, delivered, since } = await recordingQueue(60_000);
    for (let i = 0; i < 5; i++) await queue.accept(message(`s${i}`), Buffer.from("hello"));
    const lastAccept = since();
    await queue.idle();
    expect(delivered).toHaveLength(5);
    // The queue waited for the pause (250 ms without a new message), not for the 60 s hold.
    const times = delivered.map((d) => d.at);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(lastAccept + 200);
    expect(Math.max(...times)).toBeLessThan(lastAccept + 5_000);
    await queue.close();
  });
});
