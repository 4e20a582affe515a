/** The DATA verdict and the streaming scan on hand-built messages and snapshots. */
import { describe, expect, it } from "vitest";
import { applyEdits } from "../../../platform/smtp/content/headers.ts";
import { GTUBE, MAX_LINE_LENGTH, MessageScanner } from "../../../platform/smtp/content/scan.ts";
import { type DataInput, dataVerdict } from "../../../platform/smtp/phases/data.ts";
import { buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";
import { snapshot } from "./fixtures.ts";

async function scanOf(text: string, chunkSize = 7) {
  const scanner = new MessageScanner();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) scanner.write(bytes.subarray(i, i + chunkSize));
  return scanner.end();
}

const HEAD =
  "From: Bob <bob@sender.example>\r\nTo: alice@example.com\r\nDate: Sat, 31 Jan 2026 12:00:00 +0000\r\nMessage-ID: <m1@sender.example>\r\n";
const plain = (subject: string, body: string) => `${HEAD}Subject: ${subject}\r\n\r\n${body}\r\n`;

async function verdict(text: string, overrides: Partial<DataInput> = {}) {
  return dataVerdict({
    domain: snapshot.domains.get("example.com")!,
    filtered: true,
    authenticated: false,
    sender: "bob@sender.example",
    recipients: ["alice@example.com"],
    remoteAddress: "192.0.2.10",
    scan: await scanOf(text),
    spf: { result: "none" },
    ...overrides,
  });
}

describe("MessageScanner", () => {
  it("finds GTUBE split across chunks, headers and the longest line", async () => {
    const s = await scanOf(plain("Hello", `x\r\n${GTUBE}\r\n${"y".repeat(1200)}`), 5);
    expect(s.gtube).toBe(true);
    expect(s.headers.subject).toBe("Hello");
    expect(s.headers.from).toBe("bob@sender.example");
    expect(s.overlongLine).toBe(1200);
  });

  it("reports the longest line over 998 characters exactly, and 0 when all fit, however the bytes are chunked", async () => {
    // Reference: every line measured, CR of CRLF not counted (RFC 5322 §2.1.1).
    const naive = (text: string) => {
      let longest = 0;
      for (const line of text.split("\n")) {
        const length = line.endsWith("\r") ? line.length - 1 : line.length;
        if (length > MAX_LINE_LENGTH) longest = Math.max(longest, length);
      }
      return longest;
    };
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const lengths = [0, 1, 80, 997, 998, 999, 1000, 1500, 3000];
    let overlong = 0;
    for (let round = 0; round < 300; round++) {
      const lines: string[] = [];
      const count = 1 + random(12);
      for (let i = 0; i < count; i++) {
        const length = random(4) === 0 ? lengths[random(lengths.length)]! : random(120);
        lines.push("a".repeat(length) + (random(5) === 0 ? "\n" : "\r\n"));
      }
      const text = lines.join("");
      const expected = naive(text);
      if (expected > 0) overlong++;
      const chunk = 1 + random(random(2) === 0 ? 16 : 4000);
      expect((await scanOf(text, chunk)).overlongLine, `round ${round}, chunks of ${chunk}`).toBe(expected);
    }
    // The generator must produce both kinds, or the comparison proves little.
    expect(overlong).toBeGreaterThan(30);
    expect(overlong).toBeLessThan(270);
  });

  it("reads the same header fields whatever the chunking, where the empty line straddles chunks", async () => {
    const messages = [
      plain("Chunked", "Subject: not a header\r\n"),
      "Subject: bare LF\nFrom: carol@sender.example\n\nSubject: body\n",
      "Subject: no body\r\nFrom: dan@sender.example\r\n",
    ];
    for (const text of messages) {
      const whole = await scanOf(text, text.length);
      for (let size = 1; size <= 9; size++) {
        expect((await scanOf(text, size)).headers).toEqual(whole.headers);
      }
    }
    expect((await scanOf(messages[0]!, 3)).headers.subject).toBe("Chunked");
    expect((await scanOf(messages[1]!, 2)).headers).toMatchObject({
      subject: "bare LF",
      from: "carol@sender.example",
    });
  });

  it("finds GTUBE inside a base64 text part and names attachments", async () => {
    const b64 = Buffer.from(`spam ${GTUBE}`).toString("base64");
    const text = `${HEAD}Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b\r\nContent-Type: application/octet-stream; name="setup.EXE"\r\nContent-Disposition: attachment; filename="setup.EXE"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n`;
    const s = await scanOf(text, 13);
    expect(s.gtube).toBe(true);
    expect(s.attachments).toEqual(["setup.EXE"]);
  });
});

describe("dataVerdict", () => {
  it("delivers a clean message with X-Recommended-Action: accept", async () => {
    const v = await verdict(plain("Lunch?", "See you at noon."));
    expect(v).toMatchObject({
      action: "accept",
      value: { disposition: "deliver", classification: "clean", reply: "accept" },
    });
    if (v.action === "accept") expect(v.value.edits.prepend).toContain("X-Recommended-Action: accept");
  });

  it("quarantines GTUBE and answers 550 5.7.1 when the quarantine response is reject", async () => {
    const v = await verdict(plain("hi", GTUBE));
    expect(v).toMatchObject({
      action: "accept",
      value: { disposition: "quarantine", classification: "spam", reply: { code: 550, enhanced: "5.7.1" } },
    });
  });

  it("quarantines GTUBE but answers 250 when the quarantine response is accept", async () => {
    const snap = buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "a",
          domains: [{ name: "example.com", verified: true }],
          filterSettings: [{ scope: "example.com", quarantineResponse: "accept" }],
        },
      ],
    });
    const v = await verdict(plain("hi", GTUBE), { domain: snap.domains.get("example.com")! });
    expect(v).toMatchObject({ action: "accept", value: { disposition: "quarantine", reply: "accept" } });
  });

  it("delivers spam tagged with X-Recommended-Action: reject when the quarantine is off", async () => {
    const snap = buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "a",
          domains: [{ name: "example.com", verified: true }],
          filterSettings: [{ scope: "example.com", quarantineEnabled: false }],
        },
      ],
    });
    const v = await verdict(plain("hi", GTUBE), { domain: snap.domains.get("example.com")! });
    expect(v).toMatchObject({
      action: "accept",
      value: { disposition: "deliver", classification: "spam", edits: { subjectPrefix: "[SPAM?]" } },
    });
    if (v.action === "accept") expect(v.value.edits.prepend).toContain("X-Recommended-Action: reject");
  });

  it("tags an unsure message's subject with the notation", async () => {
    const v = await verdict(plain("BUY CHEAP WATCHES NOW", "deal"));
    expect(v).toMatchObject({
      action: "accept",
      value: { classification: "unsure", edits: { subjectPrefix: "[SPAM?]" } },
    });
    if (v.action !== "accept") return;
    const out = applyEdits(Buffer.from(plain("BUY CHEAP WATCHES NOW", "deal")), v.value.edits).toString();
    expect(out).toContain("Subject: [SPAM?] BUY CHEAP WATCHES NOW");
  });

  it("keeps a message missing Date: and Message-ID: (score 0.0975) below the 0.10 tag threshold", async () => {
    const v = await verdict("From: bob@sender.example\r\nSubject: plain\r\n\r\nhello\r\n");
    expect(v).toMatchObject({
      action: "accept",
      value: { classification: "clean", score: 0.0975, edits: { subjectPrefix: null } },
    });
  });

  it("quarantines a blocked attachment extension", async () => {
    const text = `${HEAD}Subject: invoice\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Disposition: attachment; filename="invoice.pif"\r\n\r\nxx\r\n--b--\r\n`;
    expect(await verdict(text)).toMatchObject({
      action: "accept",
      value: { disposition: "quarantine", classification: "blocked-attachment" },
    });
  });

  it("rejects SPF fail with 550 5.7.23 and defers temperror with 451 4.7.24", async () => {
    expect(await verdict(plain("x", "y"), { spf: { result: "fail" } })).toMatchObject({
      code: 550,
      enhanced: "5.7.23",
    });
    expect(await verdict(plain("x", "y"), { spf: { result: "temperror" } })).toMatchObject({
      code: 451,
      enhanced: "4.7.24",
    });
  });

  it("rejects lines over 998 characters with 550 5.6.0 unless the check is skipped", async () => {
    const long = plain("x", "z".repeat(999));
    expect(await verdict(long)).toMatchObject({ code: 550, enhanced: "5.6.0" });
    const snap = buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "a",
          domains: [{ name: "example.com", verified: true }],
          filterSettings: [{ scope: "example.com", skipLineLengthCheck: true }],
        },
      ],
    });
    expect((await verdict(long, { domain: snap.domains.get("example.com")! })).action).toBe("accept");
  });

  it("skips every filter for allow-listed mail but still applies the size limit", async () => {
    expect(await verdict(plain("x", GTUBE), { filtered: false })).toMatchObject({
      action: "accept",
      value: { disposition: "deliver", classification: "allowlisted" },
    });
    const routed = snapshot.domains.get("routed.example")!;
    expect(
      await verdict(plain("x", "y".repeat(900).concat("\r\n").repeat(1300)), {
        filtered: false,
        domain: routed,
      }),
    ).toMatchObject({ code: 552, enhanced: "5.3.4" });
  });

  it("rejects a message that already passed more than 100 relays with 554 5.4.6", async () => {
    const hops = "Received: from a by b; Sat, 31 Jan 2026 12:00:00 +0000\r\n".repeat(101);
    expect(await verdict(hops + plain("x", "y"))).toMatchObject({ code: 554, enhanced: "5.4.6" });
  });

  it("accepts a message with 100 Received: fields (RFC 5321 §6.3: the threshold is at least 100)", async () => {
    const hops = "Received: from a by b; Sat, 31 Jan 2026 12:00:00 +0000\r\n".repeat(100);
    expect(await verdict(hops + plain("x", "y"))).toMatchObject({ value: { disposition: "deliver" } });
  });
});
