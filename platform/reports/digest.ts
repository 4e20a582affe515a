/** The quarantine digest: one user's held messages (sender, subject, date, score), each with a release link, as a notice. */
import type { Notice } from "../smtp/delivery/notice.ts";
import type { QuarantineEntry } from "../smtp/quarantine/store.ts";
import { REPORT_WORDS, type ReportLanguage, shownDate } from "./language.ts";
import { escapeHtml, oneLine } from "./text.ts";

/** What {@link composeDigest} needs. */
export interface DigestInput {
  domain: string;
  recipient: string;
  /** The recipient's held messages, newest first. */
  entries: readonly QuarantineEntry[];
  /** The release link of one entry (a signed URL). */
  link(entry: QuarantineEntry): string;
  /** IANA zone the dates are shown in (the domain's). */
  timezone: string;
  /** How often digests come, for the wording: `daily` or `weekly`. */
  frequency: "daily" | "weekly";
  /** The language it is written in (ReportSettings `language`); default `en`. */
  language?: ReportLanguage;
}

/**
 * Writes the digest in its language: a plain-text body and its HTML alternative. Senders and subjects come
 * from the held mail, that is from whoever sent it: both are flattened to one line and, in the HTML,
 * escaped, so a subject can neither add a line to the text nor markup or a link to the HTML.
 *
 * @example composeDigest({ domain: "example.com", recipient: "ana@example.com", entries, link: (e) => url(e), timezone: "UTC", frequency: "daily", language: "de" })
 */
export function composeDigest(input: DigestInput): Notice {
  const language = input.language ?? "en";
  const w = REPORT_WORDS[language];
  const n = input.entries.length;
  const rows = input.entries.map((e) => ({
    sender: oneLine(e.sender || w.nullSender),
    subject: oneLine(e.subject || w.noSubject),
    date: shownDate(e.receivedAt, input.timezone, language),
    expires: shownDate(e.expiresAt, input.timezone, language),
    score: e.score.toFixed(2),
    link: input.link(e),
  }));
  const intro = w.digestIntro(n, input.recipient);
  const title = w.digestTitle(input.frequency, input.domain);
  // The labels of the text part, padded to one width so the values line up.
  const width = Math.max(w.from.length, w.subject.length, w.date.length, w.release.length) + 2;
  const label = (l: string) => `${l}:`.padEnd(width);
  const text = [
    title,
    "",
    intro,
    "",
    ...rows.flatMap((r) => [
      `${label(w.from)}${r.sender}`,
      `${label(w.subject)}${r.subject}`,
      `${label(w.date)}${r.date} ${w.heldDetails(r.score, r.expires)}`,
      `${label(w.release)}${r.link}`,
      "",
    ]),
  ].join("\n");
  const html = [
    "<!doctype html>",
    `<html lang="${w.tag}"><head><meta charset="utf-8"><title>${escapeHtml(w.digestHeading)}</title></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(intro)}</p>`,
    '<table border="1" cellpadding="4" cellspacing="0">',
    `<thead><tr><th>${w.from}</th><th>${w.subject}</th><th>${w.date}</th><th>${w.score}</th><th></th></tr></thead><tbody>`,
    ...rows.map(
      (r) =>
        `<tr><td>${escapeHtml(r.sender)}</td><td>${escapeHtml(r.subject)}</td><td>${escapeHtml(r.date)}</td><td>${r.score}</td><td><a href="${escapeHtml(r.link)}">${w.release}</a></td></tr>`,
    ),
    "</tbody></table>",
    `<p>${escapeHtml(w.digestFooter)}</p>`,
    "</body></html>",
  ].join("\n");
  return { domain: input.domain, to: input.recipient, subject: w.digestSubject(n), text, html };
}
