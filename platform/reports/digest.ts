/** The quarantine digest: one user's held messages (sender, subject, date, score), each with a release link, as a notice. */
import type { Notice } from "../smtp/delivery/notice.ts";
import type { QuarantineEntry } from "../smtp/quarantine.ts";
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
}

/** A date in the domain's zone: `3 Dec 2026, 14:05`. */
function shownDate(iso: string, timezone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: timezone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(iso));
}

/**
 * Writes the digest (English): a plain-text body and its HTML alternative. Senders and subjects come
 * from the held mail, that is from whoever sent it: both are flattened to one line and, in the HTML,
 * escaped, so a subject can neither add a line to the text nor markup or a link to the HTML.
 *
 * @example composeDigest({ domain: "example.com", recipient: "ana@example.com", entries, link: (e) => url(e), timezone: "UTC", frequency: "daily" })
 */
export function composeDigest(input: DigestInput): Notice {
  const n = input.entries.length;
  const rows = input.entries.map((e) => ({
    sender: oneLine(e.sender || "(null sender)"),
    subject: oneLine(e.subject || "(no subject)"),
    date: shownDate(e.receivedAt, input.timezone),
    expires: shownDate(e.expiresAt, input.timezone),
    score: e.score.toFixed(2),
    link: input.link(e),
  }));
  const intro = `${n} message${n === 1 ? " is" : "s are"} held in the quarantine for ${input.recipient}. Release one with its link; the others are deleted when they expire.`;
  const text = [
    `Your ${input.frequency} quarantine digest (${input.domain})`,
    "",
    intro,
    "",
    ...rows.flatMap((r) => [
      `From:    ${r.sender}`,
      `Subject: ${r.subject}`,
      `Date:    ${r.date} (spam score ${r.score}; kept until ${r.expires})`,
      `Release: ${r.link}`,
      "",
    ]),
  ].join("\n");
  const html = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>Quarantine digest</title></head><body>',
    `<h1>Your ${input.frequency} quarantine digest (${escapeHtml(input.domain)})</h1>`,
    `<p>${escapeHtml(intro)}</p>`,
    '<table border="1" cellpadding="4" cellspacing="0">',
    "<thead><tr><th>From</th><th>Subject</th><th>Date</th><th>Score</th><th></th></tr></thead><tbody>",
    ...rows.map(
      (r) =>
        `<tr><td>${escapeHtml(r.sender)}</td><td>${escapeHtml(r.subject)}</td><td>${escapeHtml(r.date)}</td><td>${r.score}</td><td><a href="${escapeHtml(r.link)}">Release</a></td></tr>`,
    ),
    "</tbody></table>",
    "<p>A release link works once, for you only, until the message expires.</p>",
    "</body></html>",
  ].join("\n");
  return {
    domain: input.domain,
    to: input.recipient,
    subject: `Quarantine digest: ${n} held message${n === 1 ? "" : "s"}`,
    text,
    html,
  };
}
