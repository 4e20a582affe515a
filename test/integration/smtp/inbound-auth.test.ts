/** Inbound authentication end to end with a nodemailer client: SPF, DKIM, ARC, DMARC → Authentication-Results, DMARC policy (also as stored in SQLite and PostgreSQL), the From: allow list. */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sealMessage } from "mailauth/lib/arc/index.js";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { tableResolver } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { DomainSpec, FilterSettingsSpec, UserSpec } from "../../../sdk/src/models/index.ts";
import { HOSTNAME, startTestEngine, type TestEngine } from "./support/harness.ts";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PUBLIC_B64 = publicKey.export({ type: "spki", format: "der" }).toString("base64");
/** A DKIM key record split into 255-character strings, as a TXT record must be (RFC 6376 §3.6.2.2). */
const DKIM_TXT = `v=DKIM1; k=rsa; p=${PUBLIC_B64}`.match(/.{1,255}/g)!;

/**
 * The senders' DNS, published through the engine's injectable resolver. The client connects from
 * 127.0.0.1, which every SPF record here allows.
 */
const DNS = tableResolver({
  "TXT good.example": [["v=spf1 ip4:127.0.0.0/8 -all"]],
  "TXT s1._domainkey.good.example": [DKIM_TXT],
  "TXT _dmarc.good.example": [["v=DMARC1; p=reject"]],
  "TXT _dmarc.reject.example": [["v=DMARC1; p=reject"]],
  "TXT _dmarc.quarantine.example": [["v=DMARC1; p=quarantine"]],
  "TXT trusted.example": [["v=spf1 -all"]],
  "TXT s1._domainkey.trusted.example": [DKIM_TXT],
  "TXT _dmarc.trusted.example": [["v=DMARC1; p=none"]],
  "TXT elsewhere.example": [["v=spf1 ip4:127.0.0.0/8 -all"]],
  "TXT s1._domainkey.forwarder.example": [DKIM_TXT],
});

function message(fields: {
  from: string;
  to: string;
  subject: string;
  extra?: string[];
  body?: string;
}): string {
  return [
    `From: ${fields.from}`,
    `To: ${fields.to}`,
    `Subject: ${fields.subject}`,
    "Date: Thu, 03 Dec 2026 08:00:00 +0000",
    `Message-ID: <${fields.subject.replace(/\W+/g, "-")}@client.example>`,
    ...(fields.extra ?? []),
    "",
    fields.body ?? "Hello, this is a test.",
    "",
  ].join("\r\n");
}

async function signed(raw: string, domain: string): Promise<string> {
  const { signatures } = await dkimSign(raw, {
    signingDomain: domain,
    selector: "s1",
    privateKey: PRIVATE_PEM,
    // mailauth makes one signature per signatureData entry.
    signatureData: [{ signingDomain: domain, selector: "s1", privateKey: PRIVATE_PEM }],
  });
  expect(signatures).toContain(`d=${domain}`);
  return signatures + raw;
}

/** Sends through nodemailer and returns the final reply (code and text), accepted or not. */
async function send(
  port: number,
  from: string,
  to: string,
  raw: string,
): Promise<{ code: number; text: string }> {
  const transport = createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
    return { code: Number(info.response.slice(0, 3)), text: info.response };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    if (!e.responseCode) throw err;
    return { code: e.responseCode, text: e.response ?? "" };
  } finally {
    transport.close();
  }
}

/** The Authentication-Results fields at the top of a delivered message's header block. */
function authResults(mail: string): string[] {
  const head = mail.slice(0, mail.indexOf("\r\n\r\n") + 2);
  return (head.match(/^Authentication-Results:.*\r\n(?:[ \t].*\r\n)*/gim) ?? []).map((f) =>
    f.replace(/\r\n[ \t]+/g, " ").trim(),
  );
}

describe("inbound authentication (SPF, DKIM, DMARC) on the MX listener", () => {
  let t: TestEngine;
  let port: number;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "example.com" }, { name: "relaxed.example" }],
            users: [{ address: "alice@example.com" }, { address: "bob@relaxed.example" }],
            filterSettings: [{ scope: "relaxed.example", dmarcPolicy: "ignore" }],
            senderLists: [
              { domain: "example.com", kind: "allow", target: "sender", entries: ["boss@trusted.example"] },
            ],
          },
        ],
      },
      { resolver: DNS },
    );
    port = t.engine.inboundPort;
  });
  afterAll(() => t.close());

  const delivered = (address: string, subject: string) =>
    t.mailbox(address).find((m) => m.includes(`Subject: ${subject}`));

  it("adds Authentication-Results with spf=pass, dkim=pass and dmarc=pass to a signed, aligned message and delivers it", async () => {
    const raw = await signed(
      message({ from: "Ann <ann@good.example>", to: "alice@example.com", subject: "Signed and aligned" }),
      "good.example",
    );
    const reply = await send(port, "ann@good.example", "alice@example.com", raw);
    expect(reply.code).toBe(250);
    await t.events.settled(reply.text.split(" ").pop()!);
    const mail = delivered("alice@example.com", "Signed and aligned")!;
    const [results, ...others] = authResults(mail);
    expect(others).toEqual([]);
    expect(results).toMatch(new RegExp(`^Authentication-Results: ${HOSTNAME}; `));
    expect(results).toMatch(/spf=pass .*smtp\.mailfrom=ann@good\.example/);
    expect(results).toMatch(/dkim=pass .*header\.i=@good\.example header\.s=s1/);
    expect(results).toMatch(/dmarc=pass .*header\.from=good\.example/);
  });

  it("refuses a forged From: of a p=reject domain with 550 5.7.1 at the end of DATA", async () => {
    const raw = message({ from: "ceo@reject.example", to: "alice@example.com", subject: "Forged reject" });
    const reply = await send(port, "mallory@elsewhere.example", "alice@example.com", raw);
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("5.7.1");
    expect(reply.text).toContain("DMARC policy of reject.example");
    expect(delivered("alice@example.com", "Forged reject")).toBeUndefined();
  });

  it("quarantines a forged From: of a p=quarantine domain", async () => {
    const raw = message({
      from: "ceo@quarantine.example",
      to: "alice@example.com",
      subject: "Forged quarantine",
    });
    const held = t.events.next("quarantined", (meta) => meta.subject === "Forged quarantine");
    const reply = await send(port, "mallory@elsewhere.example", "alice@example.com", raw);
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("Message rejected and quarantined: DMARC policy of quarantine.example");
    const [meta] = await held;
    expect(t.engine.quarantine.get(meta.id)).toMatchObject({ classification: "dmarc-fail" });
    expect(delivered("alice@example.com", "Forged quarantine")).toBeUndefined();
  });

  it("delivers the forged p=reject From: with dmarcPolicy ignore, recording dmarc=fail", async () => {
    const raw = message({
      from: "ceo@reject.example",
      to: "bob@relaxed.example",
      subject: "Forged but ignored",
    });
    const reply = await send(port, "mallory@elsewhere.example", "bob@relaxed.example", raw);
    expect(reply.code).toBe(250);
    await t.events.settled(reply.text.split(" ").pop()!);
    const mail = delivered("bob@relaxed.example", "Forged but ignored")!;
    expect(authResults(mail)[0]).toMatch(/dmarc=fail .*header\.from=reject\.example/);
  });

  it("skips filtering for an allow-listed From: only when DMARC passes aligned for it", async () => {
    // Control: signed by trusted.example, so DMARC passes and the allow list lets GTUBE through.
    const good = await signed(
      message({
        from: "Boss <boss@trusted.example>",
        to: "alice@example.com",
        subject: "Allowed boss",
        body: GTUBE,
      }),
      "trusted.example",
    );
    const allowed = await send(port, "bounces@elsewhere.example", "alice@example.com", good);
    expect(allowed.code).toBe(250);
    await t.events.settled(allowed.text.split(" ").pop()!);
    expect(delivered("alice@example.com", "Allowed boss")).toContain("X-Recommended-Action: accept");

    // The same From: without a signature: DMARC fails (p=none, so no policy) and GTUBE is quarantined.
    const forged = message({
      from: "boss@trusted.example",
      to: "alice@example.com",
      subject: "Unaligned boss",
      body: GTUBE,
    });
    const reply = await send(port, "bounces@elsewhere.example", "alice@example.com", forged);
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("spam score 1.00");
  });

  it("does not match the allow list on an address hidden in the display name", async () => {
    // Another mailbox of the allow-listed domain (think of a free-mail provider) signs legitimately,
    // so DMARC passes for trusted.example; only the address, not the display name, is the author.
    const raw = await signed(
      message({
        from: '"x <boss@trusted.example>" <a@trusted.example>',
        to: "alice@example.com",
        subject: "Display name trick",
        body: GTUBE,
      }),
      "trusted.example",
    );
    const reply = await send(port, "a@elsewhere.example", "alice@example.com", raw);
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("spam score 1.00");
    expect(delivered("alice@example.com", "Display name trick")).toBeUndefined();
  });

  it("verifies an ARC chain: arc=pass for an intact sealed message, arc=fail once the body changed", async () => {
    const raw = message({
      from: "ann@list.example",
      to: "alice@example.com",
      subject: "Sealed by a forwarder",
    });
    const seal = await sealMessage(Buffer.from(raw), {
      signingDomain: "forwarder.example",
      selector: "s1",
      privateKey: PRIVATE_PEM,
      cv: "none",
      authResults: "forwarder.example; spf=pass smtp.mailfrom=ann@list.example",
    });
    expect(seal.toString()).toContain("ARC-Seal: i=1");
    const intact = await send(port, "fwd@elsewhere.example", "alice@example.com", seal.toString() + raw);
    expect(intact.code).toBe(250);
    await t.events.settled(intact.text.split(" ").pop()!);
    expect(authResults(delivered("alice@example.com", "Sealed by a forwarder")!)[0]).toMatch(
      /arc=pass \(i=1/,
    );

    const tampered =
      seal.toString() + raw.replace("Subject: Sealed by a forwarder", "Subject: Sealed then changed");
    const changed = await send(port, "fwd@elsewhere.example", "alice@example.com", tampered);
    expect(changed.code).toBe(250);
    await t.events.settled(changed.text.split(" ").pop()!);
    expect(authResults(delivered("alice@example.com", "Sealed then changed")!)[0]).toMatch(/arc=fail/);
  });

  it("strips an incoming Authentication-Results claiming our authserv-id and keeps other servers' results", async () => {
    const raw = message({
      from: "ann@good.example",
      to: "alice@example.com",
      subject: "Spoofed results",
      extra: [
        `Authentication-Results: ${HOSTNAME};`,
        "\tdkim=pass header.d=bank.example; dmarc=pass header.from=bank.example",
        "Authentication-Results: relay.elsewhere.example; spf=pass",
      ],
    });
    const reply = await send(port, "ann@good.example", "alice@example.com", raw);
    expect(reply.code).toBe(250);
    await t.events.settled(reply.text.split(" ").pop()!);
    const mail = delivered("alice@example.com", "Spoofed results")!;
    const results = authResults(mail);
    expect(results.filter((r) => r.startsWith(`Authentication-Results: ${HOSTNAME};`))).toHaveLength(1);
    expect(results.join("\n")).not.toContain("bank.example");
    expect(results).toContain("Authentication-Results: relay.elsewhere.example; spf=pass");
  });
});

/** Each store the control plane runs on, opened fresh. */
const stores: { name: string; open(): Promise<{ store: Store; cleanup: () => void }> }[] = [
  {
    name: "SQLite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mp-store-"));
      const store = await openSqliteStore({ path: join(dir, "mailplane.db") });
      return { store, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "PostgreSQL",
    async open() {
      const store = await openPostgresStore({
        url: inject("postgresUrl"),
        schema: `auth_${randomBytes(6).toString("hex")}`,
      });
      return { store, cleanup: () => {} };
    },
  },
];

describe.each(stores)("dmarcPolicy stored in $name and enforced by the engine on it", (backend) => {
  let store: Store;
  let cleanup: () => void;
  let engine: EngineOnStore;
  let dataDir: string;
  const sys = { actor: "system" };
  const put = (kind: string, id: string, domain: string, spec: object) =>
    store.putObject({ accountId: "acme", kind, id, domain, spec: spec as Record<string, unknown> }, sys);

  beforeAll(async () => {
    ({ store, cleanup } = await backend.open());
    await store.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
    for (const name of ["follows.example", "ignores.example"]) {
      await put("Domain", name, name, DomainSpec.parse({ name }));
      await put("User", `user@${name}`, name, UserSpec.parse({ address: `user@${name}` }));
    }
    const ignore = FilterSettingsSpec.parse({ scope: "ignores.example", dmarcPolicy: "ignore" });
    await put("FilterSettings", "ignores.example/filter-settings", "ignores.example", ignore);
    dataDir = mkdtempSync(join(tmpdir(), "mp-engine-auth-"));
    engine = await startSmtpEngineOnStore({
      store,
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
      dataDir,
      hostname: HOSTNAME,
      resolver: DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
    });
  });
  afterAll(async () => {
    await engine.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
    cleanup();
  });

  it("refuses the forged p=reject From: for the default (follow) and accepts it where the stored setting is ignore", async () => {
    const forged = (to: string) => message({ from: "ceo@reject.example", to, subject: `Forged to ${to}` });
    const follows = await send(
      engine.inboundPort,
      "m@elsewhere.example",
      "user@follows.example",
      forged("user@follows.example"),
    );
    expect(follows.code).toBe(550);
    expect(follows.text).toContain("DMARC policy of reject.example");
    const ignores = await send(
      engine.inboundPort,
      "m@elsewhere.example",
      "user@ignores.example",
      forged("user@ignores.example"),
    );
    expect(ignores.code).toBe(250);
  });
});
