/** The message a probe sends: marked by header and subject, plain ASCII, with Date and Message-ID so it scores as clean. */
import type { Probe } from "./probes.ts";

/** The header that marks every probe message; its value is the probe's token. */
export const PROBE_HEADER = "X-Mailplane-Probe";
/** The subject prefix of every probe message (with the token, so the log can be searched for it). */
export const SUBJECT_PREFIX = "[mailplane verify";

/** SpamAssassin's Generic Test for Unsolicited Bulk Email: every filter classifies it as spam. */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/** The probe's subject: `[mailplane verify mpv-k3x9a2-p1] user alice@example.com receives`. */
export function probeSubject(probe: Pick<Probe, "token" | "checks">): string {
  // Headers stay ASCII (RFC 5322 §2.2) without encoded words: the checks' arrow becomes "->".
  return `${SUBJECT_PREFIX} ${probe.token}] ${probe.checks.replace(/→/g, "->").replace(/[^\x20-\x7e]/g, "?")}`;
}

/**
 * The RFC 5322 message of a probe. A Date and a Message-ID keep ordinary probes clean (their absence
 * scores as spam signals); the quarantine probe adds the GTUBE line.
 * @example probeMessage(probe, new Date())
 */
export function probeMessage(probe: Probe, date: Date): string {
  const domain = probe.from.slice(probe.from.lastIndexOf("@") + 1) || "verify.mailplane.invalid";
  return [
    `From: mailplane verify <${probe.from}>`,
    `To: <${probe.to}>`,
    `Subject: ${probeSubject(probe)}`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${probe.token}@${domain}>`,
    `${PROBE_HEADER}: ${probe.token}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This message is a probe sent by `mailplane verify`, which checks that the mail platform",
    "does what the tenancy declares. It can be deleted; nobody needs to answer it.",
    "",
    `Probe ${probe.id}: ${probe.checks}.`,
    ...(probe.gtube ? ["", "The next line asks spam filters to classify this message as spam:", GTUBE] : []),
    "",
  ].join("\n");
}
