/** Route egress policy end to end: the API refuses special-purpose route hosts (422 on `host`), the engine checks every resolved address before it connects, TLS `required` verifies, REQUIRETLS is honoured. */
import { createHash, X509Certificate } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DnsResolver, tableResolver } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import type { TlsMaterial } from "../../../platform/smtp/tls.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import {
  EventLog,
  freePort,
  HOSTNAME,
  pythonSmtp,
  type Sink,
  startSink,
  startTestEngine,
  swaks,
  tempTlsMaterial,
} from "./support/harness.ts";

/** Counts TCP connections to 127.0.0.2:<port>: proof that a refused address was never dialled. */
async function connectionCounter(): Promise<{
  port: number;
  count: () => number;
  close: () => Promise<void>;
}> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.end("421 not a mail server\r\n");
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.2", resolve));
  return {
    port,
    count: () => count,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.each(BACKENDS)("route egress through the API and the engine on $name", (backend) => {
  describe("a platform without --allow-route-cidr", () => {
    let h: Harness;
    let t: { id: string; token: string };
    beforeAll(async () => {
      h = await startHarness(backend, { egress: new EgressPolicy() });
      t = await h.tenant();
    });
    afterAll(async () => h?.close());

    it.each([
      ["169.254.169.254", "a link-local address (169.254.0.0/16)"],
      ["127.0.0.1", "a loopback address (127.0.0.0/8)"],
      ["10.0.0.1", "a private address (10.0.0.0/8)"],
      ["[::ffff:169.254.169.254]", "(it reaches 169.254.169.254) is a link-local address"],
      ["[fe80::1]", "a link-local address (fe80::/10)"],
      ["224.0.0.1", "a multicast address"],
      ["0.0.0.0", "an unspecified"],
      ["localhost", "localhost is always loopback"],
    ])("refuses a route to %s with 422 naming host, and stores nothing", async (host, why) => {
      const d = uniqueDomain();
      expect((await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } })).status).toBe(
        201,
      );
      const bare = host.replace(/^\[(.*)\]$/, "$1");
      const res = await h.call("PUT", `/v1/domains/${d}/routes/${host}:25`, {
        token: t.token,
        body: { domain: d, host: bare, port: 25, tls: "none" },
      });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe("MP_VALIDATION_FAILED");
      expect(res.body.errors[0].path).toEqual(["host"]);
      expect(res.body.errors[0].message).toContain(why);
      expect(res.body.errors[0].message).toContain("--allow-route-cidr");
      const list = await h.call("GET", `/v1/domains/${d}/routes`, { token: t.token });
      expect(list.body.items).toEqual([]);
    });

    it("accepts a route to a host name (checked by what it resolves to, at delivery)", async () => {
      const d = uniqueDomain();
      await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } });
      const res = await h.call("PUT", `/v1/domains/${d}/routes/mx1.example.org:25`, {
        token: t.token,
        body: { domain: d, host: "mx1.example.org", port: 25 },
      });
      expect(res.status).toBe(201);
    });
  });

  describe("a platform whose admin allows 127.0.0.1/32, 10.0.0.0/8 and 169.254.169.254/32, with an engine on the same store", () => {
    let h: Harness;
    let t: { id: string; token: string };
    let egress: EgressPolicy;
    let engine: EngineOnStore;
    let events: EventLog;
    let sink: Sink;
    let counter: Awaited<ReturnType<typeof connectionCounter>>;
    const lookups: string[] = [];
    const d = uniqueDomain("egress");
    const rebound = uniqueDomain("rebound");
    beforeAll(async () => {
      egress = new EgressPolicy({ allow: ["127.0.0.1/32", "10.0.0.0/8", "169.254.169.254/32"] });
      h = await startHarness(backend, { egress });
      t = await h.tenant();
      sink = await startSink();
      counter = await connectionCounter();
      // What the engine's DNS says: a name that passed the API's check now answers 127.0.0.2.
      const table = tableResolver({
        "A sink.egress.test": ["127.0.0.1"],
        "A rebind.egress.test": ["127.0.0.2"],
      });
      const resolver: DnsResolver = (name, rrtype) => {
        lookups.push(`${rrtype} ${name}`);
        return table(name, rrtype);
      };
      engine = await startSmtpEngineOnStore({
        store: h.cp.store,
        // Single-tenant test platform: its domains are local without DNS verification.
        policy: { trustAllDomains: true },
        dataDir: join(h.dataDir, "smtp"),
        hostname: HOSTNAME,
        resolver,
        inbound: { host: "127.0.0.1", port: 0 },
        submission: false,
        retryBaseMs: 60_000,
        egress,
      });
      events = new EventLog(engine);
    });
    afterAll(async () => {
      await engine?.close();
      await sink?.stop();
      await counter?.close();
      await h?.close();
    });

    const putRoute = (domain: string, host: string, port: number) =>
      h.call("PUT", `/v1/domains/${domain}/routes/${host}:${port}`, {
        token: t.token,
        body: { domain, host, port, tls: "none" },
      });

    it("accepts routes to 169.254.169.254, 127.0.0.1 and 10.0.0.1 once allowed", async () => {
      await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } });
      for (const host of ["169.254.169.254", "10.0.0.1"])
        expect((await putRoute(d, host, 25)).status).toBe(201);
      expect((await putRoute(d, "127.0.0.1", sink.port)).status).toBe(201);
      for (const host of ["169.254.169.254", "10.0.0.1"]) {
        expect(
          (await h.call("DELETE", `/v1/domains/${d}/routes/${host}:25`, { token: t.token })).status,
        ).toBe(204);
      }
    });

    it("still refuses a route to the platform's own API and SMTP listeners (422 on host)", async () => {
      const api = Number(new URL(h.url).port);
      for (const port of [api, engine.inboundPort]) {
        const res = await putRoute(d, "127.0.0.1", port);
        expect(res.status).toBe(422);
        expect(res.body.errors[0]).toMatchObject({ path: ["host"] });
        expect(res.body.errors[0].message).toContain("one of the platform's own listeners");
      }
    });

    it("relays to the allowed 127.0.0.1 route (swaks → engine → smtp-sink)", async () => {
      await engine.policy.reached(await h.cp.store.revision());
      const run = await swaks(engine.inboundPort, [
        "--to",
        `someone@${d}`,
        "--from",
        "sender@outside.example",
        "--header",
        "Subject: allowed egress",
      ]);
      expect(run.replyTo(".")).toMatchObject({ code: 250 });
      const [, , outcome] = await events.next("delivered", (meta) => meta.id === run.queueId());
      expect(outcome.remoteMta).toBe(`127.0.0.1:${sink.port}`);
      expect(sink.messages().filter((m) => m.includes("Subject: allowed egress"))).toHaveLength(1);
    });

    it("refuses at delivery a route name whose DNS answers a refused address (127.0.0.2), without connecting", async () => {
      await h.call("PUT", `/v1/domains/${rebound}`, { token: t.token, body: { name: rebound } });
      expect((await putRoute(rebound, "rebind.egress.test", counter.port)).status).toBe(201);
      await engine.policy.reached(await h.cp.store.revision());
      const run = await swaks(engine.inboundPort, [
        "--to",
        `someone@${rebound}`,
        "--from",
        "sender@outside.example",
      ]);
      expect(run.replyTo(".")).toMatchObject({ code: 250 });
      const [, , outcome] = await events.next("deferred", (meta) => meta.id === run.queueId());
      expect(outcome.detail).toContain("refused by the platform's egress policy");
      expect(outcome.detail).toContain("egress policy: 127.0.0.2 is a loopback address (127.0.0.0/8)");
      expect(counter.count()).toBe(0);
    });

    it("connects to the address it checked, not to a name resolved again", async () => {
      const named = uniqueDomain("named");
      await h.call("PUT", `/v1/domains/${named}`, { token: t.token, body: { name: named } });
      expect((await putRoute(named, "sink.egress.test", sink.port)).status).toBe(201);
      await engine.policy.reached(await h.cp.store.revision());
      lookups.length = 0;
      const run = await swaks(engine.inboundPort, [
        "--to",
        `someone@${named}`,
        "--from",
        "sender@outside.example",
        "--header",
        "Subject: checked address",
      ]);
      const [, , outcome] = await events.next("delivered", (meta) => meta.id === run.queueId());
      // The system's resolver does not know sink.egress.test: only the checked 127.0.0.1 was dialled.
      expect(outcome.remoteMta).toBe(`sink.egress.test:${sink.port}`);
      expect(lookups.filter((l) => l.endsWith(" sink.egress.test"))).toEqual([
        "A sink.egress.test",
        "AAAA sink.egress.test",
      ]);
      expect(sink.messages().filter((m) => m.includes("Subject: checked address"))).toHaveLength(1);
    });
  });
});

describe("an engine without --allow-route-cidr, with a route to 127.0.0.1 already in its policy", () => {
  let sink: Sink;
  let t: Awaited<ReturnType<typeof startTestEngine>>;
  beforeAll(async () => {
    sink = await startSink();
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "routed.example" }],
            routes: [{ domain: "routed.example", host: "127.0.0.1", port: sink.port, tls: "none" }],
          },
        ],
      },
      { egress: new EgressPolicy(), retryBaseMs: 60_000 },
    );
  });
  afterAll(async () => {
    await t?.close();
    await sink?.stop();
  });

  it("keeps the message queued with the policy's reason and never connects", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "someone@routed.example",
      "--from",
      "a@outside.example",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    const [, , outcome] = await t.events.next("deferred", (meta) => meta.id === run.queueId());
    expect(outcome).toMatchObject({ status: "deferred", status_code: "4.4.4" });
    expect(outcome.detail).toContain(
      `127.0.0.1:${sink.port}: refused by the platform's egress policy: 127.0.0.1 is a loopback address`,
    );
    expect(sink.messages()).toEqual([]);
  });
});

describe("an engine allowing 127.0.0.0/8 with a route to its own inbound listener", () => {
  let t: Awaited<ReturnType<typeof startTestEngine>>;
  beforeAll(async () => {
    t = await startTestEngine({ revision: 1, accounts: [] }, { retryBaseMs: 60_000 });
    t.policy.set(
      (await import("../../../platform/smtp/policy/snapshot.ts")).buildPolicySnapshot({
        revision: 2,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "loop.example", verified: true }],
            routes: [{ domain: "loop.example", host: "127.0.0.1", port: t.engine.inboundPort, tls: "none" }],
          },
        ],
      }),
    );
  });
  afterAll(async () => t?.close());

  it("does not relay into itself: the listener is refused whatever is allowed", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "someone@loop.example",
      "--from",
      "a@outside.example",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    const [, , outcome] = await t.events.next("deferred", (meta) => meta.id === run.queueId());
    expect(outcome.detail).toContain(
      `127.0.0.1:${t.engine.inboundPort} is one of the platform's own listeners`,
    );
    // Exactly one message was ever queued: nothing came back in through the loop.
    expect(t.events.all("injected")).toEqual([]);
  });
});

/** A downstream server with STARTTLS (a self-signed certificate for tls.egress.test), REQUIRETLS advertised. */
interface TlsDownstream {
  port: number;
  tls: TlsMaterial;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, as a route pin. */
  keyPin: string;
  mails: { from: string; requireTls: boolean; body: string }[];
  close(): Promise<void>;
}

async function startTlsDownstream(): Promise<TlsDownstream> {
  const tls = await tempTlsMaterial("mp-downstream-tls-", "tls.egress.test");
  const mails: TlsDownstream["mails"] = [];
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authOptional: true,
    disabledCommands: ["AUTH"],
    hideREQUIRETLS: false,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const from = session.envelope.mailFrom;
        const args = from && typeof from.args === "object" ? (from.args as Record<string, unknown>) : {};
        mails.push({
          from: from ? from.address : "",
          requireTls: args.REQUIRETLS === true,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  server.on("error", () => {});
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const spki = new X509Certificate(tls.cert).publicKey.export({ type: "spki", format: "der" });
  return {
    port,
    tls,
    keyPin: `sha256/${createHash("sha256").update(spki).digest("base64")}`,
    mails,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("routes with tls: required, and REQUIRETLS (RFC 8689)", () => {
  let down: TlsDownstream;
  let t: Awaited<ReturnType<typeof startTestEngine>>;
  const route = (domain: string, host: string, extra: object = {}) => ({
    domain,
    host,
    port: down.port,
    tls: "required" as const,
    ...extra,
  });
  beforeAll(async () => {
    down = await startTlsDownstream();
    const otherPem = (await tempTlsMaterial("mp-other-ca-", "other.test")).cert;
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [
              { name: "unverified.example" },
              { name: "pinned.example" },
              { name: "wrong-pin.example" },
              { name: "ca.example" },
              { name: "wrong-ca.example" },
              { name: "wrong-name.example" },
              { name: "plain.example" },
            ],
            routes: [
              route("unverified.example", "127.0.0.1"),
              route("pinned.example", "127.0.0.1", { tlsPins: [down.keyPin] }),
              route("wrong-pin.example", "127.0.0.1", {
                tlsPins: ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
              }),
              route("ca.example", "tls.egress.test", { tlsCa: down.tls.cert }),
              route("wrong-ca.example", "tls.egress.test", { tlsCa: otherPem }),
              route("wrong-name.example", "alias.egress.test", { tlsCa: down.tls.cert }),
              { domain: "plain.example", host: "127.0.0.1", port: down.port, tls: "none" as const },
            ],
          },
        ],
      },
      {
        retryBaseMs: 60_000,
        resolver: tableResolver({
          "A tls.egress.test": ["127.0.0.1"],
          "A alias.egress.test": ["127.0.0.1"],
        }),
      },
    );
  });
  afterAll(async () => {
    await t?.close();
    await down?.close();
  });
  afterEach(() => {
    down.mails.length = 0;
  });

  async function send(to: string, subject: string) {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      to,
      "--from",
      "sender@outside.example",
      "--header",
      `Subject: ${subject}`,
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    return run.queueId()!;
  }

  it.each([
    ["unverified.example", "certificate not verified"],
    ["wrong-pin.example", "matches none of the route's pins"],
    ["wrong-ca.example", "certificate not verified"],
    ["wrong-name.example", "certificate not verified"],
  ])("defers mail for %s with 4.7.5 before MAIL FROM (%s)", async (domain, why) => {
    const id = await send(`someone@${domain}`, `to ${domain}`);
    const [, , outcome] = await t.events.next("deferred", (meta) => meta.id === id);
    expect(outcome).toMatchObject({ status: "deferred", status_code: "4.7.5" });
    expect(outcome.detail).toContain(why);
    expect(down.mails).toEqual([]);
  });

  it.each([
    ["pinned.example", "the key pin"],
    ["ca.example", "the route's CA and the host name"],
  ])("delivers mail for %s over TLS verified by %s", async (domain) => {
    const id = await send(`someone@${domain}`, `to ${domain}`);
    await t.events.next("delivered", (meta) => meta.id === id);
    expect(down.mails.map((m) => m.requireTls)).toEqual([false]);
  });

  /** Sends over STARTTLS with REQUIRETLS on MAIL FROM (nodemailer, RFC 8689 §4.1). */
  async function sendRequireTls(to: string): Promise<string> {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: t.engine.inboundPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    try {
      const info = await transport.sendMail({
        envelope: { from: "sender@outside.example", to: [to] },
        raw: `From: sender@outside.example\r\nTo: ${to}\r\nSubject: requiretls\r\n\r\nsecret\r\n`,
        requireTLSExtensionEnabled: true,
      });
      return /queued as (\S+)/.exec(info.response)![1]!;
    } finally {
      transport.close();
    }
  }

  it("advertises REQUIRETLS only after STARTTLS (RFC 8689 §4)", async () => {
    const steps = await pythonSmtp({ port: t.engine.inboundPort, starttls: true });
    const [before, after] = steps.filter((s) => s.cmd === "EHLO");
    expect(before!.text).not.toContain("REQUIRETLS");
    expect(after!.text).toContain("REQUIRETLS");
  });

  it("advertises REQUIRETLS after STARTTLS and relays such a message with REQUIRETLS over the pinned route", async () => {
    const id = await sendRequireTls("someone@pinned.example");
    await t.events.next("delivered", (meta) => meta.id === id);
    expect(down.mails.map((m) => m.requireTls)).toEqual([true]);
  });

  it("fails a REQUIRETLS message (5.7.30) rather than relay it over a route without verified TLS", async () => {
    const id = await sendRequireTls("someone@plain.example");
    const [meta, , outcome] = await t.events.next("failed", (m) => m.id === id);
    expect(meta.requireTls).toBe(true);
    expect(outcome).toMatchObject({ status: "failed", status_code: "5.7.30" });
    expect(down.mails).toEqual([]);
  });
});
