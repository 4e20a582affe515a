/** Ed25519 DKIM keys (RFC 8463): rotated in as an option, published as `k=ed25519`, signing beside the RSA key once activated, checked by a verifier in another process against dnsRecords. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import type { DnsRecord } from "../../../sdk/src/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { startCapture } from "./support/capture.ts";
import { EventLog, HOSTNAME, swaks, testTls } from "./support/harness.ts";

interface Verdict {
  result: string;
  dkim: { domain: string; selector: string; algorithm: string; result: string }[];
}

/** mailauth's verifiers in a separate Node process, DNS answered only from `records`' TXT values. */
function verifyInChild(message: string, records: DnsRecord[]): Promise<Verdict> {
  const txt = Object.fromEntries(
    records.filter((r) => r.type === "TXT").map((r) => [r.name.toLowerCase(), r.value]),
  );
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

const dkimRecords = (records: DnsRecord[], domain: string) =>
  records.filter((r) => r.purpose === "dkim" && r.name.endsWith(`._domainkey.${domain}`));
const selectorOf = (r: DnsRecord) => r.name.split(".")[0]!;

describe.each(BACKENDS)("Ed25519 DKIM keys ($name)", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let capture: Awaited<ReturnType<typeof startCapture>>;
  let acme: { id: string; token: string };
  const d = uniqueDomain("ed");
  let sent = 0;

  const call = async (method: string, path: string, body?: object) => {
    const res = await h.call(method, path, { token: acme.token, ...(body ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const records = async (): Promise<DnsRecord[]> => (await call("GET", `/v1/domains/${d}`)).dnsRecords;
  const caughtUp = async () => engine.policy.reached(await h.cp.store.revision());
  /** Submits a message as ana@ and returns it as the downstream server got it. */
  const submit = async () => {
    const subject = `ed25519 ${++sent}`;
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
      `Subject: ${subject}`,
    ]);
    expect(run.replyTo(".")?.code, run.output).toBe(250);
    await events.settled(run.queueId()!);
    return capture.received.find((m) => m.raw.includes(`Subject: ${subject}`))!.raw;
  };

  beforeAll(async () => {
    capture = await startCapture();
    h = await startHarness(backend);
    acme = await h.tenant("acme");
    await call("PUT", `/v1/domains/${d}`, { name: d });
    const verified = await h.call("POST", `/v1/domains/${d}/verify`, {
      token: h.adminToken,
      account: acme.id,
      body: { method: "admin" },
    });
    expect(verified.status, verified.text).toBe(200);
    await call("PUT", `/v1/domains/${d}/users/ana@${d}`, {
      address: `ana@${d}`,
      password: "Correct-Horse-7",
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
      policy: { masterKey: loadMasterKey(h.dataDir) },
    });
    events = new EventLog(engine);
    await caughtUp();
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await capture?.close();
  });

  it("refuses an unknown key type with 400 MP_BAD_REQUEST naming the algorithm query parameter", async () => {
    const res = await h.call("POST", `/v1/domains/${d}/dkim/rotate?algorithm=dsa`, { token: acme.token });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe("MP_BAD_REQUEST");
    expect(res.text).toContain("algorithm");
  });

  it("publishes a rotated Ed25519 key as k=ed25519 with the bare 32-byte key, and signs with RSA alone until it is activated", async () => {
    const [rsa] = dkimRecords(await records(), d);
    const rotated = await call("POST", `/v1/domains/${d}/dkim/rotate?algorithm=ed25519`);
    const published = dkimRecords(rotated.dnsRecords, d);
    expect(published).toHaveLength(2);
    expect(published[0]).toEqual(rsa);
    expect(published[1]!.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(published[1]!.value.split("p=")[1]!, "base64")).toHaveLength(32);
    await caughtUp();
    const raw = await submit();
    expect((await verifyInChild(raw, await records())).dkim).toEqual([
      { domain: d, selector: selectorOf(rsa!), algorithm: "rsa-sha256", result: "pass" },
    ]);
  });

  it("signs with both keys once the Ed25519 selector is activated; the verifier passes each against dnsRecords", async () => {
    const [rsa, ed] = dkimRecords(await records(), d);
    const activated = await call("POST", `/v1/domains/${d}/dkim/activate`, { selector: selectorOf(ed!) });
    expect(dkimRecords(activated.dnsRecords, d)).toEqual([rsa, ed]);
    await caughtUp();
    const raw = await submit();
    expect(raw.match(/^DKIM-Signature:/gm)).toHaveLength(2);
    const verdict = await verifyInChild(raw, await records());
    expect(verdict.dkim).toEqual([
      { domain: d, selector: selectorOf(rsa!), algorithm: "rsa-sha256", result: "pass" },
      { domain: d, selector: selectorOf(ed!), algorithm: "ed25519-sha256", result: "pass" },
    ]);
    // Without the published Ed25519 record its signature cannot pass: the verifier does check it.
    const withoutEd = (await records()).filter((r) => r.name !== ed!.name);
    expect((await verifyInChild(raw, withoutEd)).dkim.map((r) => r.result)).toEqual(["pass", "neutral"]);
  });

  it("keeps the Ed25519 key signing through an RSA rotation and activation (the chains are independent)", async () => {
    const [, ed] = dkimRecords(await records(), d);
    const rotated = await call("POST", `/v1/domains/${d}/dkim/rotate`);
    const next = dkimRecords(rotated.dnsRecords, d).at(-1)!;
    expect(next.value).toMatch(/^v=DKIM1; k=rsa; /);
    await call("POST", `/v1/domains/${d}/dkim/activate`, { selector: selectorOf(next) });
    await caughtUp();
    const raw = await submit();
    const verdict = await verifyInChild(raw, await records());
    expect(verdict.dkim).toEqual([
      { domain: d, selector: selectorOf(next), algorithm: "rsa-sha256", result: "pass" },
      { domain: d, selector: selectorOf(ed!), algorithm: "ed25519-sha256", result: "pass" },
    ]);
    // The retired RSA key and the Ed25519 key stay published.
    expect(dkimRecords(await records(), d).map(selectorOf)).toContain(selectorOf(ed!));
  });

  it("a second Ed25519 rotation replaces only the pending Ed25519 key and keeps every RSA key", async () => {
    const before = dkimRecords(await records(), d);
    const first = dkimRecords(
      (await call("POST", `/v1/domains/${d}/dkim/rotate?algorithm=ed25519`)).dnsRecords,
      d,
    );
    const second = dkimRecords(
      (await call("POST", `/v1/domains/${d}/dkim/rotate?algorithm=ed25519`)).dnsRecords,
      d,
    );
    expect(first.slice(0, before.length)).toEqual(before);
    expect(second.slice(0, before.length)).toEqual(before);
    expect(second).toHaveLength(before.length + 1);
    expect(second.at(-1)).not.toEqual(first.at(-1));
  });
});
