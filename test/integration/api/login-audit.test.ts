/** The login audit on SQLite and PostgreSQL: every API sign-in step and SMTP AUTH (Python smtplib) recorded with result, reason, IP, service and credential kind, never a secret; queried per domain by admins and by the user for themselves; another tenant sees nothing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { MailplaneClient } from "../../../sdk/src/index.ts";
import { HOSTNAME, pythonSmtp, stepLine } from "../smtp/support/harness.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

const PASSWORD = "Correct-Horse-7";
const WRONG = "Wrong-Horse-Guess-9";

describe.each(BACKENDS)("login audit on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  const d1 = uniqueDomain("la");
  const d2 = uniqueDomain("lb");
  const d3 = uniqueDomain("lc");
  const alice = `alice@${d1}`;
  const bob = `bob@${d1}`;
  const carol = `carol@${d2}`;

  const put = async (token: string, path: string, body: object) => {
    const res = await h.call("PUT", path, { token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res;
  };
  const signIn = (address: string, password = PASSWORD) =>
    h.call("POST", "/v1/sessions", { body: { address, password } });
  const audit = async (query = "", token = acme.token) => {
    const res = await h.call("GET", `/v1/domains/${d1}/login-audit${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return res.body.items as Record<string, unknown>[];
  };
  /** AUTH PLAIN over STARTTLS on submission; the AUTH replies in order. */
  const auth = async (user: string, passwords: string[]) => {
    const steps = await pythonSmtp({
      port: engine!.submissionPort!,
      starttls: true,
      logins: passwords.map((password) => ({ user, password })),
    });
    return steps.filter((s) => s.cmd === "AUTH").map(stepLine);
  };

  beforeAll(async () => {
    h = await startHarness(backend, { smtp: () => engine?.operations, rateLimit: false });
    acme = await h.tenant("la");
    other = await h.tenant("lb");
    await put(acme.token, `/v1/domains/${d1}`, { name: d1 });
    await put(acme.token, `/v1/domains/${d3}`, { name: d3 });
    await put(other.token, `/v1/domains/${d2}`, { name: d2 });
    await put(acme.token, `/v1/domains/${d1}/users/${alice}`, { address: alice, password: PASSWORD });
    await put(acme.token, `/v1/domains/${d1}/users/${bob}`, { address: bob, password: PASSWORD });
    await put(other.token, `/v1/domains/${d2}/users/${carol}`, { address: carol, password: PASSWORD });
    await put(acme.token, `/v1/domains/${d1}/password-policy`, {
      scope: d1,
      lockout: { failures: 3, windowMinutes: 10, durationMinutes: 15 },
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
    });
    await engine.policy.reached(await h.cp.store.revision());
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("records an API sign-in's success and failures (an unknown address of the domain too, answered exactly like a wrong password), never the password", async () => {
    expect((await signIn(alice)).status).toBe(201);
    const wrong = await signIn(alice, WRONG);
    const unknown = await signIn(`nobody@${d1}`, WRONG);
    expect(wrong.status).toBe(401);
    expect([unknown.status, unknown.body.code, unknown.body.detail]).toEqual([
      wrong.status,
      wrong.body.code,
      wrong.body.detail,
    ]);
    // An address at no hosted domain lands in nobody's audit.
    expect((await signIn("someone@unhosted.example", WRONG)).status).toBe(401);

    const api = await audit("?service=api");
    expect(api).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          service: "api",
          result: "success",
          reason: null,
          credential: "password",
          address: alice,
          userExists: true,
          domain: d1,
          ip: "127.0.0.1",
          count: 1,
        }),
        expect.objectContaining({
          address: alice,
          result: "failure",
          reason: "bad-credentials",
          credential: null,
        }),
        expect.objectContaining({ address: `nobody@${d1}`, userExists: false, reason: "bad-credentials" }),
      ]),
    );
    expect(api).toHaveLength(3);
    const failures = await audit(`?result=failure&user=${encodeURIComponent(alice.toUpperCase())}`);
    expect(failures.map((e) => [e.address, e.result])).toEqual([[alice, "failure"]]);
    expect(JSON.stringify(api)).not.toContain(WRONG);
    expect(h.responses.join("\n")).not.toContain(WRONG);
    expect(h.logs.join("")).not.toContain(WRONG);
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
  });

  it("records refusals before the password: locked-out (429) and access-rule (403)", async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(bob, `${WRONG}-${i}`)).status).toBe(401);
    expect((await signIn(bob)).status).toBe(429);
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
    await put(acme.token, `/v1/access-rules/${d1}/api`, {
      scope: d1,
      service: "api",
      deny: ["127.0.0.1", "::1"],
    });
    expect((await signIn(bob)).status).toBe(403);
    expect((await h.call("DELETE", `/v1/access-rules/${d1}/api`, { token: acme.token })).status).toBe(204);

    const bobs = await audit(`?user=${bob}`);
    expect(bobs.map((e) => [e.result, e.reason, e.count])).toEqual([
      ["failure", "access-rule", 1],
      ["failure", "locked-out", 1],
      ["failure", "bad-credentials", 3],
    ]);
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
  });

  it("records SMTP AUTH (Python smtplib) with the password or an application password, and wrong ones", async () => {
    const session = await signIn(alice);
    const created = await h.call("POST", "/v1/me/app-passwords", {
      token: session.body.token,
      body: { name: "mail client", scopes: ["smtp"] },
    });
    expect(await auth(alice, [PASSWORD])).toEqual(["235 2.7.0 Authentication successful"]);
    expect(await auth(alice, [created.body.password])).toEqual(["235 2.7.0 Authentication successful"]);
    expect(await auth(`ghost@${d1}`, [WRONG])).toEqual(["535 5.7.8 Authentication credentials invalid"]);

    const smtp = await audit("?service=smtp-submission");
    expect(smtp.map((e) => [e.address, e.result, e.reason, e.credential, e.userExists])).toEqual([
      [`ghost@${d1}`, "failure", "bad-credentials", null, false],
      [alice, "success", null, "app-password", true],
      [alice, "success", null, "password", true],
    ]);
    expect(JSON.stringify(smtp)).not.toContain(created.body.password);
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
  });

  it("shows a user their own entries at GET /v1/me/login-audit and nobody else's", async () => {
    const session = await signIn(bob);
    const mine = await h.call("GET", "/v1/me/login-audit?limit=2", { token: session.body.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(2);
    expect(mine.body.nextCursor).not.toBeNull();
    const rest = await h.call("GET", `/v1/me/login-audit?cursor=${mine.body.nextCursor}`, {
      token: session.body.token,
    });
    const all = [...mine.body.items, ...rest.body.items];
    expect(all.every((e: { address: string }) => e.address === bob)).toBe(true);
    expect(all.map((e: { reason: string | null }) => e.reason)).toEqual([
      null,
      "access-rule",
      "locked-out",
      "bad-credentials",
    ]);
    // Through the SDK client too.
    const client = new MailplaneClient({
      endpoint: h.url,
      token: session.body.token,
      retry: { maxRetries: 0 },
    });
    expect((await client.me.loginAudit({ result: "failure" })).items).toHaveLength(3);
    const admin = new MailplaneClient({ endpoint: h.url, token: acme.token, retry: { maxRetries: 0 } });
    expect((await admin.audit.logins(d1, { user: bob, result: "success" })).items).toHaveLength(1);
  });

  it("answers 404 to another account's token and to a domain admin of another domain, showing nothing", async () => {
    for (const token of [other.token, await h.token(acme.id, "domain-admin", [d3])]) {
      const res = await h.call("GET", `/v1/domains/${d1}/login-audit`, { token });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("MP_NOT_FOUND");
      expect(res.text).not.toContain(alice);
    }
    // The other tenant's own domain shows its own attempts only.
    expect((await signIn(carol)).status).toBe(201);
    const theirs = await h.call("GET", `/v1/domains/${d2}/login-audit`, { token: other.token });
    expect(theirs.body.items.map((e: { address: string }) => e.address)).toEqual([carol]);
    // A session of acme's user cannot read the admin endpoint.
    const session = await signIn(alice);
    expect((await h.call("GET", `/v1/domains/${d1}/login-audit`, { token: session.body.token })).status).toBe(
      403,
    );
  });
});
