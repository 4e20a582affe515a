/** A mail user's session on a control plane with an SMTP engine, on SQLite and PostgreSQL: only their own quarantine and log, and application passwords at SMTP AUTH (Python smtplib). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { pythonTotp } from "../api/python-totp.ts";
import { EventLog, HOSTNAME, pythonSmtp, stepLine, swaks } from "./support/harness.ts";

const PASSWORD = "Correct-Horse-7";

describe.each(BACKENDS)("a mail user's own data and SMTP AUTH on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  const d1 = uniqueDomain("ua");
  const d2 = uniqueDomain("ub");
  const alice = `alice@${d1}`;
  const bob = `bob@${d1}`;
  const carol = `carol@${d2}`;
  /** Held message IDs by subject. */
  const held = new Map<string, string>();

  const put = async (t: { token: string }, path: string, body: object) => {
    const res = await h.call("PUT", path, { token: t.token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  const session = async (address: string) => {
    const res = await h.call("POST", "/v1/sessions", { body: { address, password: PASSWORD } });
    if (res.status !== 201) throw new Error(`sign-in ${address}: ${res.status} ${res.text}`);
    return res.body.token as string;
  };
  /** AUTH PLAIN over STARTTLS on submission; the AUTH reply lines in order. */
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
    acme = await h.tenant("ua");
    other = await h.tenant("ub");
    await put(acme, `/v1/domains/${d1}`, { name: d1 });
    await put(other, `/v1/domains/${d2}`, { name: d2 });
    for (const [t, d, a] of [
      [acme, d1, alice],
      [acme, d1, bob],
      [other, d2, carol],
    ] as const) {
      // Alice also receives as al@ (an extra address of hers): that mail is hers too.
      const extra = a === alice ? { addresses: [`al@${d1}`] } : {};
      await put(t, `/v1/domains/${d}/users/${a}`, { address: a, password: PASSWORD, ...extra });
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
    events = new EventLog(engine);
    for (const [subject, to] of [
      ["for alice", [alice]],
      ["for al", [`al@${d1}`]],
      ["for alice too", [alice]],
      ["for bob", [bob]],
      ["for both", [alice, bob]],
      ["for carol", [carol]],
    ] as const) {
      const run = await swaks(engine.inboundPort, [
        "--to",
        to.join(","),
        "--from",
        "s@outside.example",
        "--header",
        `Subject: ${subject}`,
        "--body",
        GTUBE,
      ]);
      expect(run.replyTo(".")).toMatchObject({ code: 550 });
      const [message] = await events.next("quarantined", (m) => m.subject === subject);
      held.set(subject, (message as { id: string }).id);
    }
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("lists and shows a user only the quarantined messages addressed to them (extra addresses included), with only their own addresses", async () => {
    const token = await session(alice);
    const list = await h.call("GET", "/v1/me/quarantine", { token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { subject: string }) => e.subject).sort()).toEqual([
      "for al",
      "for alice",
      "for alice too",
      "for both",
    ]);
    const both = list.body.items.find((e: { subject: string }) => e.subject === "for both");
    expect(both.recipients).toEqual([alice]);
    const view = await h.call("GET", `/v1/me/quarantine/${held.get("for alice")}`, { token });
    expect(view.status).toBe(200);
    expect(view.body.raw).toContain(GTUBE);
  });

  it("answers 404 when user A's session reads or releases user B's held message, in the same domain or another tenant", async () => {
    const token = await session(alice);
    for (const subject of ["for bob", "for carol"]) {
      const id = held.get(subject)!;
      const read = await h.call("GET", `/v1/me/quarantine/${id}`, { token });
      expect(read.status, subject).toBe(404);
      expect(read.body.code).toBe("MP_NOT_FOUND");
      expect((await h.call("POST", `/v1/me/quarantine/${id}/release`, { token })).status, subject).toBe(404);
    }
    // Carol (another account) cannot see Alice's either.
    const carolToken = await session(carol);
    expect(
      (await h.call("GET", `/v1/me/quarantine/${held.get("for alice")}`, { token: carolToken })).status,
    ).toBe(404);
    expect((await h.call("GET", "/v1/me/quarantine", { token: carolToken })).body.items).toEqual([
      expect.objectContaining({ subject: "for carol", recipients: [carol] }),
    ]);
    // Bob's message is still held: the administrator sees it.
    const admin = await h.call("GET", `/v1/domains/${d1}/quarantine/${held.get("for bob")}`, {
      token: acme.token,
    });
    expect(admin.status).toBe(200);
  });

  it("releases the user's own message, and of one held for other recipients too only the user's copy", async () => {
    const token = await session(alice);
    const both = held.get("for both")!;
    const shared = await h.call("POST", `/v1/me/quarantine/${both}/release`, { token });
    expect(shared.status).toBe(200);
    await events.settled(shared.body.queueId);
    expect((await h.call("GET", `/v1/me/quarantine/${both}`, { token })).status).toBe(404);
    // Bob's copy stays held: he (or an administrator) decides about it.
    const bobs = await h.call("GET", `/v1/me/quarantine/${both}`, { token: await session(bob) });
    expect(bobs.status).toBe(200);
    expect(bobs.body.recipients).toEqual([bob]);
    const admin = await h.call("GET", `/v1/domains/${d1}/quarantine/${both}`, { token: acme.token });
    expect(admin.body.recipients).toEqual([bob]);
    const own = await h.call("POST", `/v1/me/quarantine/${held.get("for alice too")}/release`, { token });
    expect(own.status).toBe(200);
    await events.settled(own.body.queueId);
    expect((await h.call("GET", `/v1/me/quarantine/${held.get("for alice too")}`, { token })).status).toBe(
      404,
    );
    const audit = await h.call("GET", `/v1/audit?action=release`, { token: acme.token });
    expect(audit.body.items[0]).toMatchObject({ action: "release", kind: "User", objectId: alice });
  });

  it("deletes a held message for the user's own address only, 404 for another user's, and audits it", async () => {
    const token = await session(bob);
    const both = held.get("for both")!;
    // Alice released her copy above; bob's copy is the last one.
    const alices = await h.call("DELETE", `/v1/me/quarantine/${held.get("for bob")}`, {
      token: await session(alice),
    });
    expect(alices.status).toBe(404);
    expect((await h.call("GET", `/v1/me/quarantine/${held.get("for bob")}`, { token })).status).toBe(200);
    const gone = await h.call("DELETE", `/v1/me/quarantine/${both}`, { token });
    expect(gone.status).toBe(204);
    expect((await h.call("GET", `/v1/domains/${d1}/quarantine/${both}`, { token: acme.token })).status).toBe(
      404,
    );
    expect((await h.call("DELETE", `/v1/me/quarantine/${both}`, { token })).status).toBe(404);
    const audit = await h.call("GET", "/v1/audit?action=quarantine-delete", { token: acme.token });
    expect(audit.body.items[0]).toMatchObject({ kind: "User", objectId: bob, after: { message: both } });
  });

  it("searches only the user's own message-log entries", async () => {
    const token = await session(bob);
    const log = await h.call("GET", "/v1/me/message-log", { token });
    expect(log.status).toBe(200);
    const subjects = log.body.items.map((e: { subject: string }) => e.subject).sort();
    expect(subjects).toEqual(["for bob", "for both"]);
    for (const e of log.body.items) expect(e.recipients).toEqual([bob]);
  });

  it("takes only the user's copy out of a message held for two, also while the other recipient releases theirs at the same moment", async () => {
    const hold = async (subject: string) => {
      const run = await swaks(engine!.inboundPort, [
        "--to",
        `${alice},${bob}`,
        "--from",
        "s@outside.example",
        "--header",
        `Subject: ${subject}`,
        "--body",
        GTUBE,
      ]);
      expect(run.replyTo(".")).toMatchObject({ code: 550 });
      const [message] = await events.next("quarantined", (m) => m.subject === subject);
      return (message as { id: string }).id;
    };
    const [aliceToken, bobToken] = [await session(alice), await session(bob)];
    const shared = await hold("shared, deleted by one");
    expect((await h.call("DELETE", `/v1/me/quarantine/${shared}`, { token: aliceToken })).status).toBe(204);
    expect((await h.call("GET", `/v1/me/quarantine/${shared}`, { token: aliceToken })).status).toBe(404);
    const bobs = await h.call("GET", `/v1/me/quarantine/${shared}`, { token: bobToken });
    expect(bobs.body.recipients).toEqual([bob]);

    // Both rewrite the held copy: taken in turn, neither brings back what the other took out.
    const raced = await hold("shared, raced");
    const [deleted, released] = await Promise.all([
      h.call("DELETE", `/v1/me/quarantine/${raced}`, { token: aliceToken }),
      h.call("POST", `/v1/me/quarantine/${raced}/release`, { token: bobToken }),
    ]);
    expect([deleted.status, released.status]).toEqual([204, 200]);
    const [queued] = await events.next("settled", (m) => m.id === released.body.queueId);
    expect((queued as { recipients: { address: string }[] }).recipients.map((r) => r.address)).toEqual([bob]);
    expect((await h.call("GET", `/v1/domains/${d1}/quarantine/${raced}`, { token: acme.token })).status).toBe(
      404,
    );
  });

  it("accepts an smtp application password at SMTP AUTH (Python smtplib), records its use, and refuses it once revoked", async () => {
    const token = await session(alice);
    const created = await h.call("POST", "/v1/me/app-passwords", {
      token,
      body: { name: "mail client", scopes: ["smtp"] },
    });
    const apiOnly = await h.call("POST", "/v1/me/app-passwords", {
      token,
      body: { name: "script", scopes: ["api"] },
    });
    const bobs = await h.call("POST", "/v1/me/app-passwords", {
      token: await session(bob),
      body: { name: "bob's", scopes: ["smtp"] },
    });
    expect(await auth(alice, [created.body.password])).toEqual(["235 2.7.0 Authentication successful"]);
    const listed = await h.call("GET", "/v1/me/app-passwords", { token });
    expect(listed.body.items.find((p: { id: string }) => p.id === created.body.id).lastUsedAt).not.toBeNull();

    // Wrong scope, and another user's application password: refused like a wrong password.
    const INVALID = "535 5.7.8 Authentication credentials invalid";
    expect(await auth(alice, [apiOnly.body.password, bobs.body.password])).toEqual([INVALID, INVALID]);

    expect((await h.call("DELETE", `/v1/me/app-passwords/${created.body.id}`, { token })).status).toBe(204);
    expect(await auth(alice, [created.body.password])).toEqual([INVALID]);
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
  });

  it("refuses the account password at SMTP AUTH once the user has TOTP on, and keeps accepting their application password", async () => {
    const token = await session(bob);
    expect(await auth(bob, [PASSWORD])).toEqual(["235 2.7.0 Authentication successful"]);
    const app = await h.call("POST", "/v1/me/app-passwords", {
      token,
      body: { name: "phone", scopes: ["smtp", "api"] },
    });
    const { secret } = (await h.call("POST", "/v1/me/totp", { token })).body;
    const confirmed = await h.call("POST", "/v1/me/totp/confirm", {
      token,
      body: { code: pythonTotp(secret, Date.now()) },
    });
    expect(confirmed.status).toBe(200);
    expect(await auth(bob, [PASSWORD, app.body.password])).toEqual([
      "535 5.7.8 Authentication credentials invalid",
      "235 2.7.0 Authentication successful",
    ]);
    await h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });
  });
  it("lets an api-scoped application password read the user's own quarantine and log, and nothing else", async () => {
    const token = await session(alice);
    const api = await h.call("POST", "/v1/me/app-passwords", {
      token,
      body: { name: "script", scopes: ["api"] },
    });
    const smtpOnly = await h.call("POST", "/v1/me/app-passwords", {
      token,
      body: { name: "client", scopes: ["smtp"] },
    });
    const bearer = { token: api.body.password as string };
    const list = await h.call("GET", "/v1/me/quarantine", bearer);
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { subject: string }) => e.subject)).toContain("for alice");
    expect(list.body.items.map((e: { subject: string }) => e.subject)).not.toContain("for bob");
    expect((await h.call("GET", `/v1/me/quarantine/${held.get("for bob")}`, bearer)).status).toBe(404);
    expect((await h.call("GET", "/v1/me/message-log", bearer)).status).toBe(200);
    // Credentials and settings need a signed-in session; admin endpoints are out of reach.
    for (const [method, path] of [
      ["GET", "/v1/me/app-passwords"],
      ["POST", "/v1/me/totp"],
      ["GET", "/v1/me"],
      ["GET", `/v1/domains/${d1}/quarantine`],
    ] as const) {
      const res = await h.call(method, path, bearer);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    expect((await h.call("GET", "/v1/me/quarantine", { token: smtpOnly.body.password })).status).toBe(401);
    await h.call("DELETE", `/v1/me/app-passwords/${api.body.id}`, { token });
    expect((await h.call("GET", "/v1/me/quarantine", bearer)).status).toBe(401);
  });
});
