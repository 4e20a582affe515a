/** PasswordPolicy rolePermissions on SQLite and PostgreSQL: a role whose login is not allowed is refused at SMTP AUTH (Python smtplib), at API sign-in (403 MP_LOGIN_NOT_ALLOWED, audited, not counted) and on sessions and application passwords already issued; the domain's policy replaces the account's. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { HOSTNAME, pythonSmtp, stepLine } from "./support/harness.ts";

const PASSWORD = "Correct-Horse-7";
const INVALID = "535 5.7.8 Authentication credentials invalid";
const ROLE_REFUSED = "535 5.7.8 Login not allowed for this user's role";
const OK = "235 2.7.0 Authentication successful";

describe.each(BACKENDS)("role permissions at SMTP AUTH and API sign-in on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let acme: { id: string; token: string };
  const d1 = uniqueDomain("rp");
  const d2 = uniqueDomain("rq");
  const alice = `alice@${d1}`;
  const dana = `dana@${d1}`;
  const eve = `eve@${d2}`;

  const put = async (path: string, body: object) => {
    const res = await h.call("PUT", path, { token: acme.token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    await engine?.policy.reached(await h.cp.store.revision());
    return res;
  };
  const forbidLogin = (scope: string, path: string, role: string) =>
    put(path, { scope, rolePermissions: { [role]: { loginAllowed: false } } });
  const reset = async (path: string) => {
    await h.call("DELETE", path, { token: acme.token });
    await engine?.policy.reached(await h.cp.store.revision());
  };
  const auth = async (user: string, passwords: string[]) => {
    const steps = await pythonSmtp({
      port: engine!.submissionPort!,
      starttls: true,
      logins: passwords.map((password) => ({ user, password })),
    });
    return steps.filter((s) => s.cmd === "AUTH").map(stepLine);
  };
  const signIn = (address: string, password = PASSWORD) =>
    h.call("POST", "/v1/sessions", { body: { address, password } });

  beforeAll(async () => {
    h = await startHarness(backend, { smtp: () => engine?.operations, rateLimit: false });
    acme = await h.tenant("rp");
    await put(`/v1/domains/${d1}`, { name: d1 });
    await put(`/v1/domains/${d2}`, { name: d2 });
    await put(`/v1/domains/${d1}/users/${alice}`, { address: alice, password: PASSWORD });
    await put(`/v1/domains/${d1}/users/${dana}`, { address: dana, password: PASSWORD, role: "domain-admin" });
    await put(`/v1/domains/${d2}/users/${eve}`, { address: eve, password: PASSWORD });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
    });
    await engine.policy.reached(await h.cp.store.revision());
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("refuses SMTP AUTH of a role whose login the account's policy forbids, only once the password is right, without locking the client out", async () => {
    expect(await auth(alice, [PASSWORD])).toEqual([OK]);
    await forbidLogin("account", "/v1/password-policy", "email-user");
    // More attempts than the lockout's five failures: none counts.
    expect(await auth(alice, Array(6).fill(PASSWORD))).toEqual(Array(6).fill(ROLE_REFUSED));
    expect(await auth(alice, ["wrong-1"])).toEqual([INVALID]);
    expect(await auth(eve, [PASSWORD])).toEqual([ROLE_REFUSED]);
    // Another role is not concerned.
    expect(await auth(dana, [PASSWORD])).toEqual([OK]);
    // The domain's policy replaces the account's for its users.
    await put(`/v1/domains/${d1}/password-policy`, { scope: d1 });
    expect(await auth(alice, [PASSWORD])).toEqual([OK]);
    expect(await auth(eve, [PASSWORD])).toEqual([ROLE_REFUSED]);
    await forbidLogin(d1, `/v1/domains/${d1}/password-policy`, "domain-admin");
    expect(await auth(dana, [PASSWORD])).toEqual([ROLE_REFUSED]);
    await reset(`/v1/domains/${d1}/password-policy`);
    await reset("/v1/password-policy");
    // The login audit names the reason and that the password was right.
    const trail = await h.call("GET", `/v1/domains/${d1}/login-audit?result=failure`, { token: acme.token });
    expect(trail.status).toBe(200);
    expect(trail.body.items).toContainEqual(
      expect.objectContaining({
        address: alice,
        service: "smtp-submission",
        reason: "role-not-allowed",
        credential: "password",
      }),
    );
    expect(await auth(eve, [PASSWORD])).toEqual([OK]);
    expect(await auth(dana, [PASSWORD])).toEqual([OK]);
  });

  it("answers API sign-in 403 MP_LOGIN_NOT_ALLOWED for the right password only, audited and not counted, and refuses sessions and application passwords already issued", async () => {
    const session = await signIn(alice);
    expect(session.status).toBe(201);
    const app = await h.call("POST", "/v1/me/app-passwords", {
      token: session.body.token,
      body: { name: "script", scopes: ["api"] },
    });
    expect(app.status).toBe(201);
    expect((await h.call("GET", "/v1/me/message-log", { token: app.body.password })).status).toBe(200);

    await forbidLogin(d1, `/v1/domains/${d1}/password-policy`, "email-user");
    for (let i = 0; i < 6; i++) {
      const refused = await signIn(alice);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe("MP_LOGIN_NOT_ALLOWED");
    }
    expect((await signIn(alice, "wrong-password-1")).body.code).toBe("MP_SIGN_IN_FAILED");
    expect((await h.call("GET", "/v1/me", { token: session.body.token })).body.code).toBe(
      "MP_LOGIN_NOT_ALLOWED",
    );
    expect((await h.call("GET", "/v1/me/message-log", { token: app.body.password })).body.code).toBe(
      "MP_LOGIN_NOT_ALLOWED",
    );
    expect((await signIn(dana)).status).toBe(201);
    const audit = await h.call("GET", "/v1/audit?action=login-failed&limit=100", { token: acme.token });
    const refusals = (audit.body.items as { after: { reason: string; counted: boolean } }[]).filter(
      (e) => e.after.reason === "role-not-allowed",
    );
    expect(refusals.length).toBeGreaterThanOrEqual(6);
    expect(refusals.every((e) => e.after.counted === false)).toBe(true);
    const trail = await h.call("GET", `/v1/domains/${d1}/login-audit?result=failure`, { token: acme.token });
    expect(trail.body.items).toContainEqual(
      expect.objectContaining({ address: alice, service: "api", reason: "role-not-allowed" }),
    );

    // Allowed again: the same session works (it was refused, not ended), and nothing locked 127.0.0.1.
    await reset(`/v1/domains/${d1}/password-policy`);
    expect((await h.call("GET", "/v1/me", { token: session.body.token })).status).toBe(200);
    expect((await signIn(alice)).status).toBe(201);
  });
});
