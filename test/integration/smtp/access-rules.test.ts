/** AccessRule on SQLite and PostgreSQL: SMTP AUTH (Python smtplib) and API sign-in refused from a denied network, let in from an allowed one; tenant and domain-admin boundaries of the rules API. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { HOSTNAME, pythonSmtp, stepLine } from "./support/harness.ts";

const PASSWORD = "Correct-Horse-7";
const INVALID = "535 5.7.8 Authentication credentials invalid";
const OK = "235 2.7.0 Authentication successful";

describe.each(BACKENDS)("access rules at SMTP AUTH and API sign-in on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  const d1 = uniqueDomain("ar");
  const d2 = uniqueDomain("as");
  const d3 = uniqueDomain("at");
  const alice = `alice@${d1}`;
  const bob = `bob@${d1}`;
  const carol = `carol@${d2}`;
  const dave = `dave@${d3}`;

  const put = async (t: { token: string }, path: string, body: object) => {
    const res = await h.call("PUT", path, { token: t.token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res;
  };
  /** Declares a rule and waits until the engine's policy has it. */
  const rule = async (
    t: { token: string },
    spec: { scope: string; service: string; allow?: string[]; deny?: string[] },
  ) => {
    await put(t, `/v1/access-rules/${spec.scope}/${spec.service}`, spec);
    await engine?.policy.reached(await h.cp.store.revision());
  };
  const drop = async (t: { token: string }, scope: string, service: string) => {
    expect((await h.call("DELETE", `/v1/access-rules/${scope}/${service}`, { token: t.token })).status).toBe(
      204,
    );
    await engine?.policy.reached(await h.cp.store.revision());
  };
  /** AUTH PLAIN over STARTTLS on submission from 127.0.0.1; the AUTH reply lines in order. */
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
    acme = await h.tenant("ar");
    other = await h.tenant("as");
    await put(acme, `/v1/domains/${d1}`, { name: d1 });
    await put(acme, `/v1/domains/${d3}`, { name: d3 });
    await put(other, `/v1/domains/${d2}`, { name: d2 });
    for (const [t, d, a] of [
      [acme, d1, alice],
      [acme, d1, bob],
      [acme, d3, dave],
      [other, d2, carol],
    ] as const) {
      await put(t, `/v1/domains/${d}/users/${a}`, { address: a, password: PASSWORD });
    }
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
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("refuses SMTP AUTH from 127.0.0.1 with 535 5.7.8 while a domain rule denies 127.0.0.1/32, right password or wrong, without locking the address out", async () => {
    expect(await auth(alice, [PASSWORD])).toEqual([OK]);
    await rule(acme, { scope: d1, service: "smtp-submission", deny: ["127.0.0.1/32"] });
    // Six attempts, more than the default lockout's five failures: none counts, all read the same.
    expect(await auth(alice, [PASSWORD, "wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5"])).toEqual(
      Array(6).fill(INVALID),
    );
    expect(await auth(bob, [PASSWORD])).toEqual([INVALID]);
    // The other domain of the account and the other tenant are not covered by the rule.
    expect(await auth(dave, [PASSWORD])).toEqual([OK]);
    expect(await auth(carol, [PASSWORD])).toEqual([OK]);
    // Alice's own rule allows her: the most specific scope decides.
    await rule(acme, { scope: alice, service: "smtp-submission", allow: ["127.0.0.1/32"] });
    expect(await auth(alice, [PASSWORD])).toEqual([OK]);
    expect(await auth(bob, [PASSWORD])).toEqual([INVALID]);
    await drop(acme, alice, "smtp-submission");
    await drop(acme, d1, "smtp-submission");
    expect(await auth(bob, [PASSWORD])).toEqual([OK]);
  });

  it("accepts SMTP AUTH when the rule's allow list holds 127.0.0.1 and refuses it when it does not", async () => {
    await rule(acme, { scope: "account", service: "smtp-submission", allow: ["127.0.0.0/8", "::1"] });
    expect(await auth(alice, [PASSWORD])).toEqual([OK]);
    await rule(acme, { scope: "account", service: "smtp-submission", allow: ["192.0.2.0/24"] });
    expect(await auth(alice, [PASSWORD])).toEqual([INVALID]);
    // An api rule does not guard SMTP.
    await drop(acme, "account", "smtp-submission");
    await rule(acme, { scope: "account", service: "api", deny: ["127.0.0.1"] });
    expect(await auth(alice, [PASSWORD])).toEqual([OK]);
    await drop(acme, "account", "api");
  });

  it("refuses API sign-in with 403 MP_ACCESS_DENIED before looking at the password, for known and unknown users alike, and lets an allowed network in", async () => {
    await rule(acme, { scope: d1, service: "api", deny: ["127.0.0.1/32", "::1"] });
    // Six wrong ones among them, more than the default lockout's five failures.
    for (const [address, password] of [
      [alice, PASSWORD],
      [`nobody@${d1}`, PASSWORD],
      ...[1, 2, 3, 4, 5, 6].map((i) => [alice, `wrong-${i}`] as const),
    ] as const) {
      const res = await signIn(address, password);
      expect(res.status, `${address} ${password}`).toBe(403);
      expect(res.body.code).toBe("MP_ACCESS_DENIED");
      expect(res.text).not.toContain(password);
    }
    // Not counted as failed sign-ins: the address is not locked out, so another domain's user signs in.
    expect((await signIn(dave)).status).toBe(201);
    expect((await signIn(carol)).status).toBe(201);
    await rule(acme, { scope: d1, service: "api", allow: ["127.0.0.1/32", "::1"] });
    expect((await signIn(alice)).status).toBe(201);
    // A wrong password from an allowed network is the usual 401.
    expect((await signIn(alice, "wrong")).body.code).toBe("MP_SIGN_IN_FAILED");
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
    await drop(acme, d1, "api");
  });

  it("refuses an api application password as the API bearer from a denied network", async () => {
    const session = (await signIn(bob)).body.token as string;
    const app = await h.call("POST", "/v1/me/app-passwords", {
      token: session,
      body: { name: "script", scopes: ["api"] },
    });
    expect(app.status).toBe(201);
    const bearer = app.body.password as string;
    expect((await h.call("GET", "/v1/me/quarantine", { token: bearer })).status).toBe(200);
    await rule(acme, { scope: bob, service: "api", deny: ["0.0.0.0/0", "::/0"] });
    const denied = await h.call("GET", "/v1/me/quarantine", { token: bearer });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("MP_ACCESS_DENIED");
    await drop(acme, bob, "api");
    expect((await h.call("GET", "/v1/me/quarantine", { token: bearer })).status).toBe(200);
  });

  it("refuses a session signed in before a rule denied its network on its next request, and lets it back once the rule goes", async () => {
    const session = (await signIn(bob)).body.token as string;
    expect((await h.call("GET", "/v1/me/quarantine", { token: session })).status).toBe(200);
    await rule(acme, { scope: d1, service: "api", deny: ["127.0.0.1/32", "::1"] });
    const denied = await h.call("GET", "/v1/me/quarantine", { token: session });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("MP_ACCESS_DENIED");
    // The smtp-submission service is another rule: it does not touch API sessions.
    await drop(acme, d1, "api");
    await rule(acme, { scope: d1, service: "smtp-submission", deny: ["127.0.0.1/32", "::1"] });
    expect((await h.call("GET", "/v1/me/quarantine", { token: session })).status).toBe(200);
    await drop(acme, d1, "smtp-submission");
  });

  it("keeps rules inside their account and domain admins inside their domains", async () => {
    await rule(acme, { scope: d1, service: "api", deny: ["192.0.2.0/24"] });
    await rule(acme, { scope: d3, service: "api", deny: ["192.0.2.0/24"] });
    // Another tenant does not see it, and its own rule for acme's domain guards nobody of acme's.
    expect((await h.call("GET", `/v1/access-rules/${d1}/api`, { token: other.token })).status).toBe(404);
    const patch = await h.call("PATCH", `/v1/access-rules/${d1}/api`, {
      token: other.token,
      body: { deny: [] },
    });
    expect(patch.status).toBe(404);
    expect((await h.call("DELETE", `/v1/access-rules/${d1}/api`, { token: other.token })).status).toBe(404);
    expect((await h.call("GET", "/v1/access-rules", { token: other.token })).body.items).toEqual([]);
    expect((await h.call("GET", `/v1/access-rules/${d1}/api`, { token: acme.token })).body.deny).toEqual([
      "192.0.2.0/24",
    ]);
    await rule(other, { scope: d1, service: "api", deny: ["0.0.0.0/0", "::/0"] });
    expect((await signIn(alice)).status).toBe(201);
    await drop(other, d1, "api");

    const admin = await h.token(acme.id, "domain-admin", [d1]);
    expect((await h.call("GET", `/v1/access-rules/${d1}/api`, { token: admin })).status).toBe(200);
    const foreign = await h.call("GET", `/v1/access-rules/${d3}/api`, { token: admin });
    expect(foreign.status).toBe(404);
    expect((await h.call("GET", `/v1/access-rules/${dave}/api`, { token: admin })).status).toBe(404);
    const write = await h.call("PUT", `/v1/access-rules/${d1}/api`, {
      token: admin,
      body: { scope: d1, service: "api" },
    });
    expect(write.status).toBe(403);
    await drop(acme, d1, "api");
    await drop(acme, d3, "api");
  });

  it("answers 422 naming the field for a bad network or a key that does not match the path", async () => {
    const bad = await h.call("PUT", `/v1/access-rules/${d1}/api`, {
      token: acme.token,
      body: { scope: d1, service: "api", deny: ["192.0.2.300/24"] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(["deny", 0]);
    const mismatch = await h.call("PUT", `/v1/access-rules/${d1}/api`, {
      token: acme.token,
      body: { scope: d3, service: "api" },
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.errors[0].path).toEqual(["scope"]);
    const stored = await put(acme, `/v1/access-rules/${alice.toUpperCase()}/api`, {
      scope: alice,
      service: "api",
      allow: ["2001:DB8::1/32"],
    });
    expect(stored.body).toMatchObject({ id: `${alice}/api`, domain: d1, allow: ["2001:db8::/32"], deny: [] });
    await drop(acme, alice, "api");
  });
});
