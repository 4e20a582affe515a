/** Login alerts on SQLite and PostgreSQL: failed API sign-ins and SMTP AUTH (Python smtplib) mail the user at most once an hour, successful ones only when the user asked for them; queued in the store's outbox with the audit entry and sent by the engine into the user's Maildir. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, pythonSmtp, stepLine } from "./support/harness.ts";

const PASSWORD = "Correct-Horse-7";
const WRONG = "Wrong-Alert-Guess-3";
const HOUR = 3_600_000;

describe.each(BACKENDS)("login alerts on $name", (backend) => {
  let h: Harness;
  let store: Store;
  let engine: EngineOnStore;
  let events: EventLog;
  let token = "";
  let dir = "";
  // The middle of a clock hour, so a few minutes on stay in it.
  let clock = Math.floor(Date.now() / HOUR) * HOUR + HOUR / 2;
  const domain = uniqueDomain("alerts");
  const alice = `alice@${domain}`;
  const bob = `bob@${domain}`;

  const put = async (path: string, body: object) => {
    const res = await h.call("PUT", path, { token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  const signIn = (address: string, password = PASSWORD) =>
    h.call("POST", "/v1/sessions", { body: { address, password } });
  const auth = async (user: string, passwords: string[]) => {
    const steps = await pythonSmtp({
      port: engine.submissionPort!,
      starttls: true,
      logins: passwords.map((password) => ({ user, password })),
    });
    return steps.filter((s) => s.cmd === "AUTH").map(stepLine);
  };
  /** Sends what the outbox holds now and waits until every notice left the queue; the subjects in each mailbox. */
  const deliver = async () => {
    const before = events.all("injected").length;
    await engine.notices.drain();
    for (const [meta] of events.all("injected").slice(before)) await events.settled(meta.id);
  };
  const mails = (address: string) => {
    let files: string[] = [];
    try {
      files = readdirSync(join(engine.maildirOf(address), "new"));
    } catch {
      files = [];
    }
    return files.map((f) => readFileSync(join(engine.maildirOf(address), "new", f), "utf8"));
  };
  const subjects = (address: string) =>
    mails(address)
      .map((raw) => /^Subject: (.*)$/m.exec(raw)?.[1]?.trim())
      .sort();
  const unlock = () => h.call("DELETE", "/v1/lockouts/127.0.0.1", { token: h.adminToken });

  beforeAll(async () => {
    const now = () => new Date(clock);
    dir = mkdtempSync(join(tmpdir(), "mp-alerts-"));
    store =
      backend.name === "postgres"
        ? await openPostgresStore({
            url: inject("postgresUrl"),
            schema: `alerts_${randomBytes(6).toString("hex")}`,
            now,
          })
        : await openSqliteStore({ path: join(dir, "mailplane.db"), now });
    h = await startHarness(backend, { now, rateLimit: false, store });
    const tenant = await h.tenant("alerts");
    token = tenant.token;
    await put(`/v1/domains/${domain}`, { name: domain });
    await put(`/v1/domains/${domain}/users/${alice}`, { address: alice, password: PASSWORD });
    await put(`/v1/domains/${domain}/users/${bob}`, {
      address: bob,
      password: PASSWORD,
      loginAlerts: { failed: false, successful: true },
    });
    engine = await startSmtpEngineOnStore({
      store,
      dataDir: join(dir, "smtp"),
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      policy: { trustAllDomains: true },
      now: () => clock,
      // Rounds run when the test drains, not on their own.
      noticeIntervalMs: 10 * HOUR,
    });
    events = new EventLog(engine);
    await engine.policy.reached(await store.revision());
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("declares loginAlerts on the user with failed on and successful off by default", async () => {
    const res = await h.call("GET", `/v1/domains/${domain}/users/${alice}`, { token });
    expect(res.body.loginAlerts).toEqual({ failed: true, successful: false });
    const bobs = await h.call("GET", `/v1/domains/${domain}/users/${bob}`, { token });
    expect(bobs.body.loginAlerts).toEqual({ failed: false, successful: true });
  });

  it("mails one failed-login alert per hour however many API sign-ins and SMTP AUTHs fail, never with the password", async () => {
    for (let i = 0; i < 2; i++) expect((await signIn(alice, WRONG)).status).toBe(401);
    expect(await auth(alice, [WRONG, WRONG])).toEqual(
      Array(2).fill("535 5.7.8 Authentication credentials invalid"),
    );
    await unlock();
    await deliver();
    expect(subjects(alice)).toEqual([`Failed sign-in to ${alice}`]);
    const [raw] = mails(alice);
    expect(raw).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
    expect(raw).toContain("127.0.0.1");
    expect(raw).not.toContain(WRONG);
    // More failures in the same hour: no more mail.
    clock += 10 * 60_000;
    expect((await signIn(alice, WRONG)).status).toBe(401);
    await deliver();
    expect(subjects(alice)).toHaveLength(1);
    // The next hour: one more.
    clock += HOUR;
    expect((await signIn(alice, WRONG)).status).toBe(401);
    expect((await signIn(alice, WRONG)).status).toBe(401);
    await unlock();
    await deliver();
    expect(subjects(alice)).toHaveLength(2);
    // A successful sign-in mails alice nothing: she did not ask for those.
    expect((await signIn(alice)).status).toBe(201);
    await deliver();
    expect(subjects(alice)).toHaveLength(2);
  });

  it("mails a successful-login alert once per client IP and day to a user who asked for it, and no failed-login alert to one who turned them off", async () => {
    expect((await signIn(bob, WRONG)).status).toBe(401);
    await deliver();
    expect(subjects(bob)).toEqual([]);
    expect((await signIn(bob)).status).toBe(201);
    expect(await auth(bob, [PASSWORD])).toEqual(["235 2.7.0 Authentication successful"]);
    await deliver();
    expect(subjects(bob)).toEqual([`New sign-in to ${bob}`]);
    await unlock();
  });

  it("keeps an alert queued in the store when no engine sends it, and sends it exactly once however many rounds run", async () => {
    clock += 2 * HOUR;
    expect((await signIn(alice, WRONG)).status).toBe(401);
    const pending = await store.claimNotices({ claimant: "test", forMs: 0, limit: 10 });
    expect(pending.map((n) => n.to)).toEqual([alice]);
    await deliver();
    await deliver();
    expect(subjects(alice)).toHaveLength(3);
    await unlock();
  });
});
