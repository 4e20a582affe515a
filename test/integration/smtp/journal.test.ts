/** The spool journal: group commit, recovery of undone records, torn tails ignored, segments removed when done. */
import { appendFileSync, readdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { Journal } from "../../../platform/smtp/spool/journal.ts";
import { scratchDirs } from "../../support/scratch.ts";

const scratch = scratchDirs("mp-journal-");

/**
 * Counts the journal's fdatasync calls and how many ran at once while `run` runs, each made to take
 * at least 30 ms more (a slow disk), so whether one sync waits for another shows.
 */
async function countSyncs(run: () => Promise<unknown>): Promise<{ syncs: number; mostAtOnce: number }> {
  const probe = await open(join(scratch(), "probe"), "w");
  const prototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const original = prototype.datasync;
  let syncs = 0;
  let running = 0;
  let mostAtOnce = 0;
  const spy = vi.spyOn(prototype, "datasync").mockImplementation(async function (this: unknown) {
    syncs++;
    mostAtOnce = Math.max(mostAtOnce, ++running);
    try {
      await new Promise((r) => setTimeout(r, 30));
      return await original.call(this);
    } finally {
      running--;
    }
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return { syncs, mostAtOnce };
}

describe("Journal", () => {
  it("commits small records that arrive during a sync together in the next one, without overlapping syncs", async () => {
    const { journal } = await Journal.open(scratch());
    const body = Buffer.alloc(2048, 0x61);
    const counted = await countSyncs(() =>
      Promise.all(Array.from({ length: 40 }, (_, i) => journal.append({ id: `s${i}` }, body))),
    );
    // The first record goes alone; the 39 that queue behind its sync share the next one.
    expect(counted).toEqual({ syncs: 2, mostAtOnce: 1 });
    await journal.close();
  });

  it("lets the sync of large records overlap the running one", async () => {
    const { journal } = await Journal.open(scratch());
    const body = Buffer.alloc(100 * 1024, 0x62);
    const counted = await countSyncs(() =>
      Promise.all(Array.from({ length: 40 }, (_, i) => journal.append({ id: `l${i}` }, body))),
    );
    expect(counted.mostAtOnce).toBe(2);
    expect(counted.syncs).toBeLessThan(40);
    await journal.close();
  });

  it("returns every committed record that was not marked done after reopening", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir);
    const refs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => journal.append({ id: `m${i}` }, Buffer.from(`body ${i}`))),
    );
    for (const ref of refs.slice(0, 20)) journal.markDone(ref);
    await journal.close();
    const { journal: again, recovered } = await Journal.open(dir);
    expect(recovered.map((r) => (r.meta as { id: string }).id)).toEqual(
      Array.from({ length: 30 }, (_, i) => `m${i + 20}`),
    );
    const { body } = await again.read(recovered[0]!.ref);
    expect(body.toString()).toBe("body 20");
    await again.close();
  });

  it("ignores a torn record at the end of a segment", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir);
    await journal.append({ id: "whole" }, Buffer.from("x"));
    await journal.close();
    const segment = readdirSync(dir).find((f) => f.endsWith(".log"))!;
    appendFileSync(join(dir, segment), Buffer.from([0x4d, 0x50, 0x51, 0x31, 0, 0, 0, 9]));
    const { journal: again, recovered } = await Journal.open(dir);
    expect(recovered.map((r) => r.meta)).toEqual([{ id: "whole" }]);
    await again.close();
  });

  it("deletes a retired segment once all its records are done", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir);
    const ref = await journal.append({ id: "a" }, Buffer.from("x"));
    await journal.close();
    const { journal: again, recovered } = await Journal.open(dir);
    expect(recovered).toHaveLength(1);
    again.markDone(ref);
    await again.close();
    expect(readdirSync(dir).filter((f) => f.startsWith("000000000001"))).toEqual([]);
  });

  it("reuses finished segment files without resurrecting the records they held", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir, 4096);
    // Fill and finish a few segments so they become spares, then write new records into the reused files.
    for (let round = 0; round < 4; round++) {
      const refs = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          journal.append({ id: `old${round}-${i}` }, Buffer.alloc(400, 98)),
        ),
      );
      for (const ref of refs) journal.markDone(ref);
    }
    const fresh = await journal.append({ id: "fresh" }, Buffer.from("new"));
    await journal.close();
    expect(readdirSync(dir).some((f) => f.startsWith("spare-"))).toBe(true);
    const { journal: again, recovered } = await Journal.open(dir, 4096);
    expect(recovered.map((r) => r.meta)).toEqual([{ id: "fresh" }]);
    expect((await again.read(recovered[0]!.ref)).body.toString()).toBe("new");
    expect(fresh.segment).toBe(recovered[0]!.ref.segment);
    await again.close();
  });

  it("starts a new segment once the current one passed its size limit", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir, 4096);
    const first = await Promise.all(
      Array.from({ length: 40 }, (_, i) => journal.append({ id: i }, Buffer.alloc(512, 97))),
    );
    const second = await Promise.all(
      Array.from({ length: 40 }, (_, i) => journal.append({ id: 40 + i }, Buffer.alloc(512, 97))),
    );
    expect(second[0]!.segment).toBeGreaterThan(first[0]!.segment);
    await journal.close();
    const { journal: again, recovered } = await Journal.open(dir);
    expect(recovered).toHaveLength(80);
    await again.close();
  });
});
