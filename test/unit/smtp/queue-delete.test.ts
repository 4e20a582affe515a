/** An operator's delete from the delivery queue under power loss: once it resolves, a crash does not bring the message back. */
import { describe, expect, it } from "vitest";
import { Queue } from "../../../platform/smtp/spool/queue.ts";
import type { QueuedMessage, TargetState } from "../../../platform/smtp/spool/queued-message.ts";
import { PowerLossFs } from "../../support/power-loss-fs.ts";
import { queuedMessage } from "../../support/queued-message.ts";

const SPOOL = "/data/spool";

function message(id: string): QueuedMessage {
  return queuedMessage(id, ["alice"], {
    subject: `message ${id}`,
    classification: "spam",
    reason: "spam",
    score: 0.5,
  });
}

/** A delivery that answers each attempt as told: `defer` every target, or hold the attempt until released. */
function controlledDelivery(mode: "defer" | "hold") {
  const attempts: string[] = [];
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  const deliver = async (meta: QueuedMessage, _body: Buffer, targets: TargetState[]) => {
    attempts.push(meta.id);
    if (mode === "hold") await held;
    return targets.map((t) => ({
      key: t.key,
      status: "deferred" as const,
      detail: "451 4.4.1 try later",
      status_code: "4.4.1",
    }));
  };
  return { deliver, attempts, release: () => release() };
}

async function openQueue(fs: PowerLossFs, deliver: ReturnType<typeof controlledDelivery>["deliver"]) {
  return await Queue.open({
    dir: SPOOL,
    fs,
    deliver,
    quarantine: async () => {},
    bounce: async () => {},
    retryBaseMs: 3_600_000,
    burstHoldMs: 0,
    concurrency: 1,
  });
}

describe("deleting a queued message under power loss (simulated file system)", () => {
  it("does not bring back a deferred message deleted before the power went (deferred copy's unlink synced)", async () => {
    const fs = new PowerLossFs();
    const run = controlledDelivery("defer");
    const queue = await openQueue(fs, run.deliver);
    await queue.accept(message("m1"), Buffer.from("hello"));
    await queue.idle();
    expect(queue.get("m1")?.state).toBe("deferred");
    expect(await queue.delete("m1")).toBe(true);

    const rebooted = fs.afterCrash("lose-all");
    const after = controlledDelivery("defer");
    const recovered = await openQueue(rebooted, after.deliver);
    await recovered.idle();
    expect(recovered.size).toBe(0);
    expect(after.attempts).toEqual([]);
    await recovered.close();
  });

  it("does not bring back a message deleted while it waited in the journal (done mark synced)", async () => {
    const fs = new PowerLossFs();
    const run = controlledDelivery("hold");
    const queue = await openQueue(fs, run.deliver);
    // One delivery at a time: "first" holds the slot, "second" waits in the journal, never tried.
    await queue.accept(message("first"), Buffer.from("hello"));
    await queue.accept(message("second"), Buffer.from("hello"));
    expect(run.attempts).toEqual(["first"]);
    expect(await queue.deleteIdle("second")).toBe("deleted");

    const rebooted = fs.afterCrash("lose-all");
    const after = controlledDelivery("defer");
    const recovered = await openQueue(rebooted, after.deliver);
    await recovered.idle();
    expect(after.attempts).toEqual(["first"]);
    run.release();
    await recovered.close();
  });

  it("removes a message deleted during an attempt that ends in an internal error, for good", async () => {
    const fs = new PowerLossFs();
    let failQuarantine: (err: Error) => void = () => {};
    const quarantining = new Promise<void>((_, reject) => {
      failQuarantine = reject;
    });
    const queue = await Queue.open({
      dir: SPOOL,
      fs,
      deliver: controlledDelivery("defer").deliver,
      // The quarantine store cannot write (a full disk): an internal error, normally retried later.
      quarantine: () => quarantining,
      bounce: async () => {},
      retryBaseMs: 3_600_000,
      burstHoldMs: 0,
      concurrency: 1,
    });
    const errors: Error[] = [];
    queue.on("error", (err: Error) => errors.push(err));
    await queue.accept({ ...message("held"), disposition: "quarantine" }, Buffer.from("hello"));
    expect(queue.running("held")).toBe(true);
    expect(await queue.delete("held")).toBe(true);
    failQuarantine(new Error("ENOSPC: no space left on device"));
    await queue.idle();
    expect(errors.map((e) => e.message)).toEqual(["ENOSPC: no space left on device"]);
    expect(queue.get("held")).toBeUndefined();

    const rebooted = fs.afterCrash("lose-all");
    const quarantined: string[] = [];
    const recovered = await Queue.open({
      dir: SPOOL,
      fs: rebooted,
      deliver: controlledDelivery("defer").deliver,
      quarantine: async (meta) => {
        quarantined.push(meta.id);
      },
      bounce: async () => {},
    });
    await recovered.idle();
    expect(recovered.size).toBe(0);
    expect(quarantined).toEqual([]);
    await recovered.close();
  });

  it("refuses deleteIdle of a message being delivered and keeps it queued", async () => {
    const fs = new PowerLossFs();
    const run = controlledDelivery("hold");
    const queue = await openQueue(fs, run.deliver);
    await queue.accept(message("busy"), Buffer.from("hello"));
    expect(queue.running("busy")).toBe(true);
    expect(await queue.deleteIdle("busy")).toBe("delivering");
    expect(queue.get("busy")).toBeDefined();
    expect(await queue.deleteIdle("nothing-here")).toBe("unknown");
    run.release();
    await queue.idle();
    expect(queue.get("busy")?.state).toBe("deferred");
    await queue.close();
  });
});
