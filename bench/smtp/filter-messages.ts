/** The "full filter" row's message set: two clean and two spammy messages, written by the bench (no corpus download). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RECIPIENT } from "./fixture.ts";

/**
 * The messages, each sent by its own smtp-source with a quarter of the sessions. With the bench's
 * rspamd (generated config, no network lookups) the clean ones score about 1 (no action) and the
 * spammy ones about 9 ("add header"): mailplane maps that to ~0.37, between its default tag (0.10)
 * and quarantine (0.90) thresholds, so both servers accept and tag them — no message is refused,
 * and both store every message.
 */
export const FILTER_MESSAGES: readonly { name: string; kind: "clean" | "spammy"; text: string }[] = [
  {
    name: "clean-minutes",
    kind: "clean",
    text: [
      "From: Ana Lima <ana@partner.example>",
      `To: ${RECIPIENT}`,
      "Subject: Minutes of Tuesday's planning meeting",
      "Date: Thu, 03 Dec 2026 09:12:44 +0000",
      "Message-ID: <minutes-20261203@partner.example>",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      "Hi all,",
      "",
      "Thanks for joining on Tuesday. A short summary of what we agreed:",
      "",
      "1. The migration of the billing service moves to the week of the 14th, after",
      "   the freeze. Rui owns the runbook and will circulate a draft by Friday.",
      "2. We keep the old reporting job running in parallel for two weeks and compare",
      "   the totals every morning; any difference above one cent goes to the channel.",
      "3. The on-call rotation for December is in the shared calendar. Swap requests",
      "   go to Marta before the 10th, please.",
      "",
      "Open questions: whether the archive export needs the 2019 records (Joana is",
      "checking with legal) and who reviews the new alert thresholds.",
      "",
      "The next meeting is on the 15th at 10:00, same room.",
      "",
      "Best regards,",
      "Ana",
    ].join("\n"),
  },
  {
    name: "clean-newsletter",
    kind: "clean",
    text: [
      "From: Library Newsletter <news@library.example>",
      `To: ${RECIPIENT}`,
      "Subject: December at the library: opening hours and new arrivals",
      "Date: Thu, 03 Dec 2026 08:00:00 +0000",
      "Message-ID: <news-2026-12@library.example>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "December opening hours: weekdays 9:00-19:00, Saturdays 10:00-14:00, closed",
      "on the 25th and 26th. New arrivals this month include three titles on local",
      "history and the complete works of the poet we read in the autumn circle.",
      "The reading circle meets on the 11th; details at https://library.example/circle",
      "",
      "--b1",
      "Content-Type: text/html; charset=utf-8",
      "",
      "<html><body><h1>December at the library</h1>",
      "<p>December opening hours: weekdays 9:00-19:00, Saturdays 10:00-14:00, closed",
      "on the 25th and 26th.</p><p>New arrivals this month include three titles on local",
      "history and the complete works of the poet we read in the autumn circle.</p>",
      '<p>The reading circle meets on the 11th: <a href="https://library.example/circle">details</a>.</p>',
      "</body></html>",
      "",
      "--b1--",
    ].join("\n"),
  },
  {
    name: "spammy-prize",
    kind: "spammy",
    text: [
      'From: "BEST OFFERS" <promo@deals-winner.example>',
      `To: ${RECIPIENT}`,
      "Subject: URGENT!!! YOU HAVE WON $1,000,000 - CLAIM YOUR PRIZE NOW!!!",
      "Date: Thu, 03 Dec 2026 09:12:44 +0000",
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=us-ascii",
      "",
      "<html><body><font size=7 color=red>CONGRATULATIONS!!! YOU ARE A WINNER!!!</font>",
      "<p>Dear Friend, you have been selected to receive $1,000,000 cash prize. 100% FREE, no obligation!",
      "Act now! Limited time offer! Click here to claim your prize:",
      '<a href="http://bit.ly/claim-prize">http://www.paypal.com/verify</a>',
      "<p>Cheap watches, make money fast working from home, lose weight now!!!",
      "<p>Send your bank account details to receive your wire transfer.",
      '<p>To unsubscribe click <a href="http://198.51.100.7/remove.php?id=1">here</a>.',
      "</body></html>",
    ].join("\n"),
  },
  {
    name: "spammy-account",
    kind: "spammy",
    text: [
      'From: "Account Security" <security@acc0unt-verify.example>',
      `To: ${RECIPIENT}`,
      "Subject: FINAL NOTICE: YOUR ACCOUNT WILL BE SUSPENDED!!!",
      "Date: Thu, 03 Dec 2026 07:30:00 +0000",
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=us-ascii",
      "",
      "<html><body><p><b>Dear Customer,</b></p>",
      "<p>We detected unusual activity. Your account WILL BE SUSPENDED within 24 hours!!!",
      'Verify your password and card number now: <a href="http://203.0.113.50/login.php">https://www.bank.example/secure</a></p>',
      "<p>Guaranteed 100% secure. Act now, do not delay! FREE gift card for every verified customer!!!</p>",
      '<p><a href="http://203.0.113.50/unsubscribe.php">Unsubscribe</a></p>',
      "</body></html>",
    ].join("\n"),
  },
];

/** Writes the message set into `dir` (one .eml each) and returns the files with their kind. */
export function writeFilterMessages(dir: string): { name: string; kind: string; path: string }[] {
  return FILTER_MESSAGES.map((m) => {
    const path = join(dir, `${m.name}.eml`);
    writeFileSync(path, `${m.text}\n`);
    return { name: m.name, kind: m.kind, path };
  });
}
