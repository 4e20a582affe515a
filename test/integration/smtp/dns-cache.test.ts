/** The engine's DNS cache for inbound authentication: a sender's SPF, DKIM key and DMARC records are asked once for many messages, every time with the cache off. */
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { createTransport } from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { tableResolver } from "../../../platform/smtp/content/spf.ts";
import { startTestEngine, type TestEngine } from "./support/harness.ts";

const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_PEM = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const DKIM_TXT =
  `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`.match(
    /.{1,255}/g,
  )!;

/** The sender's DNS, and every question the engine asked it. */
function countedDns() {
  const table = tableResolver({
    "TXT good.example": [["v=spf1 ip4:127.0.0.0/8 -all"]],
    "TXT s1._domainkey.good.example": [DKIM_TXT],
    "TXT _dmarc.good.example": [["v=DMARC1; p=reject"]],
  });
  const asked: string[] = [];
  return {
    asked,
    resolver: (name: string, rrtype: string) => {
      asked.push(`${rrtype} ${name}`);
      return table(name, rrtype);
    },
  };
}

async function signedMessage(subject: string): Promise<string> {
  const raw = [
    "From: ann@good.example",
    "To: alice@example.com",
    `Subject: ${subject}`,
    "Date: Thu, 03 Dec 2026 08:00:00 +0000",
    `Message-ID: <${subject.replace(/\W+/g, "-")}@good.example>`,
    "",
    "Hello.",
    "",
  ].join("\r\n");
  const signature = { signingDomain: "good.example", selector: "s1", privateKey: PRIVATE_PEM };
  const { signatures } = await dkimSign(raw, { ...signature, signatureData: [signature] });
  return signatures + raw;
}

const TENANCY = {
  revision: 1,
  accounts: [{ id: "acme", domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] }],
};

describe("the engine's DNS cache for SPF, DKIM and DMARC", () => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** Sends `count` signed messages one after the other; the mailbox must show dkim=pass and dmarc=pass for each. */
  const sendSigned = async (engine: TestEngine, count: number) => {
    for (let i = 0; i < count; i++) {
      const transport = createTransport({
        host: "127.0.0.1",
        port: engine.engine.inboundPort,
        secure: false,
        ignoreTLS: true,
      });
      try {
        const info = await transport.sendMail({
          envelope: { from: "ann@good.example", to: ["alice@example.com"] },
          raw: await signedMessage(`cached ${i}`),
        });
        expect(info.response).toMatch(/^250 /);
        await engine.events.settled(info.response.split(" ").pop()!);
      } finally {
        transport.close();
      }
    }
    for (const mail of engine.mailbox("alice@example.com")) {
      expect(mail).toMatch(/dkim=pass/);
      expect(mail).toMatch(/dmarc=pass/);
    }
  };
  const perName = (asked: string[]) =>
    Object.fromEntries([...new Set(asked)].map((q) => [q, asked.filter((a) => a === q).length]));

  it("asks for the DKIM key and the DMARC record once for three messages", async () => {
    const dns = countedDns();
    t = await startTestEngine(TENANCY, { resolver: dns.resolver });
    await sendSigned(t, 3);
    expect(perName(dns.asked)).toMatchObject({
      "TXT s1._domainkey.good.example": 1,
      "TXT _dmarc.good.example": 1,
    });
  });

  it("asks every time with the cache off (dnsCache: false, --dns-cache-entries off)", async () => {
    const dns = countedDns();
    t = await startTestEngine(TENANCY, { resolver: dns.resolver, dnsCache: false });
    await sendSigned(t, 3);
    expect(perName(dns.asked)).toMatchObject({
      "TXT s1._domainkey.good.example": 3,
      "TXT _dmarc.good.example": 3,
    });
  });
});
