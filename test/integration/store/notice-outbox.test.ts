/** The store's notice outbox on SQLite and PostgreSQL: a key is queued once, every notice is claimed by one engine among many racing on two connections, a claim holds until it runs out, a sent notice is never handed out again. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Two connections to one fresh store, as two engines would hold. */
const backends: { name: string; open(): Promise<[Store, Store]> }[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-notice-outbox-"));
      tempDirs.push(dir);
      const path = join(dir, "mailplane.db");
      return [await openSqliteStore({ path }), await openSqliteStore({ path })];
    },
  },
  {
    name: "postgres",
    async open() {
      const url = inject("postgresUrl");
      const schema = `notice_outbox_${randomBytes(6).toString("hex")}`;
      const first = await openPostgresStore({ url, schema });
      return [first, await openPostgresStore({ url, schema })];
    },
  },
];

const notice = (key: string) => ({
  key,
  accountId: "acme",
  domain: "example.com",
  to: "ana@example.com",
  subject: `Notice ${key}`,
  text: "body",
});

describe.each(backends)("notice outbox on $name", (backend) => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const stores = async () => {
    const pair = await backend.open();
    open.push(...pair);
    return pair;
  };

  it("queues a key once: a second notice with the same key is dropped", async () => {
    const [a, b] = await stores();
    expect(await a.enqueueNotice(notice("login-failed/ana/1"))).toBe(true);
    expect(await b.enqueueNotice({ ...notice("login-failed/ana/1"), subject: "again" })).toBe(false);
    const claimed = await a.claimNotices({ claimant: "e1", forMs: 60_000, limit: 10 });
    expect(claimed.map((n) => [n.key, n.subject])).toEqual([
      ["login-failed/ana/1", "Notice login-failed/ana/1"],
    ]);
  });

  it("hands each notice to exactly one of many claimants racing on two connections", async () => {
    const [a, b] = await stores();
    const keys = Array.from({ length: 30 }, (_, i) => `n/${String(i).padStart(2, "0")}`);
    for (const key of keys) await a.enqueueNotice(notice(key));
    const rounds = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).claimNotices({ claimant: `engine-${i}`, forMs: 60_000, limit: 30 }),
      ),
    );
    const claimed = rounds.flat().map((n) => n.key);
    // Every notice claimed, none twice: two engines sending one notice is one mail too many.
    expect(claimed.sort()).toEqual(keys);
  });

  it("keeps a claimed notice from others until the claim runs out, then hands it on; never a sent one", async () => {
    const [a, b] = await stores();
    await a.enqueueNotice(notice("held"));
    await a.enqueueNotice(notice("stuck"));
    expect((await a.claimNotices({ claimant: "a", forMs: 60_000, limit: 1 })).map((n) => n.key)).toEqual([
      "held",
    ]);
    expect((await b.claimNotices({ claimant: "b", forMs: 0, limit: 10 })).map((n) => n.key)).toEqual([
      "stuck",
    ]);
    // "stuck"'s claim (0 ms) has run out: its engine stopped before sending, so another takes it.
    expect((await a.claimNotices({ claimant: "c", forMs: 60_000, limit: 10 })).map((n) => n.key)).toEqual([
      "stuck",
    ]);
    await a.markNoticeSent({ key: "held", claimant: "a", queueId: "q1" });
    await a.markNoticeSent({ key: "stuck", claimant: "c", queueId: "q2" });
    expect(await b.claimNotices({ claimant: "d", forMs: 0, limit: 10 })).toEqual([]);
    expect(await a.enqueueNotice(notice("held"))).toBe(false);
  });
});
