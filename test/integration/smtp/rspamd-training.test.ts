/** Training rspamd's Bayes classifier through the operations API: spam/ham reports of raw .eml uploads and release as ham, with a real rspamd + Redis. */
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
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/run.ts";
import { REPORT_MAX_BYTES } from "../../../sdk/src/contract/operations.ts";
import { type Harness, startHarness } from "../api/harness.ts";
import { EventLog, HOSTNAME, pythonSmtp, swaks } from "./support/harness.ts";

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

describe("training rspamd's Bayes classifier through the operations API", () => {
  let dir: string;
  let rspamd: SupervisedRspamd;
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };

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
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      retryBaseMs: 60_000,
      rspamd: new RspamdScorer({ url: rspamd.url, controllerUrl: rspamd.controllerUrl }),
    });
    events = new EventLog(engine);
  }, 180_000);
  afterAll(async () => {
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
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      retryBaseMs: 60_000,
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
});
