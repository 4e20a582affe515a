/** The store's user sign-in state (migration 6) on SQLite and PostgreSQL, with two connections as two processes would hold: a TOTP step and a recovery code are used once, whoever races for them. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const backends = [
  {
    name: "sqlite",
    connect() {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-user-auth-"));
      tempDirs.push(dir);
      return () => openSqliteStore({ path: join(dir, "mailplane.db") });
    },
  },
  {
    name: "postgres",
    connect() {
      const url = inject("postgresUrl");
      const schema = `user_auth_${randomBytes(6).toString("hex")}`;
      return () => openPostgresStore({ url, schema });
    },
  },
];

const ctx = { actor: "ses_test", role: "email-user" };
const AT = "2026-03-01T12:00:00.000Z";

describe.each(backends)("user sign-in state in the $name store", (backend) => {
  let a: Store;
  let b: Store;
  const user = { accountId: "acme", userId: "alice@example.com" };

  beforeAll(async () => {
    const open = backend.connect();
    a = await open();
    b = await open();
    await a.enrolUserTotp({ ...user, sealedSecret: "{}", recoveryHashes: ["h1", "h2"], at: AT }, ctx);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("confirms an enrolment once, then accepts each newer step once, even when two connections race for it", async () => {
    expect(await a.useTotpStep({ ...user, step: 100, at: AT, confirm: true }, ctx)).toBe(true);
    expect(await b.useTotpStep({ ...user, step: 101, at: AT, confirm: true }, ctx)).toBe(false);
    for (const step of [101, 102, 103]) {
      const results = await Promise.all([
        a.useTotpStep({ ...user, step, at: AT, confirm: false }, ctx),
        b.useTotpStep({ ...user, step, at: AT, confirm: false }, ctx),
      ]);
      expect(results.filter(Boolean), `step ${step}`).toHaveLength(1);
    }
    expect(await a.useTotpStep({ ...user, step: 102, at: AT, confirm: false }, ctx)).toBe(false);
    expect((await b.getUserTotp(user.accountId, user.userId))?.lastStep).toBe(103);
  });

  it("consumes a recovery code once across connections, and refuses a confirmed enrolment's restart", async () => {
    const results = await Promise.all([
      a.useRecoveryCode(user.accountId, user.userId, "h1", ctx),
      b.useRecoveryCode(user.accountId, user.userId, "h1", ctx),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await a.getUserTotp(user.accountId, user.userId))?.recoveryCodesLeft).toBe(1);
    expect(await a.enrolUserTotp({ ...user, sealedSecret: "{}", recoveryHashes: [], at: AT }, ctx)).toBe(
      false,
    );
  });
});
