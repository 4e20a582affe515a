/** The store's login lockouts (migration 5), run unchanged against SQLite (a temp file) and PostgreSQL (a schema of its own). */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import {
  type LoginFailureInput,
  openPostgresStore,
  openSqliteStore,
  type Store,
} from "../../../platform/store/index.ts";

const tempDirs: string[] = [];

interface Backend {
  name: "sqlite" | "postgres";
  /** A fresh store and a way to open the same one again (another process, or the same after a restart). */
  open(): Promise<{ store: Store; again: () => Promise<Store> }>;
}

const backends: Backend[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-lockouts-"));
      tempDirs.push(dir);
      const again = () => openSqliteStore({ path: join(dir, "mailplane.db") });
      return { store: await again(), again };
    },
  },
  {
    name: "postgres",
    async open() {
      const url = inject("postgresUrl");
      const schema = `lockouts_${randomBytes(6).toString("hex")}`;
      const again = () => openPostgresStore({ url, schema });
      return { store: await again(), again };
    },
  },
];

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const MINUTE = 60_000;
const POLICY = { failures: 3, windowMs: 10 * MINUTE, durationMs: 15 * MINUTE };

/** A counted wrong-password failure of `user` from `ip` at `at`. */
function failure(ip: string, at: number, target: string | null = "acme/example.com"): LoginFailureInput {
  const [accountId = "", domain = ""] = target?.split("/") ?? [];
  return {
    key: ip,
    ip,
    at,
    policy: POLICY,
    target: target ? { accountId, domain } : null,
    user: target ? `alice@${domain}` : null,
    reason: "wrong-password",
    counted: true,
  };
}

describe.each(backends)("login lockouts on $name", (backend) => {
  let store: Store;
  let again: () => Promise<Store>;
  const extra: Store[] = [];

  beforeEach(async () => {
    ({ store, again } = await backend.open());
  });
  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    await store.close();
  });

  it("locks a key after the policy's failures within the window, until the duration passed; other keys stay open", async () => {
    expect(await store.loginLockedUntil("192.0.2.1", T0)).toBe(0);
    expect(await store.recordLoginFailure(failure("192.0.2.1", T0))).toEqual({
      lockedUntil: 0,
      locked: false,
    });
    await store.recordLoginFailure(failure("192.0.2.1", T0 + MINUTE));
    expect(await store.loginLockedUntil("192.0.2.1", T0 + MINUTE)).toBe(0);
    const third = await store.recordLoginFailure(failure("192.0.2.1", T0 + 2 * MINUTE));
    expect(third).toEqual({ lockedUntil: T0 + 17 * MINUTE, locked: true });
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 3 * MINUTE)).toBe(T0 + 17 * MINUTE);
    expect(await store.loginLockedUntil("192.0.2.2", T0 + 3 * MINUTE)).toBe(0);
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 17 * MINUTE)).toBe(0);
  });

  it("does not lock for failures spread wider than the window", async () => {
    for (let i = 0; i < 6; i++) {
      expect((await store.recordLoginFailure(failure("192.0.2.1", T0 + i * 6 * MINUTE))).locked).toBe(false);
    }
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 31 * MINUTE)).toBe(0);
  });

  it("keeps a lockout across a reopen of the store (an engine restart)", async () => {
    for (let i = 0; i < 3; i++) await store.recordLoginFailure(failure("2001:db8:1:2::/64", T0 + i));
    await store.close();
    store = await again();
    expect(await store.loginLockedUntil("2001:db8:1:2::/64", T0 + MINUTE)).toBe(T0 + 2 + 15 * MINUTE);
  });

  it("counts failures from two connections together, each exactly once, even when they race", async () => {
    const other = await again();
    extra.push(other);
    const policy = { failures: 10, windowMs: 10 * MINUTE, durationMs: 15 * MINUTE };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? store : other).recordLoginFailure({ ...failure("192.0.2.9", T0 + i), policy }),
      ),
    );
    // Ten failures, threshold ten: exactly one of them locks, whichever connection it came through.
    expect(results.filter((r) => r.locked)).toHaveLength(1);
    expect(await other.loginLockedUntil("192.0.2.9", T0 + 20)).toBeGreaterThan(0);
    expect(await store.loginLockedUntil("192.0.2.9", T0 + 20)).toBeGreaterThan(0);
    const record = await store.getLoginLockout("192.0.2.9", T0 + 20);
    expect(record?.targets).toEqual([
      { accountId: "acme", domain: "example.com", failures: 10, lastFailureAt: expect.any(String) },
    ]);
  });

  it("lists current keys in key order with their domains; an account sees only keys and domains of its own", async () => {
    await store.recordLoginFailure(failure("192.0.2.1", T0, "acme/example.com"));
    await store.recordLoginFailure(failure("192.0.2.1", T0 + 1, "globex/globex.example"));
    await store.recordLoginFailure(failure("192.0.2.2", T0 + 2, "globex/globex.example"));
    await store.recordLoginFailure(failure("192.0.2.3", T0 + 3, null));
    for (let i = 0; i < 3; i++) await store.recordLoginFailure(failure("192.0.2.4", T0 + 10 + i));
    const at = T0 + MINUTE;

    const all = await store.listLoginLockouts({ at, limit: 10 });
    expect(all.items.map((r) => [r.key, r.failures, r.lockedUntil !== null])).toEqual([
      ["192.0.2.1", 2, false],
      ["192.0.2.2", 1, false],
      ["192.0.2.3", 1, false],
      ["192.0.2.4", 0, true],
    ]);
    expect(all.items[0]!.targets.map((t) => [t.accountId, t.domain])).toEqual([
      ["acme", "example.com"],
      ["globex", "globex.example"],
    ]);
    expect(all.items[2]!.targets.map((t) => [t.accountId, t.domain])).toEqual([[null, null]]);

    const acme = await store.listLoginLockouts({ accountId: "acme", at, limit: 10 });
    expect(acme.items.map((r) => r.key)).toEqual(["192.0.2.1", "192.0.2.4"]);
    expect(acme.items[0]!.targets.map((t) => t.domain)).toEqual(["example.com"]);

    const locked = await store.listLoginLockouts({ locked: true, at, limit: 10 });
    expect(locked.items.map((r) => r.key)).toEqual(["192.0.2.4"]);
    const open = await store.listLoginLockouts({ locked: false, at, limit: 10 });
    expect(open.items.map((r) => r.key)).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.3"]);

    const page1 = await store.listLoginLockouts({ at, limit: 3 });
    const page2 = await store.listLoginLockouts({ at, limit: 3, cursor: page1.nextCursor! });
    expect([...page1.items, ...page2.items].map((r) => r.key)).toEqual(all.items.map((r) => r.key));
    expect(page2.nextCursor).toBeNull();

    // Past the window (10 minutes) the unlocked keys no longer matter; the lock holds until +15 minutes.
    const later = await store.listLoginLockouts({ at: T0 + 11 * MINUTE, limit: 10 });
    expect(later.items.map((r) => r.key)).toEqual(["192.0.2.4"]);
    expect(await store.listLoginLockouts({ at: T0 + 16 * MINUTE, limit: 10 })).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it("audits every failed login in the target's account (never a password) and each lock in every account concerned", async () => {
    await store.recordLoginFailure(failure("192.0.2.1", T0, "acme/example.com"));
    await store.recordLoginFailure({ ...failure("192.0.2.1", T0 + 1, "globex/globex.example"), user: null });
    await store.recordLoginFailure({
      ...failure("192.0.2.1", T0 + 2, "acme/example.com"),
      reason: "unknown-user",
    });
    const acme = await store.listAudit({ accountId: "acme", limit: 10 });
    expect(acme.items.map((e) => [e.action, e.kind, e.objectId])).toEqual([
      ["lock", "LoginLockout", "192.0.2.1"],
      ["login-failed", "Login", "alice@example.com"],
      ["login-failed", "Login", "alice@example.com"],
    ]);
    expect(acme.items[2]).toMatchObject({
      actor: "system",
      after: { ip: "192.0.2.1", lockoutKey: "192.0.2.1", reason: "wrong-password", counted: true },
    });
    // Each account's lock entry names only its own domains.
    expect(acme.items[0]!.after).toMatchObject({
      key: "192.0.2.1",
      domains: [{ domain: "example.com", failures: 2 }],
    });
    const globex = await store.listAudit({ accountId: "globex", limit: 10 });
    expect(globex.items.map((e) => [e.action, e.objectId])).toEqual([
      ["lock", "192.0.2.1"],
      ["login-failed", "globex.example"],
    ]);
    expect(JSON.stringify(globex.items)).not.toContain('example.com"');
  });

  it("audits an uncounted failure (right password, account disabled) without counting it", async () => {
    for (let i = 0; i < 5; i++) {
      await store.recordLoginFailure({ ...failure("192.0.2.1", T0 + i), reason: "disabled", counted: false });
    }
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 10)).toBe(0);
    expect(await store.getLoginLockout("192.0.2.1", T0 + 10)).toBeUndefined();
    const audit = await store.listAudit({ accountId: "acme", action: "login-failed", limit: 10 });
    expect(audit.items).toHaveLength(5);
    expect(audit.items[0]!.after).toMatchObject({ reason: "disabled", counted: false });
  });

  it("lifts a lockout: the key logs in again, its failures are forgotten and each account concerned audits who lifted it", async () => {
    for (let i = 0; i < 2; i++)
      await store.recordLoginFailure(failure("192.0.2.1", T0 + i, "acme/example.com"));
    await store.recordLoginFailure(failure("192.0.2.1", T0 + 2, "globex/globex.example"));
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 3)).toBeGreaterThan(0);

    const ctx = { actor: "tok_admin", role: "platform-admin", requestId: "req-9" };
    const refused = new Error("not yours");
    await expect(
      store.liftLoginLockout({ key: "192.0.2.1", at: T0 + 3, guard: () => refused }, ctx),
    ).rejects.toBe(refused);
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 3)).toBeGreaterThan(0);

    const { before } = await store.liftLoginLockout({ key: "192.0.2.1", at: T0 + 3 }, ctx);
    expect(before.lockedUntil).not.toBeNull();
    expect(await store.loginLockedUntil("192.0.2.1", T0 + 4)).toBe(0);
    expect(await store.getLoginLockout("192.0.2.1", T0 + 4)).toBeUndefined();
    await expect(store.liftLoginLockout({ key: "192.0.2.1", at: T0 + 4 }, ctx)).rejects.toMatchObject({
      code: "not_found",
    });
    for (const [account, domain] of [
      ["acme", "example.com"],
      ["globex", "globex.example"],
    ] as const) {
      const entry = (await store.listAudit({ accountId: account, action: "unlock", limit: 10 })).items;
      expect(entry).toHaveLength(1);
      expect(entry[0]).toMatchObject({
        actor: "tok_admin",
        actorRole: "platform-admin",
        requestId: "req-9",
        kind: "LoginLockout",
        objectId: "192.0.2.1",
        after: null,
      });
      expect((entry[0]!.before as { domains: unknown[] }).domains).toEqual([
        { domain, failures: domain === "example.com" ? 2 : 1 },
      ]);
    }
    // Counting starts over: one more failure does not lock again.
    expect((await store.recordLoginFailure(failure("192.0.2.1", T0 + 5))).locked).toBe(false);
  });

  it("starts a key over once its lock ended and its failures aged out, and purges such keys", async () => {
    for (let i = 0; i < 3; i++)
      await store.recordLoginFailure(failure("192.0.2.1", T0 + i, "globex/globex.example"));
    await store.recordLoginFailure(failure("192.0.2.2", T0));
    // Lock ends at +15 minutes; a failure after that starts a fresh record (globex no longer concerned).
    const later = T0 + 20 * MINUTE;
    await store.recordLoginFailure(failure("192.0.2.1", later, "acme/example.com"));
    const record = await store.getLoginLockout("192.0.2.1", later);
    expect(record).toMatchObject({ failures: 1, lockedUntil: null });
    expect(record!.targets.map((t) => [t.accountId, t.failures])).toEqual([["acme", 1]]);
    // The purge (at most once a minute) removed 192.0.2.2, whose failure aged out at +10 minutes.
    const other = await again();
    extra.push(other);
    expect(await other.listLoginLockouts({ at: T0, limit: 10 })).toMatchObject({
      items: [{ key: "192.0.2.1" }],
    });
  });
});
