/** Delivery status notifications (RFC 3464): the bounce a sender gets when a message cannot be delivered. */
import { randomBytes } from "node:crypto";
import { headerBlock } from "../content/headers.ts";

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

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").trim();

/**
 * Builds a multipart/report DSN: a human-readable part, the machine-readable
 * message/delivery-status part (RFC 3464 §2: per-message fields, then one block per recipient
 * with Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code) and the original headers.
 * It is sent with the null reverse-path (RFC 5321 §4.5.5) so it can never bounce in turn, and
 * marked `Auto-Submitted: auto-replied` (RFC 3834 §5).
 *
 * @example buildDsn({ reportingMta: "mx.test", from: "MAILER-DAEMON@mx.test", to: "bob@example.net", queueId, arrivalDate, recipients, original })
 */
export function buildDsn(input: DsnInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = `dsn-${randomBytes(12).toString("hex")}`;
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
        `Last-Attempt-Date: ${now.toUTCString()}`,
      ].join("\r\n"),
    )
    .join("\r\n\r\n");
  const headers = headerBlock(input.original).replace(/\r?\n/g, "\r\n").trimEnd();
  const text = [
    `From: Mail Delivery System <${input.from}>`,
    `To: <${input.to}>`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${now.toUTCString()}`,
    `Message-ID: <${input.queueId}.dsn.${randomBytes(4).toString("hex")}@${input.reportingMta}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `This is the mail system at ${input.reportingMta}.`,
    "",
    "Your message could not be delivered to one or more recipients:",
    "",
    human,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Mailplane-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${input.arrivalDate.toUTCString()}`,
    "",
    perRecipient,
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    headers,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
  return Buffer.from(text, "utf8");
}
