/** The message log on disk: files per domain lifetime rotated by day and size, retention per domain, streamed loading, bounded memory. */
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LogFields } from "../../../platform/smtp/message-log/entry.ts";
import { ownerDir } from "../../../platform/smtp/message-log/files.ts";
import { FileMessageLog, REPORTS_IN_MEMORY } from "../../../platform/smtp/message-log/log.ts";
import type { Owner } from "../../../platform/smtp/owners.ts";
import { scratchDirs } from "../../support/scratch.ts";

/** A fresh log folder per test, removed after it. */
const logDir = scratchDirs("mp-log-");

const DAY = 86_400_000;
const NOW = Date.parse("2026-03-10T12:00:00Z");
const acme: Owner = { accountId: "acme", domain: "a.example", generation: "ga" };
const beta: Owner = { accountId: "beta", domain: "b.example", generation: "gb" };

let seq = 0;
function fields(at: number, subject = "s"): LogFields {
  return {
    id: `m${seq++}`,
    at: new Date(at).toISOString(),
    listener: "inbound",
    clientIp: "192.0.2.1",
    clientHelo: "c",
    sender: "s@outside.example",
    subject,
    messageId: null,
    size: 100,
    classification: "clean",
    action: "accepted",
    reply: "250",
    score: 0,
    delivery: "queued",
    deliveryDetail: null,
  };
}

const open = (dir: string, opts: Partial<Parameters<typeof FileMessageLog.open>[0]> = {}) =>
  FileMessageLog.open({ dir, retentionDays: () => 28, now: () => NOW, ...opts });

describe("FileMessageLog", () => {
  it("keeps one folder per domain lifetime, one file series per UTC day, rotated past the size limit", async () => {
    const dir = logDir();
    const log = await open(dir, { maxFileBytes: 2_000 });
    for (let i = 0; i < 30; i++)
      log.record(fields(NOW - DAY), [{ owner: acme, recipients: ["x@a.example"] }]);
    for (let i = 0; i < 3; i++) log.record(fields(NOW), [{ owner: acme, recipients: ["x@a.example"] }]);
    await log.flush();
    // Size rotation happens between write batches: write a second batch of the previous day.
    for (let i = 0; i < 30; i++)
      log.record(fields(NOW - DAY), [{ owner: acme, recipients: ["x@a.example"] }]);
    await log.close();
    const files = readdirSync(ownerDir(dir, acme)).filter((f) => f.endsWith(".jsonl"));
    expect(files).toEqual(["2026-03-09_0000.jsonl", "2026-03-09_0001.jsonl", "2026-03-10_0000.jsonl"]);
    expect(readdirSync(join(dir, "acme"))).toEqual(["a.example@ga"]);
    const again = await open(dir);
    expect(await again.search(acme, {})).toHaveLength(63);
    await again.close();
  });

  it("records a transaction once per view, each with its own recipients, in its own folder", async () => {
    const dir = logDir();
    const log = await open(dir);
    const f = fields(NOW);
    log.record(f, [
      { owner: acme, recipients: ["x@a.example", "bob@b.example"] },
      { owner: beta, recipients: ["bob@b.example"] },
    ]);
    log.update(
      f.id,
      [
        { owner: acme, recipients: ["x@a.example"] },
        { owner: beta, recipients: ["bob@b.example"] },
      ],
      "deferred",
      "x is full",
      "x@a.example",
    );
    await log.close();
    const text = readFileSync(join(ownerDir(dir, beta), "2026-03-10_0000.jsonl"), "utf8");
    expect(text).not.toContain("x@a.example");
    expect(text).not.toContain("x is full");
    const again = await open(dir);
    expect(await again.search(beta, {})).toMatchObject([
      { id: f.id, domain: "b.example", recipients: ["bob@b.example"], delivery: "queued" },
    ]);
    expect(await again.search(acme, {})).toMatchObject([
      { id: f.id, delivery: "deferred", deliveryDetail: "x is full" },
    ]);
    await again.close();
  });

  it("applies each domain's retention: older entries are not served, dropped from memory and their day files deleted", async () => {
    const dir = logDir();
    let now = NOW;
    const retention = (o: Owner) => (o.domain === "a.example" ? 2 : 28);
    const log = await open(dir, { retentionDays: retention, now: () => now });
    for (const age of [5, 3, 1, 0]) {
      log.record(fields(NOW - age * DAY), [{ owner: acme, recipients: ["x@a.example"] }]);
      log.record(fields(NOW - age * DAY), [{ owner: beta, recipients: ["y@b.example"] }]);
    }
    expect(await log.search(acme, {})).toHaveLength(2);
    expect(await log.search(beta, {})).toHaveLength(4);
    expect((await log.statistics(acme, {}, "UTC")).total).toBe(2);
    await log.sweep();
    expect(log.entriesInMemory).toBe(6);
    await log.flush();
    expect(readdirSync(ownerDir(dir, acme))).toEqual([
      "2026-03-09_0000.jsonl",
      "2026-03-10_0000.jsonl",
      "owner.json",
    ]);
    expect(readdirSync(ownerDir(dir, beta)).filter((f) => f.endsWith(".jsonl"))).toHaveLength(4);
    await log.close();
    // A later start loads only what the retention keeps.
    now = NOW + DAY + 1_000;
    const again = await open(dir, { retentionDays: retention, now: () => now });
    expect(await again.search(acme, {})).toHaveLength(1);
    await again.close();
  });

  it("keeps at most maxEntriesInMemory entries in memory and serves older ones from the files, at start too", async () => {
    const dir = logDir();
    const log = await open(dir, { maxEntriesInMemory: 100 });
    for (let i = 0; i < 1_000; i++)
      log.record(fields(NOW - 1_000 + i, `n${i}`), [{ owner: acme, recipients: ["x@a.example"] }]);
    expect(log.entriesInMemory).toBe(100);
    const all = await log.search(acme, { limit: 5_000 });
    expect(all).toHaveLength(1_000);
    expect(all[0]!.subject).toBe("n999");
    expect(all[999]!.subject).toBe("n0");
    expect((await log.statistics(acme, {}, "UTC")).total).toBe(1_000);
    await log.close();
    const again = await open(dir, { maxEntriesInMemory: 100 });
    expect(again.entriesInMemory).toBeLessThanOrEqual(100);
    expect(await again.search(acme, { subject: "n1", limit: 5_000 })).toHaveLength(111);
    await again.close();
  });

  it("skips a torn last line after a crash and starts a new file rather than appending to it", async () => {
    const dir = logDir();
    const log = await open(dir);
    log.record(fields(NOW), [{ owner: acme, recipients: ["x@a.example"] }]);
    await log.close();
    appendFileSync(join(ownerDir(dir, acme), "2026-03-10_0000.jsonl"), '{"id":"torn","at":"2026-03');
    const again = await open(dir);
    expect(await again.search(acme, {})).toHaveLength(1);
    again.record(fields(NOW), [{ owner: acme, recipients: ["x@a.example"] }]);
    await again.close();
    expect(readdirSync(ownerDir(dir, acme)).filter((f) => f.endsWith(".jsonl"))).toEqual([
      "2026-03-10_0000.jsonl",
      "2026-03-10_0001.jsonl",
    ]);
    expect(await (await open(dir)).search(acme, {})).toHaveLength(2);
  });

  it("splits statistics into days of the domain's time zone", async () => {
    const log = await FileMessageLog.open({ dir: null, retentionDays: () => 28, now: () => NOW });
    // 23:30 UTC on the 9th is already the 10th in Tokyo (UTC+9), still the 9th in New York.
    log.record(fields(Date.parse("2026-03-09T23:30:00Z")), [{ owner: acme, recipients: ["x@a.example"] }]);
    log.record(fields(Date.parse("2026-03-09T10:00:00Z")), [{ owner: acme, recipients: ["x@a.example"] }]);
    const tokyo = await log.statistics(acme, {}, "Asia/Tokyo");
    expect(tokyo.days.map((d) => [d.date, d.total])).toEqual([
      ["2026-03-09", 1],
      ["2026-03-10", 1],
    ]);
    const utc = await log.statistics(acme, {}, "UTC");
    expect(utc.days.map((d) => [d.date, d.total])).toEqual([["2026-03-09", 2]]);
  });

  it("counts spam and ham reports in the reporting domain lifetime's statistics, per day, not as mail, across a restart", async () => {
    const dir = logDir();
    const log = await open(dir);
    const acmeAgain: Owner = { ...acme, generation: "ga2" };
    log.record(fields(NOW), [{ owner: acme, recipients: ["x@a.example"] }]);
    log.report(acme, "spam", new Date(NOW - DAY).toISOString());
    log.report(acme, "spam", new Date(NOW).toISOString());
    log.report(acme, "ham", new Date(NOW).toISOString());
    log.report(beta, "ham", new Date(NOW).toISOString());
    const check = async (l: FileMessageLog) => {
      const stats = await l.statistics(acme, {}, "UTC");
      expect(stats).toMatchObject({ total: 1, spamReports: 2, hamReports: 1 });
      expect(stats.days.map((d) => [d.date, d.total, d.spamReports, d.hamReports])).toEqual([
        ["2026-03-09", 0, 1, 0],
        ["2026-03-10", 1, 1, 1],
      ]);
      expect(await l.statistics(beta, {}, "UTC")).toMatchObject({ spamReports: 0, hamReports: 1 });
      // The domain deleted and created again starts with no reports.
      expect(await l.statistics(acmeAgain, {}, "UTC")).toMatchObject({ spamReports: 0, hamReports: 0 });
      const since = { from: new Date(NOW - 3_600_000).toISOString() };
      expect(await l.statistics(acme, since, "UTC")).toMatchObject({ spamReports: 1, hamReports: 1 });
      // Reports are not log entries.
      expect(await l.search(acme, {})).toHaveLength(1);
    };
    await check(log);
    await log.close();
    const again = await open(dir);
    expect(again.reportsInMemory).toBe(4);
    await check(again);
    await again.close();
  });

  it("keeps reports past the retention out of the statistics and drops them from memory", async () => {
    const log = await FileMessageLog.open({ dir: null, retentionDays: () => 2, now: () => NOW });
    log.report(acme, "spam", new Date(NOW - 5 * DAY).toISOString());
    log.report(acme, "spam", new Date(NOW).toISOString());
    expect(await log.statistics(acme, {}, "UTC")).toMatchObject({ spamReports: 1 });
    await log.sweep();
    expect(log.reportsInMemory).toBe(1);
  });

  it(`keeps at most ${REPORTS_IN_MEMORY} reports of a domain in memory and counts older ones from the files, once each`, async () => {
    const dir = logDir();
    const log = await open(dir);
    const extra = 7;
    for (let i = 0; i < REPORTS_IN_MEMORY + extra; i++)
      log.report(acme, "spam", new Date(NOW - 1_000_000 + i).toISOString());
    expect(log.reportsInMemory).toBe(REPORTS_IN_MEMORY);
    expect(await log.statistics(acme, {}, "UTC")).toMatchObject({ spamReports: REPORTS_IN_MEMORY + extra });
    await log.close();
    const again = await open(dir);
    expect(again.reportsInMemory).toBe(REPORTS_IN_MEMORY);
    expect(await again.statistics(acme, {}, "UTC")).toMatchObject({ spamReports: REPORTS_IN_MEMORY + extra });
    await again.close();
  });

  it("purges an owner's folder and entries", async () => {
    const dir = logDir();
    const log = await open(dir);
    log.record(fields(NOW), [
      { owner: acme, recipients: ["x@a.example"] },
      { owner: beta, recipients: ["y@b.example"] },
    ]);
    await log.flush();
    await log.purge(acme);
    expect(await log.search(acme, {})).toEqual([]);
    expect(readdirSync(join(dir, "acme"))).toEqual([]);
    expect(await log.search(beta, {})).toHaveLength(1);
    await log.close();
  });
});
