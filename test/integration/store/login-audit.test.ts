/** The store's login audit (migration 7) on SQLite and PostgreSQL: coalescing per hour, the per-domain cap, the retention purge, filters and pages, and failures written with their lockout count. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import {
  type LoginAttemptInput,
  openPostgresStore,
  openSqliteStore,
  type Store,
  type StoreOptions,
} from "../../../platform/store/index.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const MINUTE = 60_000;
const DAY = 86_400_000;

const backends: { name: string; open(options?: StoreOptions): Promise<Store> }[] = [
  {
    name: "sqlite",
    async open(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-login-audit-"));
      tempDirs.push(dir);
      return openSqliteStore({ path: join(dir, "mailplane.db"), ...options });
    },
  },
  {
    name: "postgres",
    open: (options = {}) =>
      openPostgresStore({
        url: inject("postgresUrl"),
        schema: `login_audit_${randomBytes(6).toString("hex")}`,
        ...options,
      }),
  },
];

/** A failed API sign-in of `address` from `ip` at `at` at acme's example.com. */
function attempt(over: Partial<LoginAttemptInput> = {}): LoginAttemptInput {
  return {
    accountId: "acme",
    domain: "example.com",
    address: "alice@example.com",
    userExists: true,
    ip: "192.0.2.1",
    service: "api",
    result: "failure",
    reason: "bad-credentials",
    credential: null,
    at: T0,
    ...over,
  };
}

describe.each(backends)("login audit on $name", (backend) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("counts repeated attempts with the same facts within a clock hour on one entry, and starts a new one the next hour", async () => {
    store = await backend.open();
    for (let i = 0; i < 5; i++) await store.recordLoginAttempt(attempt({ at: T0 + i * MINUTE }));
    await store.recordLoginAttempt(attempt({ at: T0 + 61 * MINUTE }));
    await store.recordLoginAttempt(attempt({ at: T0 + 2 * MINUTE, result: "success", reason: null }));
    const page = await store.listLoginAudit({ accountId: "acme", limit: 10 });
    expect(page.items.map((e) => [e.result, e.count, e.firstAt, e.lastAt])).toEqual([
      ["success", 1, new Date(T0 + 2 * MINUTE).toISOString(), new Date(T0 + 2 * MINUTE).toISOString()],
      ["failure", 1, new Date(T0 + 61 * MINUTE).toISOString(), new Date(T0 + 61 * MINUTE).toISOString()],
      ["failure", 5, new Date(T0).toISOString(), new Date(T0 + 4 * MINUTE).toISOString()],
    ]);
  });

  it("folds attempts past the per-domain hourly cap into one overflow entry (IP and unknown names `*`), so rotating IPs and names adds no rows", async () => {
    store = await backend.open({ loginAudit: { maxEntriesPerDomainHour: 3 } });
    for (let i = 0; i < 40; i++) {
      await store.recordLoginAttempt(
        attempt({ ip: `198.51.100.${i}`, address: `guess${i}@example.com`, userExists: false, at: T0 + i }),
      );
    }
    await store.recordLoginAttempt(attempt({ ip: "203.0.113.9", at: T0 + 100 }));
    // Another domain has its own allowance.
    await store.recordLoginAttempt(attempt({ domain: "other.example", address: "bob@other.example" }));
    const page = await store.listLoginAudit({ accountId: "acme", domain: "example.com", limit: 100 });
    expect(page.items).toHaveLength(5);
    const overflow = page.items.find((e) => e.ip === "*" && e.address === "*");
    expect(overflow?.count).toBe(37);
    // A user's own address stays itself on the overflow entry.
    expect(page.items.find((e) => e.ip === "*" && e.address === "alice@example.com")?.count).toBe(1);
    const total = page.items.reduce((n, e) => n + e.count, 0);
    expect(total).toBe(41);
    expect(
      (await store.listLoginAudit({ accountId: "acme", domain: "other.example", limit: 10 })).items,
    ).toHaveLength(1);
  });

  it("purges entries past the retention (90 days by default) after a later write", async () => {
    let clock = T0;
    store = await backend.open({ now: () => new Date(clock) });
    await store.recordLoginAttempt(attempt({ at: T0 }));
    await store.recordLoginAttempt(attempt({ at: T0 + 89 * DAY, ip: "192.0.2.2" }));
    clock = T0 + 91 * DAY;
    await store.recordLoginAttempt(attempt({ at: clock, ip: "192.0.2.3" }));
    const page = await store.listLoginAudit({ accountId: "acme", limit: 10 });
    expect(page.items.map((e) => e.ip)).toEqual(["192.0.2.3", "192.0.2.2"]);
  });

  it("filters by domain, address, result, service and time, pages by cursor, and never shows another account's entries", async () => {
    store = await backend.open();
    for (let i = 0; i < 5; i++) {
      await store.recordLoginAttempt(attempt({ ip: `192.0.2.${i}`, at: T0 + i * MINUTE }));
    }
    await store.recordLoginAttempt(
      attempt({ service: "smtp-submission", result: "success", reason: null, credential: "app-password" }),
    );
    await store.recordLoginAttempt(attempt({ address: "bob@example.com", ip: "192.0.2.50" }));
    await store.recordLoginAttempt(
      attempt({ accountId: "globex", domain: "globex.example", address: "x@globex.example" }),
    );

    const first = await store.listLoginAudit({
      accountId: "acme",
      address: "alice@example.com",
      result: "failure",
      limit: 3,
    });
    expect(first.items.map((e) => e.ip)).toEqual(["192.0.2.4", "192.0.2.3", "192.0.2.2"]);
    const second = await store.listLoginAudit({
      accountId: "acme",
      address: "alice@example.com",
      result: "failure",
      limit: 3,
      cursor: first.nextCursor!,
    });
    expect(second.items.map((e) => e.ip)).toEqual(["192.0.2.1", "192.0.2.0"]);
    expect(second.nextCursor).toBeNull();

    const smtp = await store.listLoginAudit({ accountId: "acme", service: "smtp-submission", limit: 10 });
    expect(smtp.items).toMatchObject([{ credential: "app-password", result: "success", reason: null }]);
    const window = await store.listLoginAudit({
      accountId: "acme",
      since: new Date(T0 + 2 * MINUTE).toISOString(),
      until: new Date(T0 + 4 * MINUTE).toISOString(),
      limit: 10,
    });
    expect(window.items.map((e) => e.ip)).toEqual(["192.0.2.3", "192.0.2.2"]);
    const all = await store.listLoginAudit({ accountId: "acme", limit: 100 });
    expect(all.items.some((e) => e.domain === "globex.example")).toBe(false);
    expect((await store.listLoginAudit({ accountId: "globex", limit: 100 })).items).toHaveLength(1);
  });

  it("writes a failure's entry in the lockout's transaction", async () => {
    store = await backend.open();
    await store.recordLoginFailure({
      key: "192.0.2.9",
      ip: "192.0.2.9",
      at: T0,
      policy: { failures: 5, windowMs: 10 * MINUTE, durationMs: 15 * MINUTE },
      target: { accountId: "acme", domain: "example.com" },
      user: "alice@example.com",
      reason: "wrong-password",
      counted: true,
      attempt: attempt({ ip: "192.0.2.9" }),
    });
    expect((await store.listLoginAudit({ accountId: "acme", limit: 10 })).items).toMatchObject([
      { ip: "192.0.2.9", reason: "bad-credentials", count: 1 },
    ]);
    expect(await store.getLoginLockout("192.0.2.9", T0)).toMatchObject({ failures: 1 });
  });
});
