/** Spam score of a message: a few explainable rules combined into one probability-like score (0–1). */
import type { ScanResult } from "./scan.ts";
import type { SpfVerdict } from "./spf.ts";

/** One rule that fired and its weight. */
export interface RuleHit {
  rule: string;
  score: number;
}

/** The combined score and the rules behind it (written to the evidence header, like "Combined (0.96)"). */
export interface Classification {
  score: number;
  hits: RuleHit[];
  /** Set when an external scanner scored the message: its own score and action (rspamd.ts). */
  scanner?: { name: "rspamd"; score: number; action: string };
}

/**
 * The rules. GTUBE is certain spam (SpamAssassin scores it 1000); the rest are weak signals that
 * only together reach the unsure band. Weights are per rule, 0–1.
 */
export const RULES = {
  /** The GTUBE test string: the sender asks to be classified as spam. */
  GTUBE: 1,
  /** RFC 7208 §8.5: softfail — "probably not authorized". */
  SPF_SOFTFAIL: 0.3,
  /** RFC 5322 §3.6: Date: is required. */
  MISSING_DATE: 0.05,
  /** RFC 5322 §3.6.4: Message-ID: SHOULD be present; bulk tools often omit it. */
  MISSING_MESSAGE_ID: 0.05,
  /** A subject of ten or more letters, none lower case. */
  SUBJECT_ALL_CAPS: 0.3,
} as const;

/**
 * Scores a scanned message. The combined score is 1 − Π(1 − wᵢ): independent weak signals add up
 * without ever exceeding 1, and one certain rule (GTUBE) makes it 1.
 *
 * @example classify(scan, { result: "pass" }).score // 0 for an ordinary message
 */
export function classify(scan: ScanResult, spf: SpfVerdict | null): Classification {
  const hits: RuleHit[] = [];
  if (scan.gtube) hits.push({ rule: "GTUBE", score: RULES.GTUBE });
  if (spf?.result === "softfail") hits.push({ rule: "SPF_SOFTFAIL", score: RULES.SPF_SOFTFAIL });
  if (!scan.headers.date) hits.push({ rule: "MISSING_DATE", score: RULES.MISSING_DATE });
  if (!scan.headers.messageId) hits.push({ rule: "MISSING_MESSAGE_ID", score: RULES.MISSING_MESSAGE_ID });
  const letters = (scan.headers.subject ?? "").replace(/[^\p{L}]/gu, "");
  if (letters.length >= 10 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) {
    hits.push({ rule: "SUBJECT_ALL_CAPS", score: RULES.SUBJECT_ALL_CAPS });
  }
  const keep = hits.reduce((acc, h) => acc * (1 - h.score), 1);
  // Four decimals: enough to compare with thresholds honestly (two missing headers, 0.0975, stay
  // below a 0.10 tag threshold) while shedding float noise (1 − 0.95² = 0.09750000000000003).
  return { score: Math.round((1 - keep) * 10_000) / 10_000, hits };
}
