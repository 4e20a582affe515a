/** DATA phase: the verdict on a received message — size, allow lists, SPF, line length, attachments, spam score. */
import type { DmarcOutcome } from "../content/auth.ts";
import { type Classification, classify } from "../content/classify.ts";
import { extensionOf, type ScanResult } from "../content/scan.ts";
import type { SpfVerdict } from "../content/spf.ts";
import type { DomainPolicy } from "../policy/snapshot.ts";
import { defer, type PhaseResult, type Refusal, reject } from "./result.ts";

/**
 * RFC 5321 §6.3: a message that has passed more relays than this is looping. The RFC asks for a
 * threshold of at least 100 Received: fields, so long legitimate relay chains are not cut.
 */
export const MAX_HOPS = 100;

/** How the log and the statistics classify a message. */
export type MessageClass =
  | "clean"
  | "unsure"
  | "spam"
  | "allowlisted"
  | "blocked-attachment"
  | "oversized"
  | "spf-fail"
  | "dmarc-fail"
  | "virus"
  | "rejected";

/** Header edits applied to every stored copy: fields to prepend and a subject prefix. */
export interface HeaderEdits {
  prepend: string[];
  subjectPrefix: string | null;
  /**
   * Authentication-Results fields claiming this authserv-id are removed from the message
   * (RFC 8601 §5: a forged result must not reach the recipient). Set only when one was seen.
   */
  stripAuthResults?: string;
}

/**
 * An accepted message's fate. `deliver` goes to its targets; `quarantine` is held for review.
 * `reply` is what the client hears: a quarantined message is still answered 5xx when the domain's
 * quarantine response is `reject` (SpamPanel's default), but it is stored either way.
 */
export interface Disposition {
  disposition: "deliver" | "quarantine";
  classification: MessageClass;
  reason: string;
  score: number;
  edits: HeaderEdits;
  reply: "accept" | Refusal;
}

/** The inputs of the verdict, all known once the message has been received. */
export interface DataInput {
  /** The domain policy of the transaction's recipients; null for authenticated submission to remote domains. */
  domain: DomainPolicy | null;
  /** Whether the recipients are filtered (false: allow-listed recipients/senders, or authenticated). */
  filtered: boolean;
  authenticated: boolean;
  sender: string;
  /** The transaction's recipient addresses (after domain-alias rewriting). */
  recipients: string[];
  remoteAddress: string;
  scan: ScanResult;
  /** Null when SPF was not checked (skipped, exempt, authenticated or allow-listed). */
  spf: SpfVerdict | null;
  /** Null when the message was not authenticated (submission, internal, allow-listed). */
  dmarc?: DmarcOutcome | null;
  /** The score of an external scanner (rspamd); absent or null: the built-in rules score the message. */
  classification?: Classification | null;
  /** The signature clamd found; absent or null: clean or not scanned. */
  virus?: string | null;
}

function quarantined(
  domain: DomainPolicy,
  classification: MessageClass,
  reason: string,
  score: number,
  edits: HeaderEdits,
): Disposition {
  const reply =
    domain.filter.quarantineResponse === "accept"
      ? "accept"
      : reject(550, "5.7.1", `Message rejected and quarantined: ${reason}`);
  return { disposition: "quarantine", classification, reason, score, edits, reply };
}

/**
 * The evidence header: `Combined (0.96); RULE=weight, …` for the built-in rules, and
 * `Combined (0.90); rspamd (15.00, reject); SYMBOL=score, …` when rspamd scored the message.
 */
function evidence(c: Classification): string {
  const rules = c.hits.map((h) => `${h.rule}=${h.score}`).join(", ");
  const scanner = c.scanner ? `; ${c.scanner.name} (${c.scanner.score.toFixed(2)}, ${c.scanner.action})` : "";
  return `X-Mailplane-Evidence: Combined (${c.score.toFixed(2)})${scanner}${rules ? `; ${rules}` : ""}`;
}

/**
 * Decides what happens to a received message. Order: hop count and Delivered-To loops (554 5.4.6) → the domain's size
 * limit (552 5.3.4 or quarantine) → allow-listed or authenticated: delivered as is → SPF fail
 * (550 5.7.23, RFC 7372) or temperror (451 4.7.24) → DMARC fail with the domain's policy honoured
 * (`dmarcPolicy: follow`): p=reject → 550 5.7.1, p=quarantine → quarantine → a virus found by clamd
 * (quarantine, classification `virus`) → line length (550 5.6.0) → blocked attachment
 * extension (quarantine) → spam score: at or above the quarantine threshold quarantined (or, with
 * the quarantine off, delivered tagged), at or above the tag threshold delivered with the unsure
 * notation. Every delivered copy carries `X-Recommended-Action: accept|reject` (SpamPanel).
 *
 * @example dataVerdict({ domain, filtered: true, authenticated: false, sender, remoteAddress, scan, spf })
 */
export function dataVerdict(input: DataInput): PhaseResult<Disposition> | Refusal {
  const { domain, scan } = input;
  if (scan.headers.received > MAX_HOPS) {
    return reject(
      554,
      "5.4.6",
      `Too many hops (${scan.headers.received} Received: fields), mail loop suspected`,
    );
  }
  // A Delivered-To: naming one of our recipients means the message already reached its mailbox
  // here once and came back (a forwarding loop across systems).
  const looped = input.recipients.find((r) => scan.headers.deliveredTo.includes(r));
  if (looped) return reject(554, "5.4.6", `Mail loop: message was already delivered to <${looped}>`);
  const edits: HeaderEdits = { prepend: [], subjectPrefix: null };
  if (input.spf?.header) edits.prepend.push(input.spf.header);
  if (domain && domain.filter.sizeLimitBytes > 0 && scan.size > domain.filter.sizeLimitBytes) {
    const reason = `message size ${scan.size} exceeds the limit of ${domain.filter.sizeLimitBytes} bytes`;
    if (domain.filter.oversizedAction === "reject") return reject(552, "5.3.4", `Message too big: ${reason}`);
    return { action: "accept", value: quarantined(domain, "oversized", reason, 0, edits) };
  }
  if (!domain || !input.filtered) {
    edits.prepend.push("X-Recommended-Action: accept");
    return {
      action: "accept",
      value: {
        disposition: "deliver",
        classification: input.authenticated ? "clean" : "allowlisted",
        reason: input.authenticated ? "authenticated submission" : "allow-listed",
        score: 0,
        edits,
        reply: "accept",
      },
    };
  }
  const f = domain.filter;
  if (input.spf?.result === "fail") {
    return reject(550, "5.7.23", `SPF validation failed for <${input.sender}> from ${input.remoteAddress}`);
  }
  if (input.spf?.result === "temperror") {
    return defer(451, "4.7.24", "SPF validation error (temporary DNS failure), try again later");
  }
  // RFC 7489 §6.7: the Domain Owner's policy for mail failing DMARC, unless the domain opted out.
  const dmarc = input.dmarc;
  // A trusted ARC sealer's dmarc=pass (RFC 8617 §7.2) lifts the policy: the failure is recorded only.
  if (
    dmarc?.result === "fail" &&
    f.dmarcPolicy === "follow" &&
    dmarc.policy !== "none" &&
    !dmarc.trustedSealer
  ) {
    const reason = `DMARC policy of ${dmarc.fromDomain} (p=${dmarc.policy}): From: not authenticated`;
    if (dmarc.policy === "reject") return reject(550, "5.7.1", `Message rejected: ${reason}`, "dmarc");
    edits.prepend.push("X-Recommended-Action: reject");
    return { action: "accept", value: quarantined(domain, "dmarc-fail", reason, 0, edits) };
  }
  // A virus is held whatever the spam score and whether or not the quarantine is enabled (like a
  // blocked attachment); the client hears 550 5.7.1 unless the domain's quarantine response is accept.
  if (input.virus) {
    // The name goes into a header field and the SMTP reply: printable ASCII only, no line breaks.
    const name = input.virus.replace(/[^\x21-\x7e]/g, "?");
    edits.prepend.push(`X-Mailplane-Virus: ${name}`, "X-Recommended-Action: reject");
    return { action: "accept", value: quarantined(domain, "virus", `virus ${name}`, 0, edits) };
  }
  if (!f.skipLineLengthCheck && scan.overlongLine > 0) {
    return reject(
      550,
      "5.6.0",
      `Line too long (${scan.overlongLine} characters; RFC 5322 section 2.1.1 allows 998)`,
    );
  }
  const score = input.classification ?? classify(scan, input.spf);
  edits.prepend.push(evidence(score));
  const blocked = scan.attachments.find((name) => f.blockedExtensions.has(extensionOf(name)));
  if (blocked !== undefined) {
    edits.prepend.push("X-Recommended-Action: reject");
    return {
      action: "accept",
      value: quarantined(
        domain,
        "blocked-attachment",
        `blocked attachment type .${extensionOf(blocked)}`,
        score.score,
        edits,
      ),
    };
  }
  if (score.score >= f.quarantineThreshold) {
    edits.prepend.push("X-Recommended-Action: reject");
    if (f.quarantineEnabled) {
      return {
        action: "accept",
        value: quarantined(domain, "spam", `spam score ${score.score.toFixed(2)}`, score.score, edits),
      };
    }
    // Quarantine off: spam is delivered, marked like unsure mail so the recipient's client can sort it.
    if (f.unsureSubjectNotation) edits.subjectPrefix = f.unsureSubjectNotation;
    return {
      action: "accept",
      value: {
        disposition: "deliver",
        classification: "spam",
        reason: "spam, quarantine disabled",
        score: score.score,
        edits,
        reply: "accept",
      },
    };
  }
  edits.prepend.push("X-Recommended-Action: accept");
  if (score.score >= f.tagThreshold) {
    if (f.unsureSubjectNotation) edits.subjectPrefix = f.unsureSubjectNotation;
    return {
      action: "accept",
      value: {
        disposition: "deliver",
        classification: "unsure",
        reason: "unsure",
        score: score.score,
        edits,
        reply: "accept",
      },
    };
  }
  return {
    action: "accept",
    value: {
      disposition: "deliver",
      classification: "clean",
      reason: "clean",
      score: score.score,
      edits,
      reply: "accept",
    },
  };
}
