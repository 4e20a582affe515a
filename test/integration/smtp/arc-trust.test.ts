/** Trusted ARC sealers (RFC 8617 §7.2): a DMARC failure carried by a validated chain whose trusted sealer recorded dmarc=pass is delivered; untrusted, broken or unrelated chains get the policy. */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sealMessage } from "mailauth/lib/arc/index.js";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { tableResolver } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { DomainSpec, FilterSettingsSpec, UserSpec } from "../../../sdk/src/models/index.ts";
import { HOSTNAME, startTestEngine, type TestEngine } from "./support/harness.ts";

const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_PEM = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const DKIM_TXT =
  `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`.match(
    /.{1,255}/g,
  )!;

/** Every sealer publishes the same test key under selector s1; the author domain asks for p=reject. */
const DNS = tableResolver({
  "TXT _dmarc.reject.example": [["v=DMARC1; p=reject"]],
  "TXT s1._domainkey.lists.example": [DKIM_TXT],
  "TXT s1._domainkey.untrusted.example": [DKIM_TXT],
  "TXT s1._domainkey.platform-trusted.example": [DKIM_TXT],
});

function message(subject: string, to: string): string {
  return [
    "From: ceo@reject.example",
    `To: ${to}`,
    `Subject: ${subject}`,
    "Date: Thu, 03 Dec 2026 08:00:00 +0000",
    `Message-ID: <${subject.replace(/\W+/g, "-")}@reject.example>`,
    "",
    "Posted to the list.",
    "",
  ].join("\r\n");
}

/** `raw` with an ARC set i=1 by `sealer` whose ARC-Authentication-Results records `dmarc`. */
async function sealed(raw: string, sealer: string, dmarc: string): Promise<string> {
  const seal = await sealMessage(Buffer.from(raw), {
    signingDomain: sealer,
    selector: "s1",
    privateKey: PRIVATE_PEM,
    cv: "none",
    authResults: `${sealer}; spf=pass smtp.mailfrom=list-bounce@${sealer}; ${dmarc}`,
  });
  expect(seal.toString()).toContain(`d=${sealer}`);
  return seal.toString() + raw;
}

/** Sends through nodemailer; the final reply (code and text), accepted or not. */
async function send(port: number, to: string, raw: string): Promise<{ code: number; text: string }> {
  const transport = createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({
      envelope: { from: "list-bounce@elsewhere.example", to: [to] },
      raw,
    });
    return { code: Number(info.response.slice(0, 3)), text: info.response };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    if (!e.responseCode) throw err;
    return { code: e.responseCode, text: e.response ?? "" };
  } finally {
    transport.close();
  }
}

const PASS = "dmarc=pass header.from=reject.example";

describe("trusted ARC sealers and the DMARC policy (FilterSettings and --trusted-arc-sealers)", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "example.com" }, { name: "other.example" }],
            users: [{ address: "alice@example.com" }, { address: "bob@other.example" }],
            filterSettings: [{ scope: "example.com", trustedArcSealers: ["lists.example"] }],
          },
        ],
      },
      { resolver: DNS, trustedArcSealers: ["platform-trusted.example"] },
    );
  });
  afterAll(() => t.close());

  const delivered = (address: string, subject: string) =>
    t.mailbox(address).find((m) => m.includes(`Subject: ${subject}`));

  it("delivers a p=reject DMARC failure sealed by the domain's trusted sealer with dmarc=pass, noting it in Authentication-Results", async () => {
    const raw = await sealed(message("trusted list", "alice@example.com"), "lists.example", PASS);
    const reply = await send(t.engine.inboundPort, "alice@example.com", raw);
    expect(reply.code, reply.text).toBe(250);
    await t.events.settled(reply.text.split(" ").pop()!);
    const mail = delivered("alice@example.com", "trusted list")!;
    const results = mail.slice(0, mail.indexOf("\r\n\r\n")).replace(/\r\n[ \t]+/g, " ");
    expect(results).toMatch(/arc=pass \(i=1/);
    expect(results).toMatch(
      /dmarc=fail [^;]*header\.from=reject\.example[^;]*\(policy not applied: ARC set sealed by trusted lists\.example records dmarc=pass\)/,
    );
  });

  it("refuses the same message sealed by a sealer nobody trusts with 550 5.7.1", async () => {
    const raw = await sealed(message("untrusted list", "alice@example.com"), "untrusted.example", PASS);
    const reply = await send(t.engine.inboundPort, "alice@example.com", raw);
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("DMARC policy of reject.example");
  });

  it("refuses it when the trusted sealer's chain is broken (the message changed after sealing)", async () => {
    const raw = await sealed(message("broken list", "alice@example.com"), "lists.example", PASS);
    const reply = await send(
      t.engine.inboundPort,
      "alice@example.com",
      raw.replace("Posted to", "Changed on"),
    );
    expect(reply.code).toBe(550);
  });

  it("refuses it when the trusted sealer recorded dmarc=fail, or dmarc=pass for another From: domain", async () => {
    const failed = await sealed(
      message("list saw fail", "alice@example.com"),
      "lists.example",
      "dmarc=fail header.from=reject.example",
    );
    expect((await send(t.engine.inboundPort, "alice@example.com", failed)).code).toBe(550);
    const elsewhere = await sealed(
      message("list saw another author", "alice@example.com"),
      "lists.example",
      "dmarc=pass header.from=harmless.example",
    );
    expect((await send(t.engine.inboundPort, "alice@example.com", elsewhere)).code).toBe(550);
  });

  it("keeps a domain's trust to itself: the same sealer is not trusted for another domain", async () => {
    const raw = await sealed(message("other domain", "bob@other.example"), "lists.example", PASS);
    const reply = await send(t.engine.inboundPort, "bob@other.example", raw);
    expect(reply.code).toBe(550);
  });

  it("trusts the engine-wide sealer (--trusted-arc-sealers) for every domain", async () => {
    const raw = await sealed(
      message("platform sealer", "bob@other.example"),
      "platform-trusted.example",
      PASS,
    );
    const reply = await send(t.engine.inboundPort, "bob@other.example", raw);
    expect(reply.code, reply.text).toBe(250);
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
        schema: `arc_${randomBytes(6).toString("hex")}`,
      });
      return { store, cleanup: () => {} };
    },
  },
];

describe.each(stores)("trustedArcSealers stored in $name and enforced by the engine on it", (backend) => {
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
    for (const name of ["trusts.example", "plain.example"]) {
      await put("Domain", name, name, DomainSpec.parse({ name }));
      await put("User", `user@${name}`, name, UserSpec.parse({ address: `user@${name}` }));
    }
    const trusts = FilterSettingsSpec.parse({
      scope: "trusts.example",
      trustedArcSealers: ["Lists.Example"],
    });
    expect(trusts.trustedArcSealers).toEqual(["lists.example"]);
    await put("FilterSettings", "trusts.example/filter-settings", "trusts.example", trusts);
    dataDir = mkdtempSync(join(tmpdir(), "mp-engine-arc-"));
    engine = await startSmtpEngineOnStore({
      store,
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

  it("delivers the trusted-sealed DMARC failure where the stored setting trusts the sealer and refuses it elsewhere", async () => {
    const trusted = await send(
      engine.inboundPort,
      "user@trusts.example",
      await sealed(message("stored trust", "user@trusts.example"), "lists.example", PASS),
    );
    expect(trusted.code, trusted.text).toBe(250);
    const plain = await send(
      engine.inboundPort,
      "user@plain.example",
      await sealed(message("stored trust", "user@plain.example"), "lists.example", PASS),
    );
    expect(plain.code).toBe(550);
  });
});
