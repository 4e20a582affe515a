/** ARC sealing (RFC 8617) of forwarded mail: alias forwards and route relays carry the forwarding domain's ARC set, checked by an independent verifier in another process against the published dnsRecords. */
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { sealMessage } from "mailauth/lib/arc/index.js";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
import { tableResolver } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import type { DnsRecord } from "../../../sdk/src/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { startCapture } from "./support/capture.ts";
import { EventLog, HOSTNAME, swaks, testTls } from "./support/harness.ts";

/** The upstream forwarder that sealed a message before it reached the platform. */
const UPSTREAM = "upstream.example";
const upstreamKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const UPSTREAM_PEM = upstreamKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const UPSTREAM_RECORD = `v=DKIM1; k=rsa; p=${upstreamKey.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
/** The internet's DNS as the engine sees it: only the upstream forwarder's key. */
const UPSTREAM_DNS = { [`s1._domainkey.${UPSTREAM}`]: UPSTREAM_RECORD };

/** Result of the verifier process: arc=pass/fail/none and the newest instance. */
interface ArcVerdict {
  result: string;
  comment: string | null;
  i: number | false | null;
}

/** Runs mailauth's ARC verification in a separate Node process, with DNS answered only from `txt`. */
function verifyInChild(message: string, txt: Record<string, string>): Promise<ArcVerdict> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(import.meta.dirname, "support", "arc-verify-child.ts")],
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify({ message, txt }));
  });
}

/** The TXT records a Domain publishes (its DKIM selectors among them), by lower-cased name. */
const txtOf = (records: DnsRecord[]) =>
  Object.fromEntries(records.filter((r) => r.type === "TXT").map((r) => [r.name.toLowerCase(), r.value]));

/** The unfolded fields named `name` in a message's header block, top first. */
function fields(raw: string, name: string): string[] {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n") + 2);
  return (head.match(new RegExp(`^${name}:.*\\r\\n(?:[ \\t].*\\r\\n)*`, "gim")) ?? []).map((f) =>
    f.replace(/\r\n[ \t]+/g, " ").trim(),
  );
}

function message(subject: string, from = "ann@list.example"): string {
  return [
    `From: ${from}`,
    "To: someone@list.example",
    `Subject: ${subject}`,
    "Date: Thu, 03 Dec 2026 08:00:00 +0000",
    `Message-ID: <${subject.replace(/\W+/g, "-")}@list.example>`,
    "",
    "Hello from the list.",
    "",
  ].join("\r\n");
}

/** The message with an ARC set i=1 by the upstream forwarder recording dmarc=pass. */
async function sealedUpstream(raw: string): Promise<string> {
  const seal = await sealMessage(Buffer.from(raw), {
    signingDomain: UPSTREAM,
    selector: "s1",
    privateKey: UPSTREAM_PEM,
    cv: "none",
    authResults: `${UPSTREAM}; spf=pass smtp.mailfrom=ann@list.example; dmarc=pass header.from=list.example`,
  });
  expect(seal.toString()).toContain("ARC-Seal: i=1");
  return seal.toString() + raw;
}

describe.each(BACKENDS)("ARC sealing of forwarded mail ($name)", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let capture: Awaited<ReturnType<typeof startCapture>>;
  let acme: { id: string; token: string };
  const engineErrors: string[] = [];
  const d = uniqueDomain("arc");
  const routed = uniqueDomain("arcrouted");

  const call = async (method: string, path: string, body?: object) => {
    const res = await h.call(method, path, { token: acme.token, ...(body ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const published = async (domain: string) =>
    txtOf((await call("GET", `/v1/domains/${domain}`)).dnsRecords as DnsRecord[]);
  const selectorOf = async (domain: string) =>
    Object.keys(await published(domain))
      .find((n) => n.endsWith(`._domainkey.${domain}`))!
      .split(".")[0];
  /** Sends a raw message on the MX listener with nodemailer and waits until the engine settled it. */
  const sendRaw = async (from: string, to: string, raw: string) => {
    const transport = createTransport({
      host: "127.0.0.1",
      port: engine.inboundPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
      expect(info.response).toMatch(/^250 /);
      await events.settled(info.response.split(" ").pop()!);
    } finally {
      transport.close();
    }
  };
  const received = (subject: string) => capture.received.find((m) => m.raw.includes(`Subject: ${subject}`))!;

  beforeAll(async () => {
    capture = await startCapture();
    h = await startHarness(backend);
    acme = await h.tenant("acme");
    for (const name of [d, routed]) {
      await call("PUT", `/v1/domains/${name}`, { name });
      const verified = await h.call("POST", `/v1/domains/${name}/verify`, {
        token: h.adminToken,
        account: acme.id,
        body: { method: "admin" },
      });
      expect(verified.status, verified.text).toBe(200);
    }
    await call("PUT", `/v1/domains/${d}/users/ana@${d}`, {
      address: `ana@${d}`,
      password: "Correct-Horse-7",
    });
    await call("PUT", `/v1/domains/${d}/aliases/fwd@${d}`, {
      address: `fwd@${d}`,
      action: { type: "forward", to: ["friend@remote.example"] },
    });
    await call("PUT", `/v1/domains/${routed}/routes/127.0.0.1:${capture.port}`, {
      domain: routed,
      host: "127.0.0.1",
      port: capture.port,
      tls: "none",
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      tls: await testTls(),
      resolver: tableResolver(
        Object.fromEntries(Object.entries(UPSTREAM_DNS).map(([name, value]) => [`TXT ${name}`, [[value]]])),
      ),
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      smarthost: { host: "127.0.0.1", port: capture.port, tls: "none" },
      retryBaseMs: 200,
      retryMaxMs: 1000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
      onError: (e) => engineErrors.push(e.message),
      policy: { masterKey: loadMasterKey(h.dataDir) },
    });
    events = new EventLog(engine);
    await engine.policy.reached(await h.cp.store.revision());
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await capture?.close();
  });

  it("seals an alias forward as the forwarding domain with i=1 cv=none; a verifier in another process: arc=pass against dnsRecords", async () => {
    await sendRaw("ann@list.example", `fwd@${d}`, message("first hop"));
    const out = received("first hop");
    expect(out.to).toEqual(["friend@remote.example"]);
    const selector = await selectorOf(d);
    const [seal] = fields(out.raw, "ARC-Seal");
    expect(seal).toMatch(/^ARC-Seal: i=1; /);
    expect(seal).toContain("cv=none");
    expect(seal).toContain(`d=${d}`);
    expect(seal).toContain(`s=${selector}`);
    expect(fields(out.raw, "ARC-Message-Signature")[0]).toMatch(/^ARC-Message-Signature: i=1; /);
    // The ARC-Authentication-Results are the platform's own Authentication-Results (RFC 8617 §4.1.1).
    const [aar] = fields(out.raw, "ARC-Authentication-Results");
    const [ar] = fields(out.raw, "Authentication-Results");
    expect(aar).toBe(`ARC-Authentication-Results: i=1; ${ar!.slice("Authentication-Results: ".length)}`);
    expect(aar).toContain(`i=1; ${HOSTNAME};`);
    expect(await verifyInChild(out.raw, await published(d))).toMatchObject({ result: "pass", i: 1 });
    // The verifier is no yes-man: without the forwarding domain's records the seal cannot be checked.
    expect((await verifyInChild(out.raw, {})).result).toBe("fail");
  });

  it("adds i=2 with cv=pass over a chain sealed upstream; the verifier validates the whole chain", async () => {
    await sendRaw(`bounce@${UPSTREAM}`, `fwd@${d}`, await sealedUpstream(message("second hop")));
    const out = received("second hop");
    const seals = fields(out.raw, "ARC-Seal");
    expect(seals).toHaveLength(2);
    expect(seals[0]).toMatch(/^ARC-Seal: i=2; /);
    expect(seals[0]).toContain("cv=pass");
    expect(seals[0]).toContain(`d=${d}`);
    expect(fields(out.raw, "ARC-Authentication-Results")[0]).toMatch(/arc=pass \(i=1/);
    const dns = { ...(await published(d)), ...UPSTREAM_DNS };
    expect(await verifyInChild(out.raw, dns)).toMatchObject({ result: "pass", i: 2 });
  });

  it("seals with cv=fail when the arriving chain was broken on the way", async () => {
    const sealed = await sealedUpstream(message("broken chain"));
    await sendRaw(
      `bounce@${UPSTREAM}`,
      `fwd@${d}`,
      sealed.replace("Hello from the list.", "Hello, changed."),
    );
    const out = received("broken chain");
    const [newest] = fields(out.raw, "ARC-Seal");
    expect(newest).toMatch(/^ARC-Seal: i=2; /);
    expect(newest).toContain("cv=fail");
    const dns = { ...(await published(d)), ...UPSTREAM_DNS };
    expect((await verifyInChild(out.raw, dns)).result).toBe("fail");
  });

  it("seals inbound mail relayed to a domain's route as that domain: pass", async () => {
    await sendRaw("ann@list.example", `someone@${routed}`, message("routed hop"));
    const out = received("routed hop");
    expect(out.to).toEqual([`someone@${routed}`]);
    expect(fields(out.raw, "ARC-Seal")[0]).toContain(`d=${routed}`);
    expect(await verifyInChild(out.raw, await published(routed))).toMatchObject({ result: "pass", i: 1 });
  });

  it("does not seal a submission (the platform's own mail is DKIM-signed instead)", async () => {
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
      "bob@remote.example",
      "--header",
      "Subject: submitted not sealed",
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    await events.settled(run.queueId()!);
    const out = received("submitted not sealed");
    expect(out.raw).toMatch(/^DKIM-Signature: /);
    expect(fields(out.raw, "ARC-Seal")).toEqual([]);
    // Every seal above was made: the engine reported no sealing failure.
    expect(engineErrors.filter((e) => e.includes("ARC"))).toEqual([]);
  });
});
