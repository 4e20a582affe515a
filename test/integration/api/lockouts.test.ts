/** `GET /v1/lockouts` and `DELETE /v1/lockouts/:key` on a real control plane over SQLite and PostgreSQL: who sees and lifts what, audited; tokens expiring in the past refused. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoginFailureInput } from "../../../platform/store/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

const POLICY = { failures: 3, windowMs: 10 * 60_000, durationMs: 15 * 60_000 };

describe.each(BACKENDS)("login lockouts API on $name", (backend) => {
  let h: Harness;
  let a: { id: string; token: string };
  let b: { id: string; token: string };
  const dA = uniqueDomain("lock-a");
  const dB = uniqueDomain("lock-b");

  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant("la");
    b = await h.tenant("lb");
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Records `n` counted wrong-password failures from `ip` at `target`'s domain, as an engine on the store does. */
  async function fail(ip: string, key: string, target: { account: string; domain: string } | null, n = 1) {
    for (let i = 0; i < n; i++) {
      const failure: LoginFailureInput = {
        key,
        ip,
        at: Date.now(),
        policy: POLICY,
        target: target ? { accountId: target.account, domain: target.domain } : null,
        user: target ? `alice@${target.domain}` : null,
        reason: "wrong-password",
        counted: true,
      };
      await h.cp.store.recordLoginFailure(failure);
    }
  }

  /** A fresh IPv4 key for each test, so tests on one server do not see each other's keys. */
  let next = 1;
  const ipv4 = () => `198.51.100.${next++}`;

  it("lists every key with its domains for a platform admin, and only an account's own keys and domains to it", async () => {
    const both = ipv4();
    const onlyB = ipv4();
    const nobody = ipv4();
    await fail(both, both, { account: a.id, domain: dA }, 2);
    await fail(both, both, { account: b.id, domain: dB });
    await fail(onlyB, onlyB, { account: b.id, domain: dB });
    await fail(nobody, nobody, null);

    const all = await h.call("GET", "/v1/lockouts?limit=500", { token: h.adminToken });
    expect(all.status).toBe(200);
    const row = all.body.items.find((i: { key: string }) => i.key === both);
    // The lock consumed the counted failures; the domains keep the tally of what led to it.
    expect(row).toMatchObject({ key: both, failures: 0, lockedAt: expect.any(String) });
    expect(Date.parse(row.lockedUntil)).toBeGreaterThan(Date.now());
    expect(row.domains).toEqual([
      { domain: dA, account: a.id, failures: 2, lastFailureAt: expect.any(String) },
      { domain: dB, account: b.id, failures: 1, lastFailureAt: expect.any(String) },
    ]);
    const keys = all.body.items.map((i: { key: string }) => i.key);
    expect(keys).toEqual(expect.arrayContaining([both, onlyB, nobody]));

    const mine = await h.call("GET", "/v1/lockouts", { token: a.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i: { key: string }) => i.key)).toEqual([both]);
    expect(mine.body.items[0].domains.map((d: { domain: string }) => d.domain)).toEqual([dA]);
    expect(mine.text).not.toContain(dB);
    expect(mine.text).not.toContain(b.id);

    const asA = await h.call("GET", "/v1/lockouts", { token: h.adminToken, account: a.id });
    expect(asA.body.items.map((i: { key: string }) => i.key)).toEqual([both]);

    const locked = await h.call("GET", "/v1/lockouts?locked=true&limit=500", { token: h.adminToken });
    const lockedKeys = locked.body.items.map((i: { key: string }) => i.key);
    expect(lockedKeys).toContain(both);
    expect(lockedKeys).not.toContain(onlyB);
  });

  it("refuses the lockout endpoints to read-only and domain-admin tokens (403)", async () => {
    const ro = await h.token(a.id, "read-only");
    const da = await h.token(a.id, "domain-admin", [dA]);
    for (const token of [ro, da]) {
      expect((await h.call("GET", "/v1/lockouts", { token })).status).toBe(403);
      expect((await h.call("DELETE", "/v1/lockouts/198.51.100.250", { token })).status).toBe(403);
    }
    expect((await h.call("GET", "/v1/lockouts")).status).toBe(401);
  });

  it("lets a platform admin lift any key: it logs in again, and every account concerned audits who lifted it", async () => {
    const ip = ipv4();
    await fail(ip, ip, { account: a.id, domain: dA }, 2);
    await fail(ip, ip, { account: b.id, domain: dB });
    expect(await h.cp.store.loginLockedUntil(ip, Date.now())).toBeGreaterThan(0);

    const lifted = await h.call("DELETE", `/v1/lockouts/${ip}`, { token: h.adminToken });
    expect(lifted.status).toBe(204);
    expect(await h.cp.store.loginLockedUntil(ip, Date.now())).toBe(0);
    const after = await h.call("GET", "/v1/lockouts?limit=500", { token: h.adminToken });
    expect(after.body.items.map((i: { key: string }) => i.key)).not.toContain(ip);

    const admin = await h.call("GET", "/v1/whoami", { token: h.adminToken });
    for (const [tenant, domain] of [
      [a, dA],
      [b, dB],
    ] as const) {
      const audit = await h.call("GET", `/v1/audit?action=unlock&objectId=${ip}`, { token: tenant.token });
      expect(audit.body.items).toHaveLength(1);
      expect(audit.body.items[0]).toMatchObject({
        account: tenant.id,
        actor: { tokenId: admin.body.tokenId, role: "platform-admin" },
        kind: "LoginLockout",
        objectId: ip,
        after: null,
        requestId: expect.any(String),
      });
      expect(audit.body.items[0].before.domains).toEqual([{ domain, failures: domain === dA ? 2 : 1 }]);
    }
    // Lifted is gone: a second lift finds nothing.
    const again = await h.call("DELETE", `/v1/lockouts/${ip}`, { token: h.adminToken });
    expect(again).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
  });

  it("lets an account admin lift a key whose failures all aimed at its domains, names the /64 by any address in it, and audits it", async () => {
    const key = "2001:db8:77:1::/64";
    await fail("2001:db8:77:1::9", key, { account: a.id, domain: dA }, 3);
    expect(await h.cp.store.loginLockedUntil(key, Date.now())).toBeGreaterThan(0);

    // Someone else's key is not found (not forbidden: its existence is not theirs to learn).
    const byB = await h.call("DELETE", `/v1/lockouts/${encodeURIComponent(key)}`, { token: b.token });
    expect(byB).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
    expect(await h.cp.store.loginLockedUntil(key, Date.now())).toBeGreaterThan(0);

    const lifted = await h.call("DELETE", `/v1/lockouts/${encodeURIComponent("2001:db8:77:1:abcd::1")}`, {
      token: a.token,
    });
    expect(lifted.status).toBe(204);
    expect(await h.cp.store.loginLockedUntil(key, Date.now())).toBe(0);
    const me = await h.call("GET", "/v1/whoami", { token: a.token });
    const audit = await h.call("GET", "/v1/audit?action=unlock", { token: a.token });
    expect(audit.body.items[0]).toMatchObject({
      actor: { tokenId: me.body.tokenId, role: "account-admin" },
      objectId: key,
    });
    const auditB = await h.call("GET", "/v1/audit?action=unlock", { token: b.token });
    expect(auditB.text).not.toContain(key);
  });

  it("refuses an account admin a key that also concerns another account's domains (403), leaving it locked", async () => {
    const ip = ipv4();
    await fail(ip, ip, { account: a.id, domain: dA }, 2);
    await fail(ip, ip, { account: b.id, domain: dB });
    const res = await h.call("DELETE", `/v1/lockouts/${ip}`, { token: a.token });
    expect(res).toMatchObject({ status: 403, body: { code: "MP_FORBIDDEN" } });
    expect(await h.cp.store.loginLockedUntil(ip, Date.now())).toBeGreaterThan(0);
    const audit = await h.call("GET", `/v1/audit?action=unlock&objectId=${ip}`, { token: a.token });
    expect(audit.body.items).toEqual([]);
  });

  it("answers 404 naming the key for a key that is no address", async () => {
    const res = await h.call("DELETE", "/v1/lockouts/not-an-address", { token: h.adminToken });
    expect(res).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
    expect(res.body.detail).toContain("not-an-address");
  });

  it("refuses a token whose expiresAt is in the past with 422 naming expiresAt, and accepts a future one", async () => {
    const past = await h.call("POST", "/v1/tokens", {
      token: a.token,
      body: { role: "read-only", expiresAt: "2000-01-01T00:00:00.000Z" },
    });
    expect(past.status).toBe(422);
    expect(past.body.code).toBe("MP_VALIDATION_FAILED");
    expect(past.body.errors.map((e: { path: string[] }) => e.path)).toEqual([["expiresAt"]]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const ok = await h.call("POST", "/v1/tokens", {
      token: a.token,
      body: { role: "read-only", expiresAt: future },
    });
    expect(ok.status).toBe(201);
  });
});

describe.each(BACKENDS)("token expiry against the server's clock on $name", (backend) => {
  let h: Harness;
  // The server's clock runs a day ahead of the caller's: the model's own check cannot see this.
  const skew = 86_400_000;

  beforeAll(async () => {
    h = await startHarness(backend, { now: () => new Date(Date.now() + skew) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("refuses an expiresAt that is past on the server's clock though future on the caller's (422 expiresAt)", async () => {
    const t = await h.tenant("skew");
    const res = await h.call("POST", "/v1/tokens", {
      token: t.token,
      body: { role: "read-only", expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string[] }) => e.path)).toEqual([["expiresAt"]]);
  });
});
