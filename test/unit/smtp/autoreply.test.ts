import libmime from "libmime";
import { describe, expect, it } from "vitest";
import { type AutoReplyInput, AutoResponder } from "../../../platform/smtp/delivery/autoreply.ts";
import { buildDsn } from "../../../platform/smtp/delivery/dsn.ts";

const input: AutoReplyInput = {
  alias: "away@example.com",
  subject: "Abwesend – bis Montag",
  body: "Zurück am Montag.\nGrüße",
  periodDays: 1,
  sender: "carol@outside.example",
  origin: "smtp",
  classification: "clean",
  autoSubmitted: null,
  precedence: null,
  list: false,
  messageId: "<q1@outside.example>",
};

/** The header block of a message, unfolded. */
const headersOf = (message: Buffer) =>
  message
    .toString("latin1")
    .split(/\r\n\r\n/)[0]!
    .replace(/\r\n[ \t]/g, " ");

describe("AutoResponder.reply", () => {
  it("writes a non-ASCII subject as RFC 2047 encoded words and the body in 7-bit transfer encoding", async () => {
    const reply = await new AutoResponder(null, "mx.test").reply(input);
    if (!("message" in reply)) throw new Error(reply.suppressed);
    const headers = headersOf(reply.message);
    // RFC 5322 §2.2: header fields are US-ASCII; the subject reaches the reader decoded as declared.
    expect(/[\x80-\xff]/.test(reply.message.toString("latin1"))).toBe(false);
    const subject = /^Subject: (.*)$/m.exec(headers)![1]!;
    expect(subject).toMatch(/=\?UTF-8\?/i);
    expect(libmime.decodeWords(subject)).toBe("Abwesend – bis Montag");
    expect(headers).toMatch(/^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/m);
    expect(headers).toMatch(/^Auto-Submitted: auto-replied$/m);
    expect(headers).toMatch(/^In-Reply-To: <q1@outside\.example>$/m);
    expect(headers).toMatch(/^References: <q1@outside\.example>$/m);
  });
});

describe("buildDsn", () => {
  it("builds a multipart/report with numeric-zone dates and 7-bit delivery-status fields", async () => {
    const dsn = await buildDsn({
      reportingMta: "mx.test",
      from: "MAILER-DAEMON@mx.test",
      to: "bob@example.net",
      queueId: "Q1",
      arrivalDate: new Date(Date.UTC(2026, 11, 3, 10, 0, 0)),
      recipients: [{ finalRecipient: "x@routed.example", status: "5.1.1", diagnostic: "550 unbekannt – ü" }],
      original: Buffer.from("From: bob@example.net\r\nSubject: hi\r\n\r\nbody\r\n"),
      now: new Date(Date.UTC(2026, 11, 3, 10, 5, 0)),
    });
    const text = dsn.toString("latin1");
    expect(/[\x80-\xff]/.test(text)).toBe(false);
    expect(headersOf(dsn)).toMatch(
      /^Content-Type: multipart\/report; report-type=delivery-status; boundary=/m,
    );
    expect(text).toContain("Arrival-Date: Thu, 03 Dec 2026 10:00:00 +0000");
    expect(text).toContain("Last-Attempt-Date: Thu, 03 Dec 2026 10:05:00 +0000");
    expect(text).toMatch(/^Date: Thu, 03 Dec 2026 10:05:00 \+0000$/m);
    expect(text).toContain("Diagnostic-Code: smtp; 550 unbekannt ? ?");
    expect(text).not.toContain("GMT");
  });
});
