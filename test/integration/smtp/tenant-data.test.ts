/** Message data per owner on both stores: a re-created domain starts empty, and a mixed-tenant message shows to each account as its own part. */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { scratchDirs } from "../../support/scratch.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, freePort, HOSTNAME, startTestEngine, swaks } from "./support/harness.ts";

/** The data directory an earlier version left, removed after the test. */
const legacyDir = scratchDirs("mp-legacy-");

describe.each(BACKENDS)("message data per owner on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  const as = (t: { token: string }) => ({ token: t.token });
  const put = async (t: { token: string }, path: string, body: object) => {
    const res = await h.call("PUT", path, { ...as(t), body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  const del = async (t: { token: string }, path: string) => {
    const res = await h.call("DELETE", path, as(t));
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  /** Until the engine enforces the store as it is now, and its data lifecycle has run on that. */
  const engineCaughtUp = async () => {
    await engine!.policy.reached(await h.cp.store.revision());
    await engine!.lifecycle.reconcile();
  };
  const since = () => encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());

  beforeAll(async () => {
    h = await startHarness(backend, { smtp: () => engine?.operations });
    acme = await h.tenant("acme");
    other = await h.tenant("other");
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
    });
    events = new EventLog(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await h.close();
  });

  it("starts a domain deleted by one account and created by another empty: quarantine, log and statistics, with the old files gone", async () => {
    const name = uniqueDomain("life");
    await put(acme, `/v1/domains/${name}`, { name });
    await put(acme, `/v1/domains/${name}/users/alice@${name}`, {
      address: `alice@${name}`,
      password: "Correct-Horse-7",
    });
    await engineCaughtUp();
    const clean = await swaks(engine!.inboundPort, ["--to", `alice@${name}`, "--from", "s@outside.example"]);
    await events.settled(clean.queueId()!);
    const spam = await swaks(engine!.inboundPort, [
      "--to",
      `alice@${name}`,
      "--from",
      "s@outside.example",
      "--header",
      "Subject: first owner's secret",
      "--body",
      GTUBE,
    ]);
    expect(spam.replyTo(".")).toMatchObject({ code: 550, enhanced: "5.7.1" });
    const [held] = await events.next("quarantined", (m) => m.subject === "first owner's secret");
    const mailbox = engine!.maildirOf(`alice@${name}`);
    expect(readdirSync(join(mailbox, "new"))).toHaveLength(1);
    const quarantineFile = join(engine!.quarantine.dir, `${held.id}.msg`);
    expect(existsSync(quarantineFile)).toBe(true);
    const before = await h.call("GET", `/v1/domains/${name}/statistics?since=${since()}`, as(acme));
    expect(before.body).toMatchObject({ total: 2, quarantined: 1 });
    await (engine!.log as unknown as { flush(): Promise<void> }).flush();
    const logDirs = () =>
      readdirSync(join(engine!.dataDir, "message-log", acme.id)).filter((d) => d.startsWith(`${name}@`));
    expect(logDirs()).toHaveLength(1);

    // pulumi destroy: the user, then the domain; then another account takes the name.
    await put(acme, `/v1/domains/${name}/users/alice@${name}`, { address: `alice@${name}`, enabled: false });
    await del(acme, `/v1/domains/${name}/users/alice@${name}`);
    await del(acme, `/v1/domains/${name}`);
    await put(other, `/v1/domains/${name}`, { name });
    await put(other, `/v1/domains/${name}/users/alice@${name}`, {
      address: `alice@${name}`,
      password: "Other-Horse-8",
    });
    await engineCaughtUp();

    const quarantine = await h.call("GET", `/v1/domains/${name}/quarantine`, as(other));
    expect(quarantine.status).toBe(200);
    expect(quarantine.body.items).toEqual([]);
    expect((await h.call("GET", `/v1/domains/${name}/quarantine/${held.id}`, as(other))).status).toBe(404);
    const log = await h.call("GET", `/v1/domains/${name}/message-log`, as(other));
    expect(log.status).toBe(200);
    expect(log.body.items).toEqual([]);
    const stats = await h.call("GET", `/v1/domains/${name}/statistics?since=${since()}`, as(other));
    expect(stats.body).toMatchObject({ total: 0, quarantined: 0, spam: 0, clean: 0, bytes: 0 });
    // The first lifetime's files are gone: Maildir, quarantined message, log folder.
    expect(existsSync(mailbox)).toBe(false);
    expect(existsSync(quarantineFile)).toBe(false);
    expect(logDirs()).toEqual([]);
    // The new owner's mailbox is its own, and starts empty.
    expect(engine!.maildirOf(`alice@${name}`)).not.toBe(mailbox);
    const fresh = await swaks(engine!.inboundPort, ["--to", `alice@${name}`, "--from", "s@outside.example"]);
    await events.settled(fresh.queueId()!);
    expect(readdirSync(join(engine!.maildirOf(`alice@${name}`), "new"))).toHaveLength(1);
    const after = await h.call("GET", `/v1/domains/${name}/message-log`, as(other));
    expect(after.body.items.map((e: { id: string }) => e.id)).toEqual([fresh.queueId()]);
  });

  it("lists a queued message for its domain's owner only, and drops it from the queue when the domain is deleted", async () => {
    const name = uniqueDomain("queued");
    const deadPort = await freePort();
    const route = `/v1/domains/${name}/routes/127.0.0.1:${deadPort}`;
    await put(acme, `/v1/domains/${name}`, { name });
    await put(acme, route, { domain: name, host: "127.0.0.1", port: deadPort, tls: "none" });
    await engineCaughtUp();
    const run = await swaks(engine!.inboundPort, ["--to", `x@${name}`, "--from", "s@outside.example"]);
    const id = run.queueId()!;
    await events.next("deferred", (meta) => meta.id === id);
    const listed = await h.call("GET", `/v1/domains/${name}/queue`, as(acme));
    expect(listed.body.items).toMatchObject([{ id, domain: name, recipients: [`x@${name}`] }]);

    await del(acme, route);
    await del(acme, `/v1/domains/${name}`);
    await put(other, `/v1/domains/${name}`, { name });
    await engineCaughtUp();
    expect(engine!.queue.get(id)).toBeUndefined();
    const fresh = await h.call("GET", `/v1/domains/${name}/queue`, as(other));
    expect(fresh.status).toBe(200);
    expect(fresh.body.items).toEqual([]);
    expect((await h.call("GET", `/v1/domains/${name}/queue/${id}`, as(other))).status).toBe(404);
  });

  it("shows a mixed-tenant submission to each account as its own part, the Bcc never crossing accounts", async () => {
    const a = uniqueDomain("a");
    const b = uniqueDomain("b");
    await put(acme, `/v1/domains/${a}`, { name: a });
    await put(other, `/v1/domains/${b}`, { name: b, timezone: "Asia/Tokyo" });
    for (const [t, address, password] of [
      [acme, `alice@${a}`, "Alice-Horse-1"],
      [acme, `hidden@${a}`, "Hidden-Horse-2"],
      [other, `bob@${b}`, "Bob-Horse-3"],
    ] as const) {
      await put(t, `/v1/domains/${address.split("@")[1]}/users/${address}`, { address, password });
    }
    await engineCaughtUp();
    // To: bob (the other account); Bcc: hidden (the sender's own account): envelope only.
    const run = await swaks(engine!.submissionPort, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      `alice@${a}`,
      "--auth-password",
      "Alice-Horse-1",
      "--from",
      `alice@${a}`,
      "--to",
      `bob@${b},hidden@${a}`,
      "--header",
      `To: bob@${b}`,
      "--header",
      "Subject: mixed",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    const id = run.queueId()!;
    await events.settled(id);

    const sender = await h.call("GET", `/v1/domains/${a}/message-log?subject=mixed`, as(acme));
    expect(sender.body.items).toHaveLength(1);
    expect(sender.body.items[0]).toMatchObject({
      id,
      domain: a,
      listener: "submission",
      delivery: "delivered",
    });
    expect([...sender.body.items[0].recipients].sort()).toEqual([`bob@${b}`, `hidden@${a}`].sort());

    const recipient = await h.call("GET", `/v1/domains/${b}/message-log?subject=mixed`, as(other));
    expect(recipient.body.items).toHaveLength(1);
    expect(recipient.body.items[0]).toMatchObject({ id, domain: b, recipients: [`bob@${b}`] });
    expect(recipient.text).not.toContain("hidden@");
    const stats = await h.call("GET", `/v1/domains/${b}/statistics?since=${since()}`, as(other));
    expect(stats.body).toMatchObject({ total: 1, clean: 1, timezone: "Asia/Tokyo" });
    // The day rows split at Tokyo's midnight (the domain's timezone).
    const tokyoDate = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(
      new Date(recipient.body.items[0].at),
    );
    expect(stats.body.days).toMatchObject([{ date: tokyoDate, total: 1 }]);
  });
});

describe.each(BACKENDS)(
  "deleted domain data kept sealed (--deleted-domain-data keep) on $name",
  (backend) => {
    let h: Harness;
    let engine: EngineOnStore | undefined;
    let events: EventLog;
    let acme: { id: string; token: string };
    const as = {
      get token() {
        return acme.token;
      },
    };

    beforeAll(async () => {
      h = await startHarness(backend, { smtp: () => engine?.operations });
      acme = await h.tenant("acme");
      engine = await startSmtpEngineOnStore({
        store: h.cp.store,
        // Single-tenant test platform: its domains are local without DNS verification.
        policy: { trustAllDomains: true },
        dataDir: `${h.dataDir}/smtp`,
        hostname: HOSTNAME,
        resolver: NO_DNS,
        inbound: { host: "127.0.0.1", port: 0 },
        submission: false,
        deletedDomainData: "keep",
      });
      events = new EventLog(engine);
    });
    afterAll(async () => {
      await engine?.close();
      await h.close();
    });

    it("keeps the files of a domain the same account deleted and created again, and serves the new lifetime none of them", async () => {
      const name = uniqueDomain("again");
      const call = async (method: string, path: string, body?: object) => {
        const res = await h.call(method, path, { token: as.token, ...(body ? { body } : {}) });
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
        return res;
      };
      await call("PUT", `/v1/domains/${name}`, { name });
      await call("PUT", `/v1/domains/${name}/users/alice@${name}`, {
        address: `alice@${name}`,
        password: "Correct-Horse-7",
      });
      await engine!.policy.reached(await h.cp.store.revision());
      const spam = await swaks(engine!.inboundPort, [
        "--to",
        `alice@${name}`,
        "--from",
        "s@outside.example",
        "--body",
        GTUBE,
      ]);
      expect(spam.replyTo(".")).toMatchObject({ code: 550 });
      const [held] = await events.next("quarantined", () => true);
      const clean = await swaks(engine!.inboundPort, [
        "--to",
        `alice@${name}`,
        "--from",
        "s@outside.example",
      ]);
      await events.settled(clean.queueId()!);
      const mailbox = engine!.maildirOf(`alice@${name}`);
      expect((await call("GET", `/v1/domains/${name}/message-log`)).body.items).toHaveLength(2);

      await call("PUT", `/v1/domains/${name}/users/alice@${name}`, {
        address: `alice@${name}`,
        enabled: false,
      });
      await call("DELETE", `/v1/domains/${name}/users/alice@${name}`);
      await call("DELETE", `/v1/domains/${name}`);
      await call("PUT", `/v1/domains/${name}`, { name });
      await call("PUT", `/v1/domains/${name}/users/alice@${name}`, {
        address: `alice@${name}`,
        password: "Correct-Horse-7",
      });
      await engine!.policy.reached(await h.cp.store.revision());
      await engine!.lifecycle.reconcile();

      // Same account, same name, new lifetime: nothing of the first one shows…
      expect((await call("GET", `/v1/domains/${name}/message-log`)).body.items).toEqual([]);
      expect((await call("GET", `/v1/domains/${name}/quarantine`)).body.items).toEqual([]);
      const since = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
      expect((await call("GET", `/v1/domains/${name}/statistics?since=${since}`)).body).toMatchObject({
        total: 0,
      });
      expect(engine!.maildirOf(`alice@${name}`)).not.toBe(mailbox);
      // …while its files stay on disk, as the operator asked.
      expect(readdirSync(join(mailbox, "new"))).toHaveLength(1);
      expect(existsSync(join(engine!.quarantine.dir, `${held.id}.msg`))).toBe(true);
    });
  },
);

describe("upgrade from the single-file message log", () => {
  it("imports message-log.jsonl under the owners of its domains, with delivery updates, once", async () => {
    const dataDir = legacyDir();
    const at = new Date().toISOString();
    const entry = (id: string, domain: string) => ({
      id,
      at,
      listener: "inbound",
      clientIp: "192.0.2.1",
      clientHelo: "c",
      sender: "s@outside.example",
      recipients: [`alice@${domain}`],
      domain,
      subject: `old ${id}`,
      messageId: null,
      size: 10,
      classification: "clean",
      action: "accepted",
      reply: "250",
      score: 0,
      delivery: "queued",
      deliveryDetail: null,
    });
    writeFileSync(
      join(dataDir, "message-log.jsonl"),
      [
        JSON.stringify(entry("old1", "kept.example")),
        JSON.stringify(entry("old2", "gone.example")),
        JSON.stringify({ update: "old1", delivery: "delivered", detail: null }),
        '{"id":"torn","at":',
      ].join("\n"),
    );
    const tenancy = {
      revision: 1,
      accounts: [{ id: "acme", domains: [{ name: "kept.example" }], users: [] }],
    };
    const t = await startTestEngine(tenancy, { dataDir });
    const owner = { accountId: "acme", domain: "kept.example", generation: "" };
    expect(await t.engine.log.search(owner, {})).toMatchObject([
      { id: "old1", domain: "kept.example", recipients: ["alice@kept.example"], delivery: "delivered" },
    ]);
    expect(t.engine.log.owners()).toEqual([owner]);
    await t.close();
    expect(existsSync(join(dataDir, "message-log.jsonl"))).toBe(false);
    expect(existsSync(join(dataDir, "message-log.jsonl.imported"))).toBe(true);
    // The next start reads the per-owner files, and imports nothing twice.
    const again = await startTestEngine(tenancy, { dataDir });
    expect(await again.engine.log.search(owner, {})).toHaveLength(1);
    await again.close();
  });
});
