/** Notices: mail the platform writes to a person (login alerts, password expiry, digests, reports, reset links). */
import { randomUUID } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer/index.js";

/** One notice; see {@link composeNotice}. */
export interface Notice {
  /** The hosted domain the notice is sent for: its `notificationFrom` is the From:, its DKIM key signs it. */
  domain: string;
  /** One recipient address (hosted or remote). */
  to: string;
  subject: string;
  /** The plain-text body; always sent (the HTML part, when given, is its alternative). */
  text: string;
  html?: string;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
  /** Extra header fields, e.g. `List-Unsubscribe`; never the ones below, which the composer sets. */
  headers?: Record<string, string>;
}

/**
 * Builds a notice as an RFC 5322 message with nodemailer's MIME builder (RFC 2047 subjects, quoted-
 * printable bodies, multipart/alternative and attachments), marked `Auto-Submitted: auto-generated`
 * (RFC 3834 §5) so auto-responders do not answer it. It is sent with the null reverse-path
 * (RFC 5321 §4.5.5): a notice never bounces back to the platform.
 *
 * @example composeNotice({ domain: "example.com", to: "ana@example.com", subject: "Failed sign-in", text: "…" }, { from: "postmaster@example.com", hostname: "mx.example.com", date: new Date() })
 */
export async function composeNotice(
  notice: Notice,
  envelope: { from: string; hostname: string; date: Date },
): Promise<Buffer> {
  const mail = new MailComposer({
    from: envelope.from,
    to: notice.to,
    subject: notice.subject,
    text: notice.text,
    ...(notice.html !== undefined ? { html: notice.html } : {}),
    ...(notice.attachments ? { attachments: notice.attachments } : {}),
    headers: { ...notice.headers, "Auto-Submitted": "auto-generated" },
    date: envelope.date,
    messageId: `<notice.${randomUUID()}@${envelope.hostname}>`,
  });
  return await mail.compile().build();
}
