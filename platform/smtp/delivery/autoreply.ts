/** Auto-replies (RFC 3834): at most once per sender per period, never to automatic, bulk or list mail. */

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import type { QueuedMessage } from "../spool/queued-message.ts";

/** What the responder needs to know about the message it might answer. */
export interface AutoReplyInput {
  alias: string;
  subject: string;
  body: string;
  periodDays: number;
  sender: string;
  origin: QueuedMessage["origin"];
  classification: string;
  autoSubmitted: string | null;
  precedence: string | null;
  list: boolean;
  messageId: string | null;
}

/** Senders that are programs or lists (RFC 3834 §2: responses to them cause loops or noise). */
const AUTOMATED_SENDER =
  /^(mailer-daemon|postmaster|listserv|majordomo|owner-.+|.+-request|.+-owner|no-?reply|bounces?(\+.*)?)@/i;

/**
 * Why no reply is sent, or null when one should be. RFC 3834 §2: never answer the null sender,
 * messages with `Auto-Submitted` other than `no` (§5), `Precedence: bulk|list|junk`, list mail
 * (List-* fields); we also skip spam and our own automatic mail.
 */
export function suppressReason(input: AutoReplyInput): string | null {
  if (input.sender === "") return "null sender";
  if (input.origin !== "smtp" && input.origin !== "release") return "automatic message";
  if (input.autoSubmitted && input.autoSubmitted.trim().toLowerCase() !== "no") return "Auto-Submitted";
  if (input.precedence && /^(bulk|list|junk)$/i.test(input.precedence.trim())) return "Precedence";
  if (input.list) return "mailing list";
  if (AUTOMATED_SENDER.test(input.sender)) return "automated sender";
  if (input.classification === "spam" || input.classification === "unsure") return "suspected spam";
  return null;
}

/**
 * Decides and builds auto-replies. The "once per sender per period" memory is kept in a JSON file
 * (not synced: forgetting it after a crash means one extra reply at most).
 *
 * @example
 * const responder = new AutoResponder("/data/autoreply.json", "mx.example.test");
 * const reply = await responder.reply(input); // { message } or { suppressed: "…" }
 */
export class AutoResponder {
  readonly #file: string | null;
  readonly #host: string;
  readonly #sent = new Map<string, number>();
  #saving: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(file: string | null, host: string) {
    this.#file = file;
    this.#host = host;
    if (file) {
      try {
        for (const [k, v] of Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, number>))
          this.#sent.set(k, v);
      } catch {
        // first start
      }
    }
  }

  /**
   * The reply to send (from the alias, to the sender) or why none is sent. Built with nodemailer's
   * MIME builder: the subject is RFC 2047-encoded when it is not ASCII, the body quoted-printable
   * when needed, and the date has a numeric zone (RFC 5322 §3.3).
   */
  async reply(
    input: AutoReplyInput,
    now = Date.now(),
  ): Promise<{ message: Buffer } | { suppressed: string }> {
    const why = suppressReason(input);
    if (why) return { suppressed: why };
    const key = `${input.alias}\n${input.sender}`;
    const last = this.#sent.get(key);
    if (input.periodDays > 0 && last !== undefined && now - last < input.periodDays * 86_400_000) {
      return { suppressed: "already answered this sender in the period" };
    }
    this.#sent.set(key, now);
    this.#save(now, input.periodDays);
    const mail = new MailComposer({
      from: input.alias,
      to: input.sender,
      subject: input.subject.replace(/[\r\n]+/g, " "),
      text: input.body,
      date: new Date(now),
      messageId: `<autoreply.${randomBytes(8).toString("hex")}@${this.#host}>`,
      ...(input.messageId ? { inReplyTo: input.messageId, references: input.messageId } : {}),
      // RFC 3834 §5: marks the reply so other responders do not answer it.
      headers: { "Auto-Submitted": "auto-replied" },
    });
    return { message: await mail.compile().build() };
  }

  #save(now: number, periodDays: number): void {
    if (!this.#file) return;
    // Entries older than a year can never suppress a reply again (periodDays ≤ 365).
    const horizon = now - Math.max(periodDays, 365) * 86_400_000;
    for (const [k, v] of this.#sent) if (v < horizon) this.#sent.delete(k);
    if (this.#dirty) return;
    this.#dirty = true;
    const file = this.#file;
    this.#saving = this.#saving
      .then(async () => {
        this.#dirty = false;
        await writeFile(`${file}.tmp`, JSON.stringify(Object.fromEntries(this.#sent)));
        await rename(`${file}.tmp`, file);
      })
      .catch(() => {});
  }

  /** Waits for the throttle file to be written. */
  flush(): Promise<void> {
    return this.#saving;
  }
}
