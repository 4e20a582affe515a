/** DKIM signing of outbound mail: submissions, forwards and bounces verified against the Domain's published dnsRecords, rotation, and no private key anywhere it must not be. */
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { spf } from "mailauth/lib/spf/index.js";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
import { dkimKeySetting, openDkimPrivateKey } from "../../../platform/api/domains/dkim-keys.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import type { DnsRecord } from "../../../sdk/src/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks, testTls } from "./support/harness.ts";

/** One transaction the downstream server took, bytes as sent. */
interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP peer (smtp-server) keeping every message byte for byte; RCPT `nobody@…` gets 550. */
async function startCapture(): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onRcptTo(address, _session, done) {
      if (address.address.startsWith("nobody@")) {
        const error = Object.assign(new Error("5.1.1 no such user"), { responseCode: 550 });
        return done(error);
      }
      done();
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("latin1"),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** mailauth's DKIM verifier with DNS answered only from the Domain's `dnsRecords` (as node:dns answers TXT). */
async function verify(raw: string, records: DnsRecord[]) {
  const txt = new Map(records.filter((r) => r.type === "TXT").map((r) => [r.name, r.value]));
  const resolver = async (name: string, type: string) => {
    const value = type === "TXT" ? txt.get(name) : undefined;
    if (value === undefined) throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
    return [[value]];
  };
  const { results } = await dkimVerify(Buffer.from(raw, "latin1"), { resolver: resolver as never });
  return results.map((r) => ({ domain: r.signingDomain, selector: r.selector, result: r.status?.result }));
}

/** mailauth's SPF check of `sender` for the engine's address (127.0.0.1), DNS from `dnsRecords` and the MX host's A record. */
async function spfOf(sender: string, records: DnsRecord[]): Promise<string | undefined> {
  const resolver = async (name: string, type: string) => {
    if (type === "A" && name === HOSTNAME) return ["127.0.0.1"];
    const value = records.find((r) => r.type === type && r.name === name && r.purpose === "spf")?.value;
    if (value === undefined) throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
    return [[value]];
  };
  const out = await spf({
    sender,
    ip: "127.0.0.1",
    helo: HOSTNAME,
    mta: "mx.remote.example",
    resolver: resolver as never,
  });
  return out.status?.result;
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const dkimSelectors = (records: DnsRecord[], domain: string) =>
  records
    .filter((r) => r.purpose === "dkim" && r.name.endsWith(`._domainkey.${domain}`))
    .map((r) => r.name.split(".")[0]);

describe.each(BACKENDS)("DKIM signing of outbound mail ($name)", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let capture: Awaited<ReturnType<typeof startCapture>>;
  let acme: { id: string; token: string };
  let rival: { id: string; token: string };
  const engineErrors: string[] = [];
  const d = uniqueDomain("sign");
  const rivalDomain = uniqueDomain("rival");

  const call = async (method: string, path: string, token: string, body?: object) => {
    const res = await h.call(method, path, { token, ...(body ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const records = async (): Promise<DnsRecord[]> =>
    (await call("GET", `/v1/domains/${d}`, acme.token)).dnsRecords;
  /** Waits until the engine enforces everything the store holds now. */
  const engineCaughtUp = async () => engine.policy.reached(await h.cp.store.revision());
  const submit = async (to: string, subject: string, extra: string[] = []) => {
    const run = await swaks(engine.submissionPort, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      `ana@${d}`,
      "--auth-password",
      "Correct-Horse-7",
      "--from",
      `ana@${d}`,
      "--to",
      to,
      "--header",
      `Subject: ${subject}`,
      ...extra,
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    await events.settled(run.queueId()!);
    return capture.received.find((m) => m.raw.includes(`Subject: ${subject}`))!;
  };

  beforeAll(async () => {
    capture = await startCapture();
    h = await startHarness(backend);
    acme = await h.tenant("acme");
    rival = await h.tenant("rival");
    await call("PUT", `/v1/domains/${d}`, acme.token, { name: d });
    await call("PUT", `/v1/domains/${rivalDomain}`, rival.token, { name: rivalDomain });
    // Mail flows only for verified names: the platform admin vouches for both.
    for (const [name, account] of [
      [d, acme.id],
      [rivalDomain, rival.id],
    ] as const) {
      const verified = await h.call("POST", `/v1/domains/${name}/verify`, {
        token: h.adminToken,
        account,
        body: { method: "admin" },
      });
      expect(verified.status, verified.text).toBe(200);
      // The DKIM state the Domain keeps for itself is not a field of any answer.
      expect(verified.body).not.toHaveProperty("dkim");
    }
    await call("PUT", `/v1/domains/${d}/users/ana@${d}`, acme.token, {
      address: `ana@${d}`,
      password: "Correct-Horse-7",
    });
    await call("PUT", `/v1/domains/${d}/aliases/fwd@${d}`, acme.token, {
      address: `fwd@${d}`,
      action: { type: "forward", to: ["friend@remote.example"] },
    });
    await call("PUT", `/v1/domains/${d}/aliases/gone@${d}`, acme.token, {
      address: `gone@${d}`,
      action: { type: "forward", to: ["nobody@remote.example"] },
    });
    await call("PUT", `/v1/domains/${d}/aliases/away@${d}`, acme.token, {
      address: `away@${d}`,
      action: { type: "autoReply", subject: "Out of office", body: "Back on Monday." },
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      tls: await testTls(),
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      smarthost: { host: "127.0.0.1", port: capture.port, tls: "none" },
      retryBaseMs: 200,
      retryMaxMs: 1000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
      onError: (e) => engineErrors.push(e.message),
      // The same master key the control plane sealed the domain keys with (`<data-dir>/master-key`).
      policy: { masterKey: loadMasterKey(h.dataDir) },
    });
    events = new EventLog(engine);
    await engineCaughtUp();
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await capture?.close();
  });

  it("gives a new domain its own selector in dnsRecords, a DKIM1 RSA record at <selector>._domainkey", async () => {
    const published = await records();
    const selectors = dkimSelectors(published, d);
    expect(selectors).toHaveLength(1);
    expect(selectors[0]).toMatch(/^mp\d{8}[0-9a-f]{6}$/);
    const record = published.find((r) => r.name === `${selectors[0]}._domainkey.${d}`)!;
    expect(record).toMatchObject({ type: "TXT", purpose: "dkim" });
    expect(record.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    // Another domain has another key.
    const rivalRecords = (await call("GET", `/v1/domains/${rivalDomain}`, rival.token))
      .dnsRecords as DnsRecord[];
    const rivalKey = rivalRecords.find((r) => r.purpose === "dkim")!.value;
    expect(rivalKey).not.toBe(record.value);
  });

  it("signs a relayed submission as the sender's domain; mailauth verifies it against dnsRecords: pass", async () => {
    const out = await submit("bob@remote.example", "submitted and signed");
    expect(out.raw).toMatch(/^DKIM-Signature: /);
    const [selector] = dkimSelectors(await records(), d);
    expect(await verify(out.raw, await records())).toEqual([{ domain: d, selector, result: "pass" }]);
  });

  it("signs a forward to a remote domain as the forwarding domain: pass", async () => {
    const run = await swaks(engine.inboundPort, [
      "--from",
      "someone@outside.example",
      "--to",
      `fwd@${d}`,
      "--header",
      "Subject: forwarded and signed",
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    await events.settled(run.queueId()!);
    const out = capture.received.find((m) => m.raw.includes("Subject: forwarded and signed"))!;
    expect(out.to).toEqual(["friend@remote.example"]);
    expect(await verify(out.raw, await records())).toMatchObject([{ domain: d, result: "pass" }]);
    // SRS: the envelope sender is the forwarding domain's, so the forwarder's published SPF passes.
    expect(out.from).toMatch(
      new RegExp(`^SRS0=[0-9a-f]{8}=[a-z2-7]{2}=outside\\.example=someone@${escaped(d)}$`),
    );
    expect(await spfOf(out.from, await records())).toBe("pass");
  });

  it("sends a bounce to an SRS address on to the forward's original sender; a forged one or a non-bounce is refused at RCPT", async () => {
    const srs = capture.received.find((m) => m.raw.includes("Subject: forwarded and signed"))!.from;
    const back = await swaks(engine.inboundPort, [
      "--from",
      "<>",
      "--to",
      srs,
      "--header",
      "Subject: bounce of a forward",
    ]);
    expect(back.replyTo("RCPT")?.code, back.output).toBe(250);
    expect(back.replyTo(".")?.code, back.output).toBe(250);
    await events.settled(back.queueId()!);
    const out = capture.received.find((m) => m.raw.includes("Subject: bounce of a forward"))!;
    expect(out).toMatchObject({ from: "", to: ["someone@outside.example"] });

    const [local] = srs.split("@");
    const hash = local!.split("=")[1]!;
    const forged = srs.replace(hash, hash === "00000000" ? "11111111" : "00000000");
    const refused = await swaks(engine.inboundPort, ["--from", "<>", "--to", forged]);
    expect(refused.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.1.1" });
    const notBounce = await swaks(engine.inboundPort, ["--from", "x@outside.example", "--to", srs]);
    expect(notBounce.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.7.1" });
  });

  it("signs the bounce (DSN) of a failed forward as the notificationFrom's domain: pass", async () => {
    const run = await swaks(engine.inboundPort, [
      "--from",
      "sender@outside.example",
      "--to",
      `gone@${d}`,
      "--header",
      "Subject: will bounce",
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    const [dsn] = await events.next("injected", (meta) => meta.origin === "bounce" && meta.domain === d);
    await events.settled(dsn.id);
    const out = capture.received.find((m) => m.from === "" && m.to.includes("sender@outside.example"))!;
    expect(out.raw).toMatch(new RegExp(`^From: .*postmaster@${d.replaceAll(".", "\\.")}`, "m"));
    expect(await verify(out.raw, await records())).toMatchObject([{ domain: d, result: "pass" }]);
  });

  it("signs an auto-reply as the alias's domain: pass", async () => {
    const run = await swaks(engine.inboundPort, [
      "--from",
      "asker@outside.example",
      "--to",
      `away@${d}`,
      "--header",
      "Subject: are you there",
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    const [reply] = await events.next("injected", (meta) => meta.origin === "autoreply" && meta.domain === d);
    await events.settled(reply.id);
    const out = capture.received.find((m) => m.from === "" && m.to.includes("asker@outside.example"))!;
    expect(out.raw).toContain("Out of office");
    expect(await verify(out.raw, await records())).toMatchObject([{ domain: d, result: "pass" }]);
  });

  it("never signs with another account's key: a submission with From: a rival tenant's domain is signed as the sender's own domain", async () => {
    const out = await submit("carol@remote.example", "from header of a rival", [
      "--header",
      `From: boss@${rivalDomain}`,
    ]);
    const results = await verify(out.raw, await records());
    expect(results.map((r) => r.domain)).toEqual([d]);
  });

  it("does not sign a forward whose From: claims the forwarding domain itself (it did not come from the platform)", async () => {
    const run = await swaks(engine.inboundPort, [
      "--from",
      "spoofer@outside.example",
      "--to",
      `fwd@${d}`,
      "--header",
      `From: ceo@${d}`,
      "--header",
      "Subject: spoofed own domain",
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    await events.settled(run.queueId()!);
    const out = capture.received.find((m) => m.raw.includes("Subject: spoofed own domain"))!;
    expect(out.raw).not.toMatch(/^DKIM-Signature:/im);
  });

  it("rotates: the new selector is published before it signs, activation switches signing, the old one stays published", async () => {
    const [old] = dkimSelectors(await records(), d);
    const rotated = await call("POST", `/v1/domains/${d}/dkim/rotate`, acme.token);
    const [, next] = dkimSelectors(rotated.dnsRecords, d);
    expect(dkimSelectors(rotated.dnsRecords, d)).toEqual([old, next]);
    expect(next).not.toBe(old);
    await engineCaughtUp();
    // Published, not yet used: mail is still signed with the old selector.
    const before = await submit("dave@remote.example", "after rotate");
    expect(await verify(before.raw, rotated.dnsRecords)).toEqual([
      { domain: d, selector: old, result: "pass" },
    ]);

    // Only a pending selector can be activated.
    const refused = await h.call("POST", `/v1/domains/${d}/dkim/activate`, {
      token: acme.token,
      body: { selector: old },
    });
    expect(refused.status).toBe(409);
    const activated = await call("POST", `/v1/domains/${d}/dkim/activate`, acme.token, { selector: next });
    expect(dkimSelectors(activated.dnsRecords, d)).toEqual([old, next]);
    await engineCaughtUp();
    const after = await submit("erin@remote.example", "after activate");
    expect(await verify(after.raw, await records())).toEqual([{ domain: d, selector: next, result: "pass" }]);
    // Mail signed before the switch still verifies against what is published now.
    expect(await verify(before.raw, await records())).toMatchObject([{ selector: old, result: "pass" }]);
    // A PUT of the domain keeps the keys (a client cannot send or replace them).
    const put = await h.call("PUT", `/v1/domains/${d}`, {
      token: acme.token,
      body: { name: d, dkim: { keys: [], active: "x" } },
    });
    expect(put.status).toBe(422);
    await call("PUT", `/v1/domains/${d}`, acme.token, { name: d, maxRetryDays: 3 });
    expect(dkimSelectors(await records(), d)).toEqual([old, next]);
    const patched = await call("PATCH", `/v1/domains/${d}`, acme.token, { maxRetryDays: 2 });
    expect(dkimSelectors(patched.dnsRecords, d)).toEqual([old, next]);
    expect(patched).not.toHaveProperty("dkim");
  });

  it("keeps every private key out of API responses, the audit log and the logs; the store holds it sealed", async () => {
    const masterKey = loadMasterKey(h.dataDir);
    const selectors = dkimSelectors(await records(), d);
    expect(selectors.length).toBeGreaterThan(0);
    const audit = JSON.stringify((await h.cp.store.listAudit({ limit: 1000 })).items);
    const apiAuditAnswer = await h.call("GET", "/v1/audit?limit=100", { token: acme.token });
    expect(apiAuditAnswer.status).toBe(200);
    // The audit log does record the key changes (public halves only).
    expect(apiAuditAnswer.text).toContain(selectors.at(-1));
    const apiAudit = apiAuditAnswer.text;
    const everything = [...h.responses, ...h.logs, ...engineErrors, audit, apiAudit].join("\n");
    for (const selector of selectors) {
      const stored = (await h.cp.store.getSetting(dkimKeySetting(d, selector!)))!;
      const pem = openDkimPrivateKey(masterKey, stored);
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      // Every 64-character line of the key's base64 body.
      const lines = pem.split("\n").filter((l) => l.length === 64);
      expect(lines.length).toBeGreaterThan(20);
      for (const line of lines) {
        expect(everything).not.toContain(line);
        expect(stored).not.toContain(line);
      }
      expect(everything).not.toContain(JSON.parse(stored).data);
    }
    expect(everything).not.toContain("PRIVATE KEY");
    // Every message above was signed: the engine reported no signing failure.
    expect(engineErrors.filter((e) => e.includes("DKIM"))).toEqual([]);
  });
});
