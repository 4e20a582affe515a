/** Delivery status notifications (RFC 3464): the bounce a sender gets when a message cannot be delivered. */
import { randomBytes } from "node:crypto";
import MimeNode from "nodemailer/lib/mime-node/index.js";
import { headerBlock } from "../content/headers.ts";
import { mailDate } from "../content/mail-date.ts";

/** One recipient that failed. */
export interface DsnRecipient {
  /** The address we tried (after aliases were expanded). */
  finalRecipient: string;
  /** The address the client gave in RCPT TO, when different. */
  originalRecipient?: string;
  /** RFC 3463 status code, e.g. 5.1.1. */
  status: string;
  /** The remote reply or local error (Diagnostic-Code). */
  diagnostic: string;
  remoteMta?: string;
}

/** Input of {@link buildDsn}. */
export interface DsnInput {
  /** Our host name (Reporting-MTA). */
  reportingMta: string;
  /** From: of the report, e.g. `MAILER-DAEMON@mx.example.com`. */
  from: string;
  /** The original envelope sender, who gets the report. */
  to: string;
  queueId: string;
  arrivalDate: Date;
  recipients: DsnRecipient[];
  /** The original message; its header block is attached (text/rfc822-headers). */
  original: Buffer;
  now?: Date;
}

/** One line of printable US-ASCII: delivery-status fields are 7-bit (RFC 3464 §2.1.3). */
const oneLine = (s: string) =>
  s
    .replace(/[\r\n]+/g, " ")
    .replace(/[^\x20-\x7e\t]/g, "?")
    .trim();

/**
 * Builds a multipart/report DSN (RFC 6522) with nodemailer's MIME builder: a human-readable part,
 * the machine-readable message/delivery-status part (RFC 3464 §2: per-message fields, then one
 * block per recipient with Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code) and the
 * original headers. Dates carry a numeric zone (RFC 5322 §3.3). It is sent with the null
 * reverse-path (RFC 5321 §4.5.5) so it can never bounce in turn, and marked
 * `Auto-Submitted: auto-replied` (RFC 3834 §5).
 *
 * @example await buildDsn({ reportingMta: "mx.test", from: "MAILER-DAEMON@mx.test", to: "bob@example.net", queueId, arrivalDate, recipients, original })
 */
export async function buildDsn(input: DsnInput): Promise<Buffer> {
  const now = input.now ?? new Date();
  const human = input.recipients.map((r) => `<${r.finalRecipient}>: ${oneLine(r.diagnostic)}`).join("\r\n");
  const perRecipient = input.recipients
    .map((r) =>
      [
        ...(r.originalRecipient && r.originalRecipient !== r.finalRecipient
          ? [`Original-Recipient: rfc822; ${r.originalRecipient}`]
          : []),
        `Final-Recipient: rfc822; ${r.finalRecipient}`,
        "Action: failed",
        `Status: ${r.status}`,
        ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
        `Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`,
        `Last-Attempt-Date: ${mailDate(now)}`,
      ].join("\r\n"),
    )
    .join("\r\n\r\n");
  const report = new MimeNode("multipart/report; report-type=delivery-status");
  report.setHeader({
    From: `Mail Delivery System <${input.from}>`,
    To: `<${input.to}>`,
    Subject: "Undelivered Mail Returned to Sender",
    Date: mailDate(now),
    "Message-ID": `<${input.queueId}.dsn.${randomBytes(4).toString("hex")}@${input.reportingMta}>`,
    "Auto-Submitted": "auto-replied",
  });
  report
    .createChild("text/plain; charset=utf-8")
    .setContent(
      [
        `This is the mail system at ${input.reportingMta}.`,
        "",
        "Your message could not be delivered to one or more recipients:",
        "",
        human,
        "",
      ].join("\r\n"),
    );
  report
    .createChild("message/delivery-status")
    .setContent(
      [
        `Reporting-MTA: dns; ${input.reportingMta}`,
        `X-Mailplane-Queue-ID: ${input.queueId}`,
        `Arrival-Date: ${mailDate(input.arrivalDate)}`,
        "",
        perRecipient,
        "",
      ].join("\r\n"),
    );
  const headers = headerBlock(input.original).replace(/\r?\n/g, "\r\n").trimEnd();
  report.createChild("text/rfc822-headers").setContent(`${headers}\r\n`);
  return await report.build();
}
