/** A mail user reporting their own quarantined copy as spam or not spam (`/v1/me/quarantine`), with a real rspamd + Redis on SQLite and PostgreSQL, and without rspamd. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RspamdScorer } from "../../../platform/smtp/content/rspamd.ts";
import {
  rspamdInstalled,
  type SupervisedRspamd,
  startRspamd,
} from "../../../platform/smtp/content/rspamd-supervisor.ts";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { BACKENDS, type Harness, startHarness } from "../api/harness.ts";
import { EventLog, HOSTNAME, pythonSmtp, swaks } from "./support/harness.ts";

const PASSWORD = "Correct-Horse-7";
const ALICE = "alice@train.example";
const BOB = "bob@train.example";
const CAROL = "carol@train.example";

/** Words of their own for each subject: rspamd takes tokens it already learned as learned, and its count would not move. */
const bodyOf = (subject: string) =>
  Array.from({ length: 30 }, (_, i) => `${subject.replace(/\W/g, "")}${i} unique${i * 13}`)
    .join(" ")
    .replace(/((?:\S+ ){8})/g, "$1\r\n");

describe.each(BACKENDS)("a mail user reporting their quarantined copy, with rspamd, on $name", (backend) => {
  let dir: string;
  let rspamd: SupervisedRspamd;
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let alice: string;
  let bob: string;
  let carol: string;

  /** Messages rspamd's controller learned (spam and ham), from its /stat. */
  const learned = async (): Promise<number> => {
    const stat = (await (await fetch(`${rspamd.controllerUrl}/stat`)).json()) as { learned: number };
    return stat.learned;
  };
  const session = async (address: string) => {
    const res = await h.call("POST", "/v1/sessions", { body: { address, password: PASSWORD } });
    if (res.status !== 201) throw new Error(`sign-in ${address}: ${res.status} ${res.text}`);
    return res.body.token as string;
  };
  /**
   * Holds one message for `to` (no Date:, no Message-ID: past the domain's low quarantine threshold;
   * a message rspamd would not learn, GTUBE, is never used where learning must work); its held ID.
   */
  const hold = async (to: string[], subject: string, body = bodyOf(subject)): Promise<string> => {
    await pythonSmtp({
      port: engine!.inboundPort,
      messages: [
        {
          from: "s@outside.example",
          to,
          data: `From: s@outside.example\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n\r\n${body}\r\n`,
        },
      ],
    });
    const [held] = await events.next("quarantined", (m) => m.subject === subject);
    return held!.id as string;
  };
  const statistics = async () =>
    (await h.call("GET", "/v1/domains/train.example/statistics", { token: acme.token })).body as {
      spamReports: number;
      hamReports: number;
    };
  /** The audit entries of `action` about held message `id`. */
  const audited = async (action: string, id: string) => {
    const res = await h.call("GET", `/v1/audit?action=${action}`, { token: acme.token });
    return (res.body.items as { objectId: string; after: { message?: string } }[]).filter(
      (e) => e.after?.message === id,
    );
  };
  const heldFor = async (token: string, id: string) =>
    (await h.call("GET", `/v1/me/quarantine/${id}`, { token })).status;

  /** The engine on the harness's store and data directory, teaching rspamd at `controllerUrl`. */
  const startEngine = (controllerUrl: string) =>
    startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
      rspamd: new RspamdScorer({ url: rspamd.url, controllerUrl }),
    });

  beforeAll(async () => {
    if (!rspamdInstalled()) {
      throw new Error(
        "rspamd and redis-server must be installed for this test (make test installs the Debian packages rspamd and redis-server)",
      );
    }
    dir = mkdtempSync(join(tmpdir(), "mp-user-reports-"));
    rspamd = await startRspamd({ dir: join(dir, "rspamd"), persist: false, onWarning: () => {} });
    h = await startHarness(backend, { smtp: () => engine?.operations, rateLimit: false });
    acme = await h.tenant("acme");
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { token: acme.token, body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    await put("/v1/domains/train.example", { name: "train.example" });
    for (const address of [ALICE, BOB, CAROL]) {
      await put(`/v1/domains/train.example/users/${address}`, { address, password: PASSWORD });
    }
    // A low quarantine threshold holds a message rspamd merely dislikes (no Date:, no Message-ID:).
    await put("/v1/domains/train.example/filter-settings", {
      scope: "train.example",
      tagThreshold: 0.01,
      quarantineThreshold: 0.02,
    });
    engine = await startEngine(rspamd.controllerUrl);
    events = new EventLog(engine);
    alice = await session(ALICE);
    bob = await session(BOB);
    carol = await session(CAROL);
  }, 180_000);
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await rspamd?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("deletes and reports as spam only the user's copy of a message held also for another user: learned, audited and counted once", async () => {
    const id = await hold([ALICE, BOB], "zorbex presale for two");
    const before = { learned: await learned(), stats: await statistics() };
    const res = await h.call("DELETE", `/v1/me/quarantine/${id}?report=spam`, { token: alice });
    expect(res.status, res.text).toBe(204);
    expect(await learned()).toBe(before.learned + 1);
    expect(await heldFor(alice, id)).toBe(404);
    // Bob decides for himself: his copy stays held.
    expect(await heldFor(bob, id)).toBe(200);
    const entries = await audited("report-spam", id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ objectId: ALICE, after: { deleted: "quarantine" } });
    expect((await statistics()).spamReports).toBe(before.stats.spamReports + 1);

    // Again (a second click): nothing held for her any more; not learned, counted nor audited again.
    const again = await h.call("DELETE", `/v1/me/quarantine/${id}?report=spam`, { token: alice });
    expect(again.status).toBe(404);
    expect(await learned()).toBe(before.learned + 1);
    expect((await statistics()).spamReports).toBe(before.stats.spamReports + 1);
    expect(await audited("report-spam", id)).toHaveLength(1);
  });

  it("releases and reports as not spam a message held for the user: learned first, delivered, audited and counted once for two clicks at once", async () => {
    const id = await hold([ALICE], "minutes of the planning meeting");
    const before = { learned: await learned(), stats: await statistics() };
    const path = `/v1/me/quarantine/${id}/release?report=ham`;
    const answers = await Promise.all([
      h.call("POST", path, { token: alice }),
      h.call("POST", path, { token: alice }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 404]);
    const released = answers.find((a) => a.status === 200)!;
    expect(released.body).toMatchObject({ id, queueId: expect.any(String) });
    expect(await learned()).toBe(before.learned + 1);
    const stats = await statistics();
    expect(stats.hamReports).toBe(before.stats.hamReports + 1);
    expect(stats.spamReports).toBe(before.stats.spamReports);
    expect(await audited("report-ham", id)).toHaveLength(1);
    await events.settled(released.body.queueId);
    const log = await h.call("GET", `/v1/me/message-log?subject=${encodeURIComponent("planning meeting")}`, {
      token: alice,
    });
    expect(log.body.items[0]).toMatchObject({ delivery: "released" });
  });

  it("releases as not spam only the user's copy of a message held also for another user", async () => {
    const id = await hold([ALICE, BOB], "budget figures for two");
    const res = await h.call("POST", `/v1/me/quarantine/${id}/release?report=ham`, { token: bob });
    expect(res.status, res.text).toBe(200);
    expect(await heldFor(bob, id)).toBe(404);
    expect(await heldFor(alice, id)).toBe(200);
  });

  it("answers 404 to a user reporting another user's held message, and teaches rspamd nothing", async () => {
    const id = await hold([ALICE], "only for alice");
    const before = await learned();
    const spam = await h.call("DELETE", `/v1/me/quarantine/${id}?report=spam`, { token: bob });
    const ham = await h.call("POST", `/v1/me/quarantine/${id}/release?report=ham`, { token: bob });
    expect([spam.status, ham.status]).toEqual([404, 404]);
    expect(await learned()).toBe(before);
    expect(await heldFor(alice, id)).toBe(200);
  });

  it("refuses a report value the endpoint does not take with 400 naming the query field", async () => {
    const id = await hold([ALICE], "wrong report kind");
    const res = await h.call("DELETE", `/v1/me/quarantine/${id}?report=ham`, { token: alice });
    expect(res.status).toBe(400);
    expect(res.text).toContain("report");
    expect(await heldFor(alice, id)).toBe(200);
  });

  it("answers 409 to release as not spam when the user's address refuses the message now, before teaching rspamd anything", async () => {
    const id = await hold([CAROL], "held for carol");
    // Carol's address now refuses mail (the domain's recipient block list); she can still sign in.
    const list = await h.call("PUT", "/v1/domains/train.example/sender-lists/block-recipient", {
      token: acme.token,
      body: { domain: "train.example", kind: "block", target: "recipient", entries: [CAROL] },
    });
    expect(list.status, list.text).toBeLessThan(300);
    const before = { learned: await learned(), stats: await statistics() };
    const res = await h.call("POST", `/v1/me/quarantine/${id}/release?report=ham`, { token: carol });
    expect(res.status, res.text).toBe(409);
    expect(res.body.code).toBe("MP_CONFLICT");
    expect(await learned()).toBe(before.learned);
    expect((await statistics()).hamReports).toBe(before.stats.hamReports);
    expect(await heldFor(carol, id)).toBe(200);
  });

  it("answers an operator's release with report=ham 409 too when no recipient accepts the message now, before teaching rspamd anything", async () => {
    const blockCarol = (entries: string[]) =>
      h.call("PUT", "/v1/domains/train.example/sender-lists/block-recipient", {
        token: acme.token,
        body: { domain: "train.example", kind: "block", target: "recipient", entries },
      });
    // Held while Carol's address takes mail, then her address refuses it (as in the test above).
    expect((await blockCarol([])).status).toBeLessThan(300);
    const id = await hold([CAROL], "held for carol, released by the admin");
    expect((await blockCarol([CAROL])).status).toBeLessThan(300);
    const before = { learned: await learned(), stats: await statistics() };
    const res = await h.call("POST", `/v1/domains/train.example/quarantine/${id}/release?report=ham`, {
      token: acme.token,
    });
    expect(res.status, res.text).toBe(409);
    expect(await learned()).toBe(before.learned);
    expect((await statistics()).hamReports).toBe(before.stats.hamReports);
    expect(await heldFor(carol, id)).toBe(200);
  });

  it("answers 503 when rspamd refuses to learn, and changes nothing: still held, not counted, not audited", async () => {
    const id = await hold([ALICE], "refused by rspamd");
    // The same quarantine under an engine whose learn requests go to rspamd's scanning worker, which
    // has no learn command: a real rspamd refusing (it stays the last test of this block).
    await engine!.close();
    engine = await startEngine(rspamd.url);
    const stats = await statistics();
    const spam = await h.call("DELETE", `/v1/me/quarantine/${id}?report=spam`, { token: alice });
    expect(spam.status, spam.text).toBe(503);
    expect(spam.body.code).toBe("MP_UNAVAILABLE");
    const ham = await h.call("POST", `/v1/me/quarantine/${id}/release?report=ham`, { token: alice });
    expect(ham.status, ham.text).toBe(503);
    expect(await heldFor(alice, id)).toBe(200);
    expect(await statistics()).toMatchObject({
      spamReports: stats.spamReports,
      hamReports: stats.hamReports,
    });
    expect(await audited("report-spam", id)).toHaveLength(0);
    expect(await audited("report-ham", id)).toHaveLength(0);
  });
});

describe("a mail user reporting their quarantined copy, without rspamd", () => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let alice: string;

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations, rateLimit: false });
    const acme = await h.tenant("acme");
    await h.call("PUT", "/v1/domains/plain.example", { token: acme.token, body: { name: "plain.example" } });
    await h.call("PUT", "/v1/domains/plain.example/users/alice@plain.example", {
      token: acme.token,
      body: { address: "alice@plain.example", password: PASSWORD },
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
    });
    events = new EventLog(engine);
    const res = await h.call("POST", "/v1/sessions", {
      body: { address: "alice@plain.example", password: PASSWORD },
    });
    alice = res.body.token;
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("answers 422 MP_FILTER_TRAINING_UNAVAILABLE to both reports and keeps the message held", async () => {
    await swaks(engine!.inboundPort, [
      "--to",
      "alice@plain.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: held plain",
      "--body",
      GTUBE,
    ]);
    const [held] = await events.next("quarantined", (m) => m.subject === "held plain");
    const id = held!.id as string;
    const spam = await h.call("DELETE", `/v1/me/quarantine/${id}?report=spam`, { token: alice });
    const ham = await h.call("POST", `/v1/me/quarantine/${id}/release?report=ham`, { token: alice });
    for (const res of [spam, ham]) {
      expect(res.status, res.text).toBe(422);
      expect(res.body.code).toBe("MP_FILTER_TRAINING_UNAVAILABLE");
    }
    expect((await h.call("GET", `/v1/me/quarantine/${id}`, { token: alice })).status).toBe(200);
  });
});
