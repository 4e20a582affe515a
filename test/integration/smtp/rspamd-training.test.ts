/** Training rspamd's Bayes classifier through the operations API: spam/ham reports of raw .eml uploads and release as ham, with a real rspamd + Redis. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
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
import { REPORT_MAX_BYTES } from "../../../sdk/src/contract/operations.ts";
import { type Harness, startHarness } from "../api/harness.ts";
import { EventLog, freePort, HOSTNAME, pythonSmtp, swaks, testTls } from "./support/harness.ts";

/** A distinct message of enough words for Bayes to tokenize (rspamd skips messages with too few tokens). */
function eml(n: number, topic: string): Buffer {
  // Eight words a line: lines stay far below RFC 5322's 998 characters.
  const words = Array.from(
    { length: 40 },
    (_, i) => `${topic}${(i * 7 + n) % 23} word${i} offer${n}${i % 8 === 7 ? "\r\n" : " "}`,
  ).join("");
  return Buffer.from(
    `From: seller${n}@outside.example\r\nTo: alice@train.example\r\nSubject: ${topic} number ${n}\r\n` +
      `Date: Thu, 03 Dec 2026 09:00:00 +0000\r\nMessage-ID: <${topic}-${n}@outside.example>\r\n\r\n${words}\r\n`,
  );
}

/** A message of a zorbex-token spam wave or of a team's meeting minutes: one vocabulary each, varied by `n`. */
function pattern(kind: "spam" | "ham", n: number, to: string): string {
  const subject =
    kind === "spam" ? `Zorbex token presale round ${n}` : `Minutes of the planning meeting ${n}`;
  const body =
    kind === "spam"
      ? `Dear investor ${n}, the zorbex quantum mining token presale closes tonight. Buy zorbex tokens\r\n` +
        `with guaranteed daily yield, send your wallet seed to the zorbex desk and double your coins.\r\n` +
        `Limited zorbex allocation number ${n}, act now before the presale ends.`
      : `Hello team, attached are the notes from planning meeting ${n}. We agreed to move the release\r\n` +
        `review to Thursday, Maria will update the roadmap, and the budget figures for the second\r\n` +
        `quarter follow next week. Please send corrections before Friday. Regards, Tom`;
  return (
    `From: Sender ${n} <sender${n}@outside.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
    `Date: Thu, 03 Dec 2026 09:00:00 +0000\r\nMessage-ID: <${kind}-${n}@outside.example>\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`
  );
}

describe("training rspamd's Bayes classifier through the operations API", () => {
  let dir: string;
  let rspamd: SupervisedRspamd;
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  /** A route target that accepts connections and never answers: a delivery attempt to it runs until the test lets go. */
  let silent: Server;
  const silentSockets = new Set<Socket>();
  let silentConnected: Promise<void>;

  /** Messages rspamd's controller learned (spam and ham), from its /stat. */
  const learned = async (): Promise<number> => {
    const stat = (await (await fetch(`${rspamd.controllerUrl}/stat`)).json()) as { learned: number };
    return stat.learned;
  };
  const upload = (path: string, token: string, body: Buffer, type = "message/rfc822") =>
    fetch(`${h.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": type },
      body,
    });

  beforeAll(async () => {
    if (!rspamdInstalled()) {
      throw new Error(
        "rspamd and redis-server must be installed for this test (make test installs the Debian packages rspamd and redis-server)",
      );
    }
    dir = mkdtempSync(join(tmpdir(), "mp-rspamd-train-"));
    rspamd = await startRspamd({ dir: join(dir, "rspamd"), persist: false, onWarning: () => {} });
    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations });
    acme = await h.tenant("acme");
    other = await h.tenant("other");
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { token: acme.token, body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    const deadPort = await freePort();
    let connected: () => void = () => {};
    silentConnected = new Promise((r) => {
      connected = r;
    });
    silent = createServer((socket) => {
      silentSockets.add(socket);
      connected();
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const silentPort = (silent.address() as { port: number }).port;
    const route = async (token: string, domain: string, port: number) => {
      for (const [path, body] of [
        [`/v1/domains/${domain}`, { name: domain }],
        [`/v1/domains/${domain}/routes/127.0.0.1:${port}`, { domain, host: "127.0.0.1", port, tls: "none" }],
      ] as const) {
        const res = await h.call("PUT", path, { token, body });
        if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
      }
    };
    // Mail to these stays queued (deferred: nothing listens) or stays in delivery (silent).
    await route(acme.token, "queue.example", deadPort);
    await route(acme.token, "silent.example", silentPort);
    await route(other.token, "other-queue.example", deadPort);
    await put("/v1/domains/bayes.example", { name: "bayes.example" });
    await put("/v1/domains/bayes.example/users/bob@bayes.example", {
      address: "bob@bayes.example",
      password: "Correct-Horse-7",
    });
    await put("/v1/domains/train.example", { name: "train.example" });
    await put("/v1/domains/train.example/users/alice@train.example", {
      address: "alice@train.example",
      password: "Correct-Horse-7",
    });
    // A low quarantine threshold holds a message rspamd merely dislikes (no Date:, no Message-ID:):
    // rspamd does not learn GTUBE messages, so the held message must not be one.
    await put("/v1/domains/train.example/filter-settings", {
      scope: "train.example",
      tagThreshold: 0.01,
      quarantineThreshold: 0.02,
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true, masterKey: loadMasterKey(h.dataDir) },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
      tls: await testTls(),
      submission: { host: "127.0.0.1", port: 0 },
      rspamd: new RspamdScorer({ url: rspamd.url, controllerUrl: rspamd.controllerUrl }),
    });
    events = new EventLog(engine);
  }, 180_000);
  afterAll(async () => {
    for (const socket of silentSockets) socket.destroy();
    silent?.close();
    await engine?.close();
    await h?.close();
    await rspamd?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("teaches rspamd each message reported as spam (its learned count grows by N) and audits it", async () => {
    const before = await learned();
    for (let n = 0; n < 3; n++) {
      const res = await upload("/v1/domains/train.example/report/spam", acme.token, eml(n, "pills"));
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toMatchObject({ learned: "spam" });
    }
    expect(await learned()).toBe(before + 3);
    const audit = await h.call("GET", "/v1/audit?action=report-spam", { token: acme.token });
    expect(audit.status).toBe(200);
    expect(audit.body.items.filter((e: { action: string }) => e.action === "report-spam")).toHaveLength(3);
  });

  it("teaches rspamd a message reported as ham", async () => {
    const before = await learned();
    const res = await upload("/v1/domains/train.example/report/ham", acme.token, eml(1, "minutes"));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await learned()).toBe(before + 1);
  });

  it("answers 404 to another tenant reporting into the domain, and teaches rspamd nothing", async () => {
    const before = await learned();
    const res = await upload("/v1/domains/train.example/report/spam", other.token, eml(9, "pills"));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("MP_NOT_FOUND");
    expect(await learned()).toBe(before);
  });

  it("refuses a report that is not message/rfc822 with 415 and one past the cap with 413", async () => {
    const json = await upload(
      "/v1/domains/train.example/report/spam",
      acme.token,
      Buffer.from("{}"),
      "application/json",
    );
    expect(json.status).toBe(415);
    const huge = await upload(
      "/v1/domains/train.example/report/spam",
      acme.token,
      Buffer.alloc(REPORT_MAX_BYTES + 1, "a"),
    );
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { code: string }).code).toBe("MP_PAYLOAD_TOO_LARGE");
  });

  it("releases a quarantined message with report=ham: delivered, and learned as ham", async () => {
    // No Date:, no Message-ID: past the low threshold; enough words for rspamd's Bayes to learn.
    const body = eml(5, "newsletter").toString("utf8").split("\r\n\r\n")[1]!;
    const steps = await pythonSmtp({
      port: engine!.inboundPort,
      messages: [
        {
          from: "s@outside.example",
          to: ["alice@train.example"],
          data: `From: s@outside.example\r\nTo: alice@train.example\r\nSubject: held for training\r\n\r\n${body}`,
        },
      ],
    });
    expect(steps.at(-1)).toMatchObject({ cmd: "DATA", code: 550, text: expect.stringContaining("5.7.1") });
    const [held] = await events.next("quarantined", (m) => m.subject === "held for training");
    const path = `/v1/domains/train.example/quarantine/${held!.id}/release?report=ham`;

    const stranger = await h.call("POST", path, { token: other.token });
    expect(stranger.status).toBe(404);

    const before = await learned();
    const released = await h.call("POST", path, { token: acme.token });
    expect(released.status, released.text).toBe(200);
    expect(await learned()).toBe(before + 1);
    await events.settled(released.body.queueId);
    const log = await h.call("GET", "/v1/domains/train.example/message-log?subject=held%20for%20training", {
      token: acme.token,
    });
    expect(log.body.items[0]).toMatchObject({ delivery: "released" });
  });

  /**
   * Words of their own for each message: rspamd takes a message whose tokens it already learned as
   * learned (208), and its learned count would not move.
   */
  const bodyOf = (subject: string) =>
    Array.from({ length: 30 }, (_, i) => `${subject.replace(/\W/g, "")}${i} unique${i * 13}`).join(" ");
  /** Sends one message (swaks; submitted by alice when `submit`) and waits until its first delivery attempt was deferred; its queue ID. */
  const queuedMessage = async (to: string, subject: string, submit = false): Promise<string> => {
    const auth = submit
      ? [
          "--tls",
          "--auth",
          "PLAIN",
          "--auth-user",
          "alice@train.example",
          "--auth-password",
          "Correct-Horse-7",
        ]
      : [];
    const run = await swaks(submit ? engine!.submissionPort : engine!.inboundPort, [
      ...auth,
      "--to",
      to,
      "--from",
      submit ? "alice@train.example" : "s@outside.example",
      "--header",
      `Subject: ${subject}`,
      "--body",
      bodyOf(subject),
    ]);
    const id = run.queueId()!;
    await events.next("deferred", (meta) => meta.id === id);
    return id;
  };

  it("deletes a queued message reported as spam: rspamd learns it, it leaves the queue, the log, audit and statistics say so", async () => {
    const id = await queuedMessage("x@queue.example", "queued spam");
    const path = `/v1/domains/queue.example/queue/${id}?report=spam`;
    const before = await learned();

    const stranger = await h.call("DELETE", path, { token: other.token });
    expect(stranger.status).toBe(404);
    expect(await learned()).toBe(before);

    const res = await h.call("DELETE", path, { token: acme.token });
    expect(res.status, res.text).toBe(204);
    expect(await learned()).toBe(before + 1);
    await events.settled(id);
    expect(
      (await h.call("GET", "/v1/domains/queue.example/queue", { token: acme.token })).body.items,
    ).toEqual([]);

    // Gone: a second report is 404 and teaches rspamd nothing.
    const again = await h.call("DELETE", path, { token: acme.token });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("MP_NOT_FOUND");
    expect(await learned()).toBe(before + 1);

    const log = await h.call("GET", "/v1/domains/queue.example/message-log?subject=queued%20spam", {
      token: acme.token,
    });
    expect(log.body.items[0]).toMatchObject({ delivery: "deleted" });
    expect(log.body.items[0].deliveryDetail).toContain("reported as spam");
    const audit = await h.call("GET", "/v1/audit?action=report-spam", { token: acme.token });
    expect(audit.body.items.map((e: { after: { message?: string } }) => e.after?.message)).toContain(id);
    const stats = await h.call("GET", "/v1/domains/queue.example/statistics", { token: acme.token });
    expect(stats.body).toMatchObject({ spamReports: 1, hamReports: 0 });
  });

  it("takes two delete-and-reports of one queued message at once as one: one 204, one 404, counted once", async () => {
    const id = await queuedMessage("x@queue.example", "reported twice at once");
    const path = `/v1/domains/queue.example/queue/${id}?report=spam`;
    const before = await learned();
    const answers = await Promise.all([
      h.call("DELETE", path, { token: acme.token }),
      h.call("DELETE", path, { token: acme.token }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([204, 404]);
    expect(await learned()).toBe(before + 1);
    const stats = await h.call("GET", "/v1/domains/queue.example/statistics", { token: acme.token });
    expect(stats.body).toMatchObject({ spamReports: 2 });
    const audit = await h.call("GET", "/v1/audit?action=report-spam", { token: acme.token });
    expect(
      audit.body.items.filter((e: { after: { message?: string } }) => e.after?.message === id),
    ).toHaveLength(1);
  });

  it("answers 409 to a delete, plain or with report=spam, of a message that also goes to another account, and keeps it queued for both", async () => {
    // Submitted by acme's alice to the other account's domain: both accounts see it in their queue.
    const id = await queuedMessage("y@other-queue.example", "queued for two accounts", true);
    const before = await learned();
    const res = await h.call("DELETE", `/v1/domains/train.example/queue/${id}?report=spam`, {
      token: acme.token,
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("MP_CONFLICT");
    expect(res.body.detail).toContain("another account");
    expect(await learned()).toBe(before);
    // Neither account may take it out of the other's delivery with a plain delete either.
    for (const [domain, token] of [
      ["train.example", acme.token],
      ["other-queue.example", other.token],
    ] as const) {
      const plain = await h.call("DELETE", `/v1/domains/${domain}/queue/${id}`, { token });
      expect(plain.status, plain.text).toBe(409);
      expect(plain.body.code).toBe("MP_CONFLICT");
    }
    for (const [domain, token] of [
      ["train.example", acme.token],
      ["other-queue.example", other.token],
    ] as const) {
      const queue = await h.call("GET", `/v1/domains/${domain}/queue`, { token });
      expect(queue.body.items.map((v: { id: string }) => v.id)).toContain(id);
    }
  });

  it("answers 409 to delete-and-report while a delivery attempt runs, teaches rspamd nothing, and takes it once the attempt ended", async () => {
    const run = await swaks(engine!.inboundPort, [
      "--to",
      "x@silent.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: in delivery",
      "--body",
      bodyOf("in delivery"),
    ]);
    const id = run.queueId()!;
    await silentConnected;
    const path = `/v1/domains/silent.example/queue/${id}?report=spam`;
    const before = await learned();
    const busy = await h.call("DELETE", path, { token: acme.token });
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toContain("being delivered");
    expect(await learned()).toBe(before);
    expect(
      (await h.call("GET", `/v1/domains/silent.example/queue/${id}`, { token: acme.token })).status,
    ).toBe(200);

    for (const socket of silentSockets) socket.destroy();
    await events.next("deferred", (meta) => meta.id === id);
    const done = await h.call("DELETE", path, { token: acme.token });
    expect(done.status, done.text).toBe(204);
    expect(await learned()).toBe(before + 1);
  });

  it("counts the domain's reports in its statistics: spam reports, ham reports and releases as ham", async () => {
    const stats = await h.call("GET", "/v1/domains/train.example/statistics", { token: acme.token });
    expect(stats.status).toBe(200);
    // Three report/spam, one report/ham and one release?report=ham above; the refused ones count nothing.
    expect(stats.body).toMatchObject({ spamReports: 3, hamReports: 2 });
    const today = stats.body.days.at(-1);
    expect(today).toMatchObject({ spamReports: 3, hamReports: 2 });
    const others = await h.call("GET", "/v1/domains/other-queue.example/statistics", { token: other.token });
    expect(others.body).toMatchObject({ spamReports: 0, hamReports: 0 });
  });

  it("releases a held message asked for twice at once with report=ham once: learned, counted and audited once", async () => {
    const body = eml(8, "digest").toString("utf8").split("\r\n\r\n")[1]!;
    await pythonSmtp({
      port: engine!.inboundPort,
      messages: [
        {
          from: "s@outside.example",
          to: ["alice@train.example"],
          data: `From: s@outside.example\r\nTo: alice@train.example\r\nSubject: released twice\r\n\r\n${body}`,
        },
      ],
    });
    const [held] = await events.next("quarantined", (m) => m.subject === "released twice");
    const path = `/v1/domains/train.example/quarantine/${held!.id}/release?report=ham`;
    const before = await learned();
    const stats = async () =>
      (await h.call("GET", "/v1/domains/train.example/statistics", { token: acme.token })).body.hamReports;
    const hamBefore = await stats();
    const answers = await Promise.all([
      h.call("POST", path, { token: acme.token }),
      h.call("POST", path, { token: acme.token }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[1]!.body.queueId).toBe(answers[0]!.body.queueId);
    expect(await learned()).toBe(before + 1);
    expect(await stats()).toBe(hamBefore + 1);
    const audit = await h.call("GET", "/v1/audit?action=report-ham", { token: acme.token });
    expect(
      audit.body.items.filter((e: { after: { message?: string } }) => e.after?.message === held!.id),
    ).toHaveLength(1);
  });

  it("deletes a quarantined message with report=spam once, however many ask: learned, counted and audited once, then gone; a stranger gets 404", async () => {
    const body = eml(9, "promo").toString("utf8").split("\r\n\r\n")[1]!;
    await pythonSmtp({
      port: engine!.inboundPort,
      messages: [
        {
          from: "s@outside.example",
          to: ["alice@train.example"],
          data: `From: s@outside.example\r\nTo: alice@train.example\r\nSubject: deleted as spam\r\n\r\n${body}`,
        },
      ],
    });
    const [held] = await events.next("quarantined", (m) => m.subject === "deleted as spam");
    const path = `/v1/domains/train.example/quarantine/${held!.id}?report=spam`;
    expect((await h.call("DELETE", path, { token: other.token })).status).toBe(404);
    const before = await learned();
    const stats = async () =>
      (await h.call("GET", "/v1/domains/train.example/statistics", { token: acme.token })).body.spamReports;
    const spamBefore = await stats();
    const answers = await Promise.all([
      h.call("DELETE", path, { token: acme.token }),
      h.call("DELETE", path, { token: acme.token }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([204, 404]);
    expect(await learned()).toBe(before + 1);
    expect(await stats()).toBe(spamBefore + 1);
    const audit = await h.call("GET", "/v1/audit?action=report-spam", { token: acme.token });
    expect(
      audit.body.items.filter((e: { after: { message?: string } }) => e.after?.message === held!.id),
    ).toEqual([expect.objectContaining({ after: expect.objectContaining({ deleted: "quarantine" }) })]);
    const gone = await h.call("GET", `/v1/domains/train.example/quarantine/${held!.id}`, {
      token: acme.token,
    });
    expect(gone.status).toBe(404);
    const log = await h.call("GET", "/v1/domains/train.example/message-log?subject=deleted%20as%20spam", {
      token: acme.token,
    });
    expect(log.body.items[0]).toMatchObject({ delivery: "deleted" });
  });

  it("scores the next message of a reported spam wave higher: Bayes learned through the API (message log score, evidence header)", async () => {
    /** Sends a message of the pattern to bob, waits for its delivery; its message log entry and delivered copy. */
    const deliver = async (kind: "spam" | "ham", n: number) => {
      const steps = await pythonSmtp({
        port: engine!.inboundPort,
        messages: [
          {
            from: `sender${n}@outside.example`,
            to: ["bob@bayes.example"],
            data: pattern(kind, n, "bob@bayes.example"),
          },
        ],
      });
      const data = steps.find((step) => step.cmd === "DATA")!;
      expect(data.code, data.text).toBe(250);
      await events.settled(data.text.split(" ").at(-1)!);
      const subject = encodeURIComponent(kind === "spam" ? `round ${n}` : `meeting ${n}`);
      const log = await h.call("GET", `/v1/domains/bayes.example/message-log?subject=${subject}`, {
        token: acme.token,
      });
      const dir = join(engine!.maildirOf("bob@bayes.example"), "new");
      const copy = readdirSync(dir)
        .map((f) => readFileSync(join(dir, f), "utf8"))
        .find((m) => m.includes(`Message-ID: <${kind}-${n}@outside.example>`))!;
      const evidence = /X-Mailplane-Evidence: [^\r\n]*/.exec(copy)![0];
      return { score: log.body.items[0].score as number, evidence };
    };
    const before = await deliver("spam", 100);
    expect(before.evidence).not.toContain("BAYES_SPAM");
    // rspamd's Bayes classifies once each class has min_learns (5 in the generated config) learned.
    for (let n = 1; n <= 6; n++) {
      for (const kind of ["spam", "ham"] as const) {
        const res = await upload(
          `/v1/domains/bayes.example/report/${kind}`,
          acme.token,
          Buffer.from(pattern(kind, n, "bob@bayes.example")),
        );
        expect(res.status, await res.clone().text()).toBe(200);
      }
    }
    const after = await deliver("spam", 101);
    expect(after.evidence).toContain("BAYES_SPAM");
    expect(after.score).toBeGreaterThan(before.score);
    // A message like the ham ones is not pushed towards spam.
    expect((await deliver("ham", 101)).evidence).not.toContain("BAYES_SPAM");
    const stats = await h.call("GET", "/v1/domains/bayes.example/statistics", { token: acme.token });
    expect(stats.body).toMatchObject({ total: 3, spamReports: 6, hamReports: 6 });
  });
});

describe("training without rspamd", () => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations });
    acme = await h.tenant("acme");
    await h.call("PUT", "/v1/domains/plain.example", { token: acme.token, body: { name: "plain.example" } });
    await h.call("PUT", "/v1/domains/plain.example/users/bob@plain.example", {
      token: acme.token,
      body: { address: "bob@plain.example", password: "Correct-Horse-7" },
    });
    const deadPort = await freePort();
    await h.call("PUT", "/v1/domains/queue-plain.example", {
      token: acme.token,
      body: { name: "queue-plain.example" },
    });
    await h.call("PUT", `/v1/domains/queue-plain.example/routes/127.0.0.1:${deadPort}`, {
      token: acme.token,
      body: { domain: "queue-plain.example", host: "127.0.0.1", port: deadPort, tls: "none" },
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
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("answers 422 MP_FILTER_TRAINING_UNAVAILABLE to a report (a body past the API's 1 MiB default is within the report cap)", async () => {
    const res = await fetch(`${h.url}/v1/domains/plain.example/report/spam`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.token}`, "content-type": "message/rfc822" },
      body: Buffer.concat([eml(1, "pills"), Buffer.alloc(1536 * 1024, "a")]),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("MP_FILTER_TRAINING_UNAVAILABLE");
  });

  it("refuses release?report=ham with 422 and keeps the message held", async () => {
    await swaks(engine!.inboundPort, [
      "--to",
      "bob@plain.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: held plain",
      "--body",
      GTUBE,
    ]);
    const [held] = await events.next("quarantined", (m) => m.subject === "held plain");
    const res = await h.call("POST", `/v1/domains/plain.example/quarantine/${held!.id}/release?report=ham`, {
      token: acme.token,
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("MP_FILTER_TRAINING_UNAVAILABLE");
    const list = await h.call("GET", "/v1/domains/plain.example/quarantine", { token: acme.token });
    expect(list.body.items.map((e: { id: string }) => e.id)).toContain(held!.id);
  });

  it("refuses delete-and-report of a queued message with 422 and keeps it queued", async () => {
    const run = await swaks(engine!.inboundPort, [
      "--to",
      "x@queue-plain.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: queued plain",
    ]);
    const id = run.queueId()!;
    await events.next("deferred", (meta) => meta.id === id);
    const res = await h.call("DELETE", `/v1/domains/queue-plain.example/queue/${id}?report=spam`, {
      token: acme.token,
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("MP_FILTER_TRAINING_UNAVAILABLE");
    expect(
      (await h.call("GET", `/v1/domains/queue-plain.example/queue/${id}`, { token: acme.token })).status,
    ).toBe(200);
  });
});
