/** The store's record of report sends (migration 9) on SQLite and PostgreSQL: one claimant wins a send among many racing on two connections, a sent one is never claimed again, a run-out claim is taken over, and rows are purged after 35 days. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import {
  openPostgresStore,
  openSqliteStore,
  type Store,
  type StoreOptions,
} from "../../../platform/store/index.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** Opens two connections to one fresh store (as two engines would hold). */
const backends: { name: string; open(options?: StoreOptions): Promise<[Store, Store]> }[] = [
  {
    name: "sqlite",
    async open(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-report-sends-"));
      tempDirs.push(dir);
      const path = join(dir, "mailplane.db");
      const first = await openSqliteStore({ path, ...options });
      return [first, await openSqliteStore({ path, ...options })];
    },
  },
  {
    name: "postgres",
    async open(options = {}) {
      const url = inject("postgresUrl");
      const schema = `report_sends_${randomBytes(6).toString("hex")}`;
      const first = await openPostgresStore({ url, schema, ...options });
      return [first, await openPostgresStore({ url, schema, ...options })];
    },
  },
];

describe.each(backends)("report sends on $name", (backend) => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const stores = async (options?: StoreOptions) => {
    const pair = await backend.open(options);
    open.push(...pair);
    return pair;
  };

  it("lets exactly one of many claimants racing on two connections win a send", async () => {
    const [a, b] = await stores();
    const key = "digest|acme|example.com|g1|ana@example.com|2026-12-03";
    const won = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).claimReportSend({ key, claimant: `c${i}`, forMs: 60_000 }),
      ),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it("never hands out a sent one again, and hands a run-out unsent claim to the next claimant", async () => {
    const [a, b] = await stores();
    expect(await a.claimReportSend({ key: "sent", claimant: "a", forMs: 0 })).toBe(true);
    await a.markReportSent({ key: "sent", claimant: "a", queueId: "q1" });
    expect(await b.claimReportSend({ key: "sent", claimant: "b", forMs: 60_000 })).toBe(false);
    expect(await a.claimReportSend({ key: "stuck", claimant: "a", forMs: 0 })).toBe(true);
    expect(await b.claimReportSend({ key: "stuck", claimant: "b", forMs: 60_000 })).toBe(true);
    expect(await a.claimReportSend({ key: "stuck", claimant: "c", forMs: 60_000 })).toBe(false);
  });

  it("purges the record of a send 35 days after its claim, not before", async () => {
    let now = Date.parse("2026-12-03T09:00:00Z");
    const [a] = await stores({ now: () => new Date(now) });
    expect(await a.claimReportSend({ key: "old", claimant: "a", forMs: 60_000 })).toBe(true);
    await a.markReportSent({ key: "old", claimant: "a", queueId: "q" });
    now += 34 * DAY;
    // A claim runs the purge after it (at most daily): 34 days on, the old record still holds.
    expect(await a.claimReportSend({ key: "other", claimant: "b", forMs: 60_000 })).toBe(true);
    expect(await a.claimReportSend({ key: "old", claimant: "b", forMs: 60_000 })).toBe(false);
    now += 2 * DAY;
    expect(await a.claimReportSend({ key: "newer", claimant: "b", forMs: 60_000 })).toBe(true);
    expect(await a.claimReportSend({ key: "old", claimant: "b", forMs: 60_000 })).toBe(true);
  });
});
