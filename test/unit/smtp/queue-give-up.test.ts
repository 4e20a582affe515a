/** Failures announced once: a bounce that fails and is retried does not announce its targets' failure twice. */
import { describe, expect, it } from "vitest";
import { Queue } from "../../../platform/smtp/spool/queue.ts";
import type {
  DeliveryOutcome,
  QueuedMessage,
  TargetState,
} from "../../../platform/smtp/spool/queued-message.ts";
import { PowerLossFs } from "../../support/power-loss-fs.ts";
import { queuedMessage } from "../../support/queued-message.ts";

const SPOOL = "/data/spool";

function message(id: string, bodyFile?: string): QueuedMessage {
  return queuedMessage(id, ["alice", "carol"], {
    subject: `message ${id}`,
    ...(bodyFile ? { bodyFile } : {}),
  });
}

/** A bounce that throws (the injection's spool is full) the first `failures` times, then sends. */
function flakyBounce(failures: number) {
  const calls: string[][] = [];
  let left = failures;
  const bounce = async (_meta: QueuedMessage, _body: Buffer, failed: { target: TargetState }[]) => {
    calls.push(failed.map((f) => f.target.recipient));
    if (left-- > 0) throw new Error("ENOSPC: the bounce could not be queued");
  };
  return { bounce, calls };
}

/** Counts `failed` events per recipient. */
function countFailures(queue: Queue) {
  const failed: string[] = [];
  queue.on("failed", (_meta: QueuedMessage, t: TargetState) => failed.push(t.recipient));
  queue.on("error", () => {});
  return failed;
}

const permanentFailure = async (_meta: QueuedMessage, _body: Buffer, targets: TargetState[]) =>
  targets.map(
    (t): DeliveryOutcome => ({
      key: t.key,
      status: "failed",
      detail: "550 5.1.1 no such mailbox",
      status_code: "5.1.1",
    }),
  );

describe("announcing failed targets when their bounce fails and is retried", () => {
  it("announces each target of a message whose bytes are lost as failed once, across a failing then succeeding bounce", async () => {
    const run = flakyBounce(1);
    const queue = await Queue.open({
      dir: SPOOL,
      fs: new PowerLossFs(),
      deliver: permanentFailure,
      quarantine: async () => {},
      bounce: run.bounce,
      retryBaseMs: 3_600_000,
      burstHoldMs: 0,
      concurrency: 1,
    });
    const failed = countFailures(queue);
    // Its body file was never written: the spool lost its bytes (5.3.0 for every target).
    await queue.accept(message("m1", "m1.eml"), []);
    await queue.idle();
    expect(run.calls).toHaveLength(1);
    expect(queue.size).toBe(1);

    expect(queue.retry("m1")).toBe(true);
    await queue.idle();
    expect(run.calls).toHaveLength(2);
    expect(queue.size).toBe(0);
    expect(failed.sort()).toEqual(["alice@example.com", "carol@example.com"]);
    await queue.close();
  });

  it("announces a permanently failed target once, across a failing then succeeding bounce", async () => {
    const run = flakyBounce(1);
    const queue = await Queue.open({
      dir: SPOOL,
      fs: new PowerLossFs(),
      deliver: permanentFailure,
      quarantine: async () => {},
      bounce: run.bounce,
      retryBaseMs: 3_600_000,
      burstHoldMs: 0,
      concurrency: 1,
    });
    const failed = countFailures(queue);
    await queue.accept(message("m2"), Buffer.from("hello"));
    await queue.idle();
    expect(run.calls).toHaveLength(1);
    expect(queue.size).toBe(1);

    expect(queue.retry("m2")).toBe(true);
    await queue.idle();
    expect(run.calls).toHaveLength(2);
    expect(queue.size).toBe(0);
    expect(failed.sort()).toEqual(["alice@example.com", "carol@example.com"]);
    await queue.close();
  });

  it("neither bounces nor announces again when a retry finds the lost message's bounce already sent", async () => {
    const run = flakyBounce(0);
    const queue = await Queue.open({
      dir: SPOOL,
      fs: new PowerLossFs(),
      deliver: permanentFailure,
      quarantine: async () => {},
      bounce: run.bounce,
      retryBaseMs: 3_600_000,
      burstHoldMs: 0,
      concurrency: 1,
    });
    queue.on("error", () => {});
    // A listener that throws once stops the give-up after the bounce was sent, before it settled.
    const failed: string[] = [];
    let throwOnce = true;
    queue.on("failed", (_meta: QueuedMessage, t: TargetState) => {
      failed.push(t.recipient);
      if (throwOnce) {
        throwOnce = false;
        throw new Error("listener failed");
      }
    });
    await queue.accept(message("m3", "m3.eml"), []);
    await queue.idle();
    expect(run.calls).toHaveLength(1);
    expect(queue.size).toBe(1);

    expect(queue.retry("m3")).toBe(true);
    await queue.idle();
    expect(run.calls).toHaveLength(1);
    expect(queue.size).toBe(0);
    expect(failed).toHaveLength(1);
    await queue.close();
  });
});
