/** Mail users' sign-in on a real control plane over SQLite and PostgreSQL: sessions, idle and absolute timeout (injected clock), lockout per IP, expired passwords, TOTP computed independently by Python, recovery codes, required 2FA, application passwords, and the wall between sessions and admin endpoints. */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { BACKENDS, type CallOptions, type Harness, startHarness, uniqueDomain } from "./harness.ts";
import { pythonTotp } from "./python-totp.ts";

/** POSTs JSON from another loopback address (another client IP); node:http binds the local address. */
function postFrom(
  localAddress: string,
  url: string,
  body: object,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: "POST", localAddress, headers: { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const PASSWORD = "Correct-Horse-7";
const MINUTE = 60_000;

describe.each(BACKENDS)("mail user sign-in on $name", (backend) => {
  let h: Harness;
  let store: Store;
  let dbDir = "";
  let clock = Date.now();
  let acme: { id: string; token: string };
  const domain = uniqueDomain("signin");
  const strict = uniqueDomain("signin-2fa");
  const expiring = uniqueDomain("signin-exp");
  const alice = `alice@${domain}`;

  const admin = (o: CallOptions = {}) => ({ token: acme.token, ...o });
  const put = async (path: string, body: object) => {
    const res = await h.call("PUT", path, admin({ body }));
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  const signIn = (address: string, password: string) =>
    h.call("POST", "/v1/sessions", { body: { address, password } });
  const as = (token: string, o: CallOptions = {}) => ({ token, ...o });
  const lift = () => h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });

  beforeAll(async () => {
    // The store keeps the same (injected) time as the API: password ages, session and audit times.
    const now = () => new Date(clock);
    const dir = mkdtempSync(join(tmpdir(), "mp-signin-"));
    store =
      backend.name === "postgres"
        ? await openPostgresStore({
            url: inject("postgresUrl"),
            schema: `signin_${randomBytes(6).toString("hex")}`,
            now,
          })
        : await openSqliteStore({ path: join(dir, "mailplane.db"), now });
    dbDir = dir;
    h = await startHarness(backend, { now, rateLimit: false, store });
    acme = await h.tenant("signin");
    for (const d of [domain, strict, expiring]) {
      await put(`/v1/domains/${d}`, { name: d });
      await put(`/v1/domains/${d}/users/alice@${d}`, { address: `alice@${d}`, password: PASSWORD });
    }
    await put(`/v1/domains/${domain}/users/bob@${domain}`, { address: `bob@${domain}`, password: PASSWORD });
    await put(`/v1/domains/${domain}/password-policy`, {
      scope: domain,
      sessionTimeoutMinutes: 5,
      lockout: { failures: 3, windowMinutes: 10, durationMinutes: 15 },
    });
    await put(`/v1/domains/${strict}/password-policy`, { scope: strict, requireTwoFactor: true });
    await put(`/v1/domains/${expiring}/password-policy`, {
      scope: expiring,
      expiry: { days: 7, warnDays: [3] },
    });
  });
  afterAll(async () => {
    await h?.close();
    await store?.close();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it("signs in with address and password and answers an opaque session whose secret the store keeps only hashed", async () => {
    const res = await signIn(alice.toUpperCase(), PASSWORD);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ address: alice, stage: "active", idleTimeoutMinutes: 5 });
    expect(res.body.token).toMatch(/^mps_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(res.body.expiresAt)).toBe(clock + 12 * 60 * MINUTE);
    const me = await h.call("GET", "/v1/me", as(res.body.token));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ address: alice, domain, twoFactor: "off" });
    const hash = createHash("sha256").update(`session:${res.body.token}`).digest("hex");
    expect((await store.findUserSession(hash))?.userId).toBe(alice);
    if (backend.name === "sqlite") {
      const files = readdirSync(dbDir).filter((f) => f.startsWith("mailplane.db"));
      for (const f of files) {
        expect(readFileSync(join(dbDir, f)).includes(res.body.token), f).toBe(false);
      }
    }
    expect(h.logs.join("").includes(res.body.token)).toBe(false);
    expect(h.logs.join("").includes(PASSWORD)).toBe(false);
  });

  it("answers one 401 MP_SIGN_IN_FAILED for a wrong password, an unknown address and a disabled user", async () => {
    await lift();
    const wrong = await signIn(alice, "Wrong-Horse-7");
    const unknown = await signIn(`nobody@${domain}`, PASSWORD);
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("MP_SIGN_IN_FAILED");
    expect(unknown.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
    // Not even an address (found by the API fuzz test: it was a 500).
    expect((await signIn("0", PASSWORD)).status).toBe(401);
    await h.call("PATCH", `/v1/domains/${domain}/users/bob@${domain}`, admin({ body: { enabled: false } }));
    const disabled = await signIn(`bob@${domain}`, PASSWORD);
    expect(disabled.status).toBe(401);
    expect(disabled.body.detail).toBe(wrong.body.detail);
    await h.call("PATCH", `/v1/domains/${domain}/users/bob@${domain}`, admin({ body: { enabled: true } }));
    await lift();
  });

  it("locks the client's IP out after the policy's failures (429 even with the right password) while another IP signs in", async () => {
    await lift();
    for (let i = 0; i < 3; i++) expect((await signIn(alice, "Wrong-Horse-7")).status).toBe(401);
    const locked = await signIn(alice, PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe("MP_LOGIN_LOCKED");
    expect(Number(locked.headers["retry-after"])).toBe(15 * 60);

    const elsewhere = await postFrom("127.0.0.2", `${h.url}/v1/sessions`, {
      address: alice,
      password: PASSWORD,
    });
    expect(elsewhere.status, elsewhere.text).toBe(201);

    const lockouts = await h.call("GET", "/v1/lockouts", admin());
    expect(lockouts.body.items.map((l: { key: string }) => l.key)).toContain("127.0.0.1");
    // The lock ends after the policy's 15 minutes.
    clock += 15 * MINUTE + 1000;
    expect((await signIn(alice, PASSWORD)).status).toBe(201);
  });

  it("ends a session idle past the policy's sessionTimeoutMinutes, and keeps one in use alive", async () => {
    const { token } = (await signIn(alice, PASSWORD)).body;
    clock += 4 * MINUTE;
    const used = await h.call("GET", "/v1/me", as(token));
    expect(used.status, used.text).toBe(200);
    clock += 4 * MINUTE;
    expect((await h.call("GET", "/v1/me", as(token))).status).toBe(200);
    clock += 5 * MINUTE;
    const idle = await h.call("GET", "/v1/me", as(token));
    expect(idle.status).toBe(401);
    expect(idle.body.detail).toContain("idle for 5 minutes");
  });

  it("ends a session 12 hours after sign-in however much it is used", async () => {
    await put(`/v1/domains/${domain}/password-policy`, { scope: domain, sessionTimeoutMinutes: 480 });
    const { token } = (await signIn(alice, PASSWORD)).body;
    clock += 7 * 60 * MINUTE;
    expect((await h.call("GET", "/v1/me", as(token))).status).toBe(200);
    clock += 4 * 60 * MINUTE;
    expect((await h.call("GET", "/v1/me", as(token))).status).toBe(200);
    clock += 61 * MINUTE;
    const expired = await h.call("GET", "/v1/me", as(token));
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toContain("expired");
    await put(`/v1/domains/${domain}/password-policy`, {
      scope: domain,
      sessionTimeoutMinutes: 5,
      lockout: { failures: 3, windowMinutes: 10, durationMinutes: 15 },
    });
  });

  it("signs out: the token stops working", async () => {
    const { token } = (await signIn(alice, PASSWORD)).body;
    expect((await h.call("DELETE", "/v1/sessions/current", as(token))).status).toBe(204);
    expect((await h.call("GET", "/v1/me", as(token))).status).toBe(401);
  });

  it("keeps sessions off admin endpoints (403) and admin tokens off /v1/me (403)", async () => {
    const { token } = (await signIn(alice, PASSWORD)).body;
    const users = await h.call("GET", `/v1/domains/${domain}/users`, as(token));
    expect(users.status).toBe(403);
    expect(users.body.code).toBe("MP_FORBIDDEN");
    expect((await h.call("GET", `/v1/domains/${domain}/quarantine`, as(token))).status).toBe(403);
    expect((await h.call("GET", "/v1/audit", as(token))).status).toBe(403);
    const me = await h.call("GET", "/v1/me", admin());
    expect(me.status).toBe(403);
    expect((await h.call("GET", "/v1/me", { token: h.adminToken })).status).toBe(403);
  });

  it("lets a session of an expired password only change it, then answers an active session and ends the others", async () => {
    const user = `alice@${expiring}`;
    // Signed in half an hour before the password's 7 days end: the session is held to it at expiry.
    const set = (await h.call("GET", `/v1/domains/${expiring}/users/${user}`, admin())).body
      .passwordChangedAt;
    clock = Date.parse(set) + 7 * 24 * 60 * MINUTE - 30 * MINUTE;
    const before = (await signIn(user, PASSWORD)).body.token;
    expect((await h.call("GET", "/v1/me/app-passwords", as(before))).status).toBe(200);
    clock += 31 * MINUTE;
    const held = await h.call("GET", "/v1/me/app-passwords", as(before));
    expect(held.status).toBe(403);
    expect(held.body.code).toBe("MP_SESSION_STEP_REQUIRED");
    const res = await signIn(user, PASSWORD);
    expect(res.body.stage).toBe("password-change");
    const limited = res.body.token;
    const refused = await h.call("GET", "/v1/me/app-passwords", as(limited));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("MP_SESSION_STEP_REQUIRED");
    const weak = await h.call(
      "PUT",
      "/v1/me/password",
      as(limited, { body: { currentPassword: PASSWORD, newPassword: "short" } }),
    );
    expect(weak.status).toBe(422);
    const changed = await h.call(
      "PUT",
      "/v1/me/password",
      as(limited, { body: { currentPassword: PASSWORD, newPassword: "Another-Horse-8" } }),
    );
    expect(changed.status).toBe(200);
    expect(changed.body.stage).toBe("active");
    expect((await h.call("GET", "/v1/me/app-passwords", as(changed.body.token))).status).toBe(200);
    expect((await h.call("GET", "/v1/me", as(limited))).status).toBe(401);
    expect((await h.call("GET", "/v1/me", as(before))).status).toBe(401);
    expect((await signIn(user, PASSWORD)).status).toBe(401);
    expect((await signIn(user, "Another-Horse-8")).body.stage).toBe("active");
    await lift();
  });

  it("enrols TOTP (otpauth URI, recovery codes), then asks for a code computed by Python at sign-in and refuses its replay", async () => {
    await lift();
    const session = (await signIn(alice, PASSWORD)).body.token;
    const enrol = await h.call("POST", "/v1/me/totp", as(session));
    expect(enrol.status).toBe(201);
    const { otpauthUri, secret, recoveryCodes } = enrol.body;
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe(`/mailplane:${alice}`);
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("digits")).toBe("6");
    expect(uri.searchParams.get("period")).toBe("30");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(recoveryCodes).toHaveLength(10);

    const bad = await h.call("POST", "/v1/me/totp/confirm", as(session, { body: { code: "000000" } }));
    expect(bad.status).toBe(401);
    const confirm = await h.call(
      "POST",
      "/v1/me/totp/confirm",
      as(session, { body: { code: pythonTotp(secret, clock) } }),
    );
    expect(confirm.status).toBe(200);
    expect((await h.call("GET", "/v1/me", as(confirm.body.token))).body.twoFactor).toBe("on");
    expect((await h.call("POST", "/v1/me/totp", as(confirm.body.token))).status).toBe(409);

    clock += 30_000;
    const pending = await signIn(alice, PASSWORD);
    expect(pending.body.stage).toBe("second-factor");
    const early = await h.call("GET", "/v1/me", as(pending.body.token));
    expect(early.status).toBe(403);
    expect(early.body.code).toBe("MP_SESSION_STEP_REQUIRED");
    const code = pythonTotp(secret, clock);
    const wrong = await h.call(
      "POST",
      "/v1/sessions/second-factor",
      as(pending.body.token, { body: { code: code === "123456" ? "654321" : "123456" } }),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("MP_SIGN_IN_FAILED");
    const done = await h.call(
      "POST",
      "/v1/sessions/second-factor",
      as(pending.body.token, { body: { code } }),
    );
    expect(done.status).toBe(201);
    expect(done.body.stage).toBe("active");
    expect((await h.call("GET", "/v1/me", as(done.body.token))).status).toBe(200);
    // The pending session ended with the step.
    expect((await h.call("GET", "/v1/me", as(pending.body.token))).status).toBe(401);

    // The same code again, within its 30 s, on a new sign-in: refused (RFC 6238 §5.2).
    const again = await signIn(alice, PASSWORD);
    const replay = await h.call(
      "POST",
      "/v1/sessions/second-factor",
      as(again.body.token, { body: { code } }),
    );
    expect(replay.status).toBe(401);
    // Three failures so far (the policy's limit): lifted, so the next step is about the code alone.
    await lift();
    // One step later the next code passes.
    clock += 30_000;
    const next = await h.call(
      "POST",
      "/v1/sessions/second-factor",
      as(again.body.token, { body: { code: pythonTotp(secret, clock) } }),
    );
    expect(next.status).toBe(201);
    await lift();

    // A recovery code works once.
    const third = await signIn(alice, PASSWORD);
    const recovery = recoveryCodes[3] as string;
    const used = await h.call(
      "POST",
      "/v1/sessions/second-factor",
      as(third.body.token, { body: { code: recovery.toLowerCase() } }),
    );
    expect(used.status).toBe(201);
    expect((await h.call("GET", "/v1/me", as(used.body.token))).body.recoveryCodesLeft).toBe(9);
    const fourth = await signIn(alice, PASSWORD);
    const reused = await h.call(
      "POST",
      "/v1/sessions/second-factor",
      as(fourth.body.token, { body: { code: recovery } }),
    );
    expect(reused.status).toBe(401);
    await lift();

    // The login audit names each second-factor step's credential kind, never the code.
    const logins = await h.call(
      "GET",
      `/v1/domains/${domain}/login-audit?user=${encodeURIComponent(alice)}&limit=500`,
      admin(),
    );
    const kinds = logins.body.items
      .filter(
        (e: { credential: string | null }) => e.credential === "totp" || e.credential === "recovery-code",
      )
      .map(
        (e: { result: string; credential: string; reason: string | null }) =>
          `${e.result}/${e.credential}/${e.reason}`,
      );
    expect(new Set(kinds)).toEqual(
      new Set([
        "success/totp/null",
        "failure/totp/second-factor",
        "success/recovery-code/null",
        "failure/recovery-code/second-factor",
      ]),
    );
    expect(JSON.stringify(logins.body)).not.toContain(recovery);

    // The secret and the codes never show again: not in answers, the audit log, the logs or the store.
    const audit = await h.call("GET", `/v1/audit?objectId=${encodeURIComponent(alice)}&limit=500`, admin());
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["totp-enrol", "totp-confirm", "recovery-code", "sign-in"]),
    );
    const seen = [...h.responses.filter((r) => !r.includes('"otpauthUri"')), ...h.logs].join("\n");
    expect(seen.includes(secret)).toBe(false);
    for (const c of recoveryCodes) expect(seen.includes(c), c).toBe(false);
    if (backend.name === "sqlite") {
      for (const f of readdirSync(dbDir).filter((n) => n.startsWith("mailplane.db"))) {
        const bytes = readFileSync(join(dbDir, f));
        expect(bytes.includes(secret), f).toBe(false);
        expect(bytes.includes(Buffer.from(secret).toString("base64")), f).toBe(false);
      }
    }
    // Off again, with a current code.
    clock += 30_000;
    const off = await h.call(
      "DELETE",
      "/v1/me/totp",
      as(used.body.token, { body: { code: pythonTotp(secret, clock) } }),
    );
    expect(off.status).toBe(204);
    expect((await signIn(alice, PASSWORD)).body.stage).toBe("active");
  });

  it("makes a user of a policy with requireTwoFactor enrol before anything else, and keeps TOTP on", async () => {
    await lift();
    const user = `alice@${strict}`;
    const res = await signIn(user, PASSWORD);
    expect(res.body.stage).toBe("two-factor-enrolment");
    const refused = await h.call("GET", "/v1/me/quarantine", as(res.body.token));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("MP_SESSION_STEP_REQUIRED");
    const { secret } = (await h.call("POST", "/v1/me/totp", as(res.body.token))).body;
    const confirmed = await h.call(
      "POST",
      "/v1/me/totp/confirm",
      as(res.body.token, { body: { code: pythonTotp(secret, clock) } }),
    );
    expect(confirmed.body.stage).toBe("active");
    expect((await h.call("GET", "/v1/me/app-passwords", as(confirmed.body.token))).status).toBe(200);
    clock += 30_000;
    const off = await h.call(
      "DELETE",
      "/v1/me/totp",
      as(confirmed.body.token, { body: { code: pythonTotp(secret, clock) } }),
    );
    expect(off.status).toBe(409);
    expect((await signIn(user, PASSWORD)).body.stage).toBe("second-factor");
  });

  it("creates application passwords shown once, lists them without secrets, revokes them, and never accepts one for sign-in", async () => {
    await lift();
    const { token } = (await signIn(`bob@${domain}`, PASSWORD)).body;
    const created = await h.call(
      "POST",
      "/v1/me/app-passwords",
      as(token, { body: { name: "Thunderbird", scopes: ["smtp"] } }),
    );
    expect(created.status).toBe(201);
    expect(created.body.password).toMatch(/^mpa_[a-z2-7]{24}$/);
    const list = await h.call("GET", "/v1/me/app-passwords", as(token));
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: created.body.id,
        name: "Thunderbird",
        scopes: ["smtp"],
        lastUsedAt: null,
      }),
    ]);
    expect(list.text.includes(created.body.password)).toBe(false);
    const signedIn = await signIn(`bob@${domain}`, created.body.password);
    expect(signedIn.status).toBe(401);
    const bad = await h.call(
      "POST",
      "/v1/me/app-passwords",
      as(token, { body: { name: "x", scopes: ["imap"] } }),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(["scopes", 0]);

    // Another user cannot revoke it: it is not found among theirs.
    const other = (await signIn(alice, PASSWORD)).body.token;
    expect((await h.call("DELETE", `/v1/me/app-passwords/${created.body.id}`, as(other))).status).toBe(404);
    expect((await h.call("DELETE", `/v1/me/app-passwords/${created.body.id}`, as(token))).status).toBe(204);
    const after = await h.call("GET", "/v1/me/app-passwords", as(token));
    expect(after.body.items[0].revokedAt).not.toBeNull();
    await lift();
  });
  it("ends a disabled user's sessions, and forgets sessions, TOTP and application passwords with a deleted user", async () => {
    await lift();
    const dave = `dave@${domain}`;
    const path = `/v1/domains/${domain}/users/${dave}`;
    await put(path, { address: dave, password: PASSWORD });
    const token = (await signIn(dave, PASSWORD)).body.token;
    await h.call("POST", "/v1/me/app-passwords", as(token, { body: { name: "old", scopes: ["smtp"] } }));
    const { secret } = (await h.call("POST", "/v1/me/totp", as(token))).body;
    const confirmed = await h.call(
      "POST",
      "/v1/me/totp/confirm",
      as(token, { body: { code: pythonTotp(secret, clock) } }),
    );
    expect(confirmed.status).toBe(200);
    await h.call("PATCH", path, admin({ body: { enabled: false } }));
    expect((await h.call("GET", "/v1/me", as(confirmed.body.token))).status).toBe(401);
    expect((await h.call("DELETE", path, admin())).status).toBe(204);
    await put(path, { address: dave, password: PASSWORD });
    const fresh = await signIn(dave, PASSWORD);
    expect(fresh.body.stage).toBe("active");
    expect((await h.call("GET", "/v1/me/app-passwords", as(fresh.body.token))).body.items).toEqual([]);
    expect((await h.call("GET", "/v1/me", as(confirmed.body.token))).status).toBe(401);
  });
});
