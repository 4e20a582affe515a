/** Recipient callouts: a routed domain's RCPT asked of its route (a real smtp-server peer), cached, cleared through the API, failing open, held to the egress policy. */
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { BACKENDS, type Harness, startHarness } from "../api/harness.ts";
import { EventLog, freePort, HOSTNAME, startTestEngine, swaks, type TestEngine } from "./support/harness.ts";

/** A downstream server that knows some recipients (550 5.1.1 for the rest) and counts its connections. */
interface Peer {
  port: number;
  connections: number;
  /** RCPT TO addresses asked with the null sender (callouts). */
  probed: string[];
  messages: string[];
  close(): Promise<void>;
}

async function startPeer(known: string[]): Promise<Peer> {
  const peer: Peer = {
    port: await freePort(),
    connections: 0,
    probed: [],
    messages: [],
    close: async () => {},
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onConnect(_session, callback) {
      peer.connections++;
      callback();
    },
    onRcptTo(address, session, callback) {
      if (session.envelope.mailFrom && session.envelope.mailFrom.address === "") {
        peer.probed.push(address.address);
      }
      if (known.includes(address.address.toLowerCase())) return callback();
      const err = new Error(`5.1.1 <${address.address}>: user unknown`) as Error & {
        responseCode: number;
      };
      err.responseCode = 550;
      callback(err);
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        peer.messages.push(Buffer.concat(chunks).toString("utf8"));
        callback();
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(peer.port, "127.0.0.1", resolve));
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}

/** A downstream server that takes the connection and MAIL FROM but never answers RCPT. */
async function startStallingPeer() {
  const port = await freePort();
  const stalled: (() => void)[] = [];
  const state = { port, rcpts: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onRcptTo(_address, _session, callback) {
      state.rcpts++;
      stalled.push(() => callback());
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  state.close = () => {
    for (const answer of stalled) answer();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

const from = ["--from", "sender@outside.example"];

describe.each(BACKENDS)("recipient callout on a routed domain ($name)", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let peer: Peer;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  const domain = `callout-${backend.name}.example`;

  beforeAll(async () => {
    peer = await startPeer([`known@${domain}`]);
    h = await startHarness(backend, { smtp: () => engine?.operations });
    acme = await h.tenant("acme");
    other = await h.tenant("other");
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { token: acme.token, body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    await put(`/v1/domains/${domain}`, { name: domain, logInvalidRecipients: true });
    await put(`/v1/domains/${domain}/routes/127.0.0.1:${peer.port}`, {
      domain,
      host: "127.0.0.1",
      port: peer.port,
      tls: "none",
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
      callout: {},
    });
    events = new EventLog(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await h.close();
    await peer.close();
  });

  it("refuses an unknown recipient with 550 5.1.1 at RCPT, asking the route with MAIL FROM:<>", async () => {
    const run = await swaks(engine!.inboundPort, ["--to", `nobody@${domain}`, ...from]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.1.1" });
    expect(run.replyTo("RCPT")!.text).toContain("recipient callout");
    // The tenant's route stays private: its address is not in the reply.
    expect(run.replyTo("RCPT")!.text).not.toContain(String(peer.port));
    expect(peer.probed).toEqual([`nobody@${domain}`]);
    expect(peer.connections).toBe(1);
    expect(peer.messages).toEqual([]);
  });

  it("answers a second RCPT for the same recipient from the cache, without connecting", async () => {
    const before = peer.connections;
    const run = await swaks(engine!.inboundPort, ["--to", `nobody@${domain}`, ...from]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.1.1" });
    expect(run.replyTo("RCPT")!.text).toContain("cached recipient callout");
    expect(peer.connections).toBe(before);
    expect(peer.probed).toEqual([`nobody@${domain}`]);
    // The domain logs invalid recipients: the cache hit shows in its message log.
    const log = await h.call("GET", `/v1/domains/${domain}/message-log?recipient=nobody`, {
      token: acme.token,
    });
    expect(log.status).toBe(200);
    const replies = (log.body.items as { reply: string }[]).map((e) => e.reply);
    expect(replies.filter((r) => r.includes("cached recipient callout"))).toHaveLength(1);
    expect(replies.filter((r) => r.includes("(recipient callout)"))).toHaveLength(1);
  });

  it("clears the domain's cache through the API (audited, tenant-scoped), so the next RCPT asks again", async () => {
    const foreign = await h.call("DELETE", `/v1/domains/${domain}/callout-cache`, { token: other.token });
    expect(foreign.status).toBe(404);
    const cleared = await h.call("DELETE", `/v1/domains/${domain}/callout-cache`, { token: acme.token });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ cleared: 1 });
    const audit = await h.cp.store.listAudit({
      accountId: acme.id,
      action: "clear-callout-cache",
      limit: 10,
    });
    expect(audit.items.map((e) => [e.objectId, e.after])).toEqual([[domain, { cleared: 1 }]]);
    const before = peer.connections;
    const run = await swaks(engine!.inboundPort, ["--to", `nobody@${domain}`, ...from]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.1.1" });
    expect(run.replyTo("RCPT")!.text).not.toContain("cached");
    expect(peer.connections).toBe(before + 1);
    expect(peer.probed).toEqual([`nobody@${domain}`, `nobody@${domain}`]);
  });

  it("accepts a recipient the route knows and delivers the message to it", async () => {
    const run = await swaks(engine!.inboundPort, [
      "--to",
      `known@${domain}`,
      ...from,
      "--header",
      "Subject: for a known recipient",
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 250 });
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await events.settled(run.queueId()!);
    expect(peer.probed).toContain(`known@${domain}`);
    expect(peer.messages.filter((m) => m.includes("Subject: for a known recipient"))).toHaveLength(1);
  });
});

describe("recipient callout failing open and held to the egress policy", () => {
  let t: TestEngine;
  let guarded: TestEngine;
  let peer: Peer;
  let deadPort: number;
  let stall: { port: number; rcpts: number; close(): Promise<void> };
  beforeAll(async () => {
    peer = await startPeer([]);
    stall = await startStallingPeer();
    deadPort = await freePort();
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [
              { name: "down.example" },
              { name: "listed.example", localRecipientsOnly: true, localRecipients: ["listed"] },
              { name: "stall.example" },
            ],
            routes: [
              { domain: "down.example", host: "127.0.0.1", port: deadPort, priority: 10, tls: "none" },
              { domain: "listed.example", host: "127.0.0.1", port: peer.port, priority: 10, tls: "none" },
              { domain: "stall.example", host: "127.0.0.1", port: stall.port, priority: 10, tls: "none" },
            ],
          },
        ],
      },
      { callout: { timeoutMs: 500 }, retryBaseMs: 60_000 },
    );
    // Loopback not allowed: the route to the peer is one the relay may not reach.
    guarded = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "private.example" }],
            routes: [
              { domain: "private.example", host: "127.0.0.1", port: peer.port, priority: 10, tls: "none" },
            ],
          },
        ],
      },
      { callout: {}, egress: new EgressPolicy(), retryBaseMs: 60_000 },
    );
  });
  afterAll(async () => {
    await t.close();
    await guarded.close();
    await peer.close();
    await stall.close();
  });

  it("accepts the recipient when no route answers (fail open), and caches nothing", async () => {
    const run = await swaks(t.engine.inboundPort, ["--to", "anyone@down.example", ...from]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 250 });
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    expect(t.engine.callout!.probes).toBe(1);
    expect(t.engine.callout!.size).toBe(0);
  });

  it("accepts the recipient when the route never answers RCPT (timeout), and caches nothing", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "anyone@stall.example",
      ...from,
      "--quit-after",
      "RCPT",
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 250 });
    expect(stall.rcpts).toBe(1);
    expect(t.engine.callout!.size).toBe(0);
  });

  it("does not ask the route of a domain in local-recipients-only mode", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "listed@listed.example",
      ...from,
      "--quit-after",
      "RCPT",
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 250 });
    expect(peer.connections).toBe(0);
    expect(peer.probed).toEqual([]);
  });

  it("never connects to a route the egress policy refuses: the recipient is accepted unasked", async () => {
    const run = await swaks(guarded.engine.inboundPort, [
      "--to",
      "nobody@private.example",
      ...from,
      "--quit-after",
      "RCPT",
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 250 });
    expect(peer.connections).toBe(0);
    expect(peer.probed).toEqual([]);
    expect(guarded.engine.callout!.size).toBe(0);
  });
});
