/** The spool journal: group commit, recovery of undone records, torn tails ignored, segments removed when done. */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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

  it("ignores a record torn mid-body and one failing its checksum, and reads the same file whole otherwise", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir);
    const whole = await journal.append({ id: "whole" }, Buffer.alloc(600, 0x61));
    const torn = await journal.append({ id: "torn" }, Buffer.alloc(600, 0x62));
    await journal.close();
    const segment = join(dir, readdirSync(dir).find((f) => f.endsWith(".log"))!);
    const pristine = readFileSync(segment);
    const reopen = async () => {
      const { journal: again, recovered } = await Journal.open(dir);
      await again.close();
      return recovered.map((r) => r.meta);
    };
    // Untouched, both records come back: the damage below is what hides the second one.
    expect(await reopen()).toEqual([{ id: "whole" }, { id: "torn" }]);
    // Torn: the write reached the disk only up to the middle of the body (the rest reads as zeros,
    // as in the pre-sized segment file).
    writeFileSync(segment, pristine);
    const end = torn.offset + 20 + torn.metaLength + torn.bodyLength;
    const cut = Buffer.from(pristine);
    cut.fill(0, torn.offset + 20 + torn.metaLength + 300, end);
    writeFileSync(segment, cut);
    expect(await reopen()).toEqual([{ id: "whole" }]);
    // Corrupt: one bit of the body flipped, length and magic intact.
    const flipped = Buffer.from(pristine);
    flipped[end - 1] = flipped[end - 1]! ^ 1;
    writeFileSync(segment, flipped);
    expect(await reopen()).toEqual([{ id: "whole" }]);
    expect(whole.offset).toBe(0);
  });

  it("never hands out a segment number twice, so a recycled file's old records stay dead", async () => {
    const dir = scratch();
    const first = await Journal.open(dir);
    // Two records, both done: the segment becomes a spare file still holding them.
    const old = await Promise.all([
      first.journal.append({ id: "old-1" }, Buffer.alloc(100, 0x61)),
      first.journal.append({ id: "old-2" }, Buffer.alloc(100, 0x61)),
    ]);
    for (const ref of old) first.journal.markDone(ref);
    await first.journal.close();
    expect(readdirSync(dir).some((f) => f.startsWith("spare-"))).toBe(true);
    // The next life reuses the spare; its first record overwrites only the first old one.
    const second = await Journal.open(dir);
    expect(second.recovered).toEqual([]);
    const fresh = await second.journal.append({ id: "new-1" }, Buffer.alloc(100, 0x61));
    await second.journal.close();
    expect(fresh.segment).toBeGreaterThan(old[0]!.segment);
    const third = await Journal.open(dir);
    expect(third.recovered.map((r) => r.meta)).toEqual([{ id: "new-1" }]);
    await third.journal.close();
  });

  it("gives a record larger than a segment a segment of its own, and reads it back after reopening", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir, 4096);
    const small = await journal.append({ id: "small" }, Buffer.alloc(100, 0x61));
    const large = await journal.append({ id: "large" }, Buffer.alloc(20_000, 0x62));
    const after = await journal.append({ id: "after" }, Buffer.alloc(100, 0x63));
    expect(large.segment).toBeGreaterThan(small.segment);
    expect(after.segment).toBeGreaterThanOrEqual(large.segment);
    await journal.close();
    const { journal: again, recovered } = await Journal.open(dir, 4096);
    expect(recovered.map((r) => r.meta)).toEqual([{ id: "small" }, { id: "large" }, { id: "after" }]);
    expect((await again.read(recovered[1]!.ref)).body).toEqual(Buffer.alloc(20_000, 0x62));
    await again.close();
  }, 10_000);

  it("opens a journal whose finished segment still has its done marks (a crash before their removal)", async () => {
    const dir = scratch();
    const { journal } = await Journal.open(dir);
    const ref = await journal.append({ id: "done" }, Buffer.from("x"));
    journal.markDone(ref);
    // Let the mark reach its file, then "crash": copy the folder as it is, before close() tidies up.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    const crashed = scratch();
    cpSync(dir, crashed, { recursive: true });
    await journal.close();
    expect(readdirSync(crashed).some((f) => f.endsWith(".done"))).toBe(true);
    const { journal: again, recovered } = await Journal.open(crashed);
    expect(recovered).toEqual([]);
    expect(readdirSync(crashed).filter((f) => f.endsWith(".done"))).toEqual([]);
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
