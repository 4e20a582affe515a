/** What every SMTP phase returns: accept, reject (5xx) or defer (4xx), each with an RFC 3463 enhanced code. */

/**
 * A phase's verdict. `reject` is permanent (5xx: the client must not retry), `defer` is transient
 * (4xx: the client retries later, RFC 5321 §4.2.1). `enhanced` is the RFC 3463 status code sent
 * before the text, e.g. `5.7.1`. Phases never build reply lines themselves: the server turns a
 * result into the reply in one place (listener.ts), so the wording rules live there.
 */
export type PhaseResult<T = undefined> =
  | { action: "accept"; value: T }
  | { action: "reject"; code: number; enhanced: string; message: string; tag?: RefusalTag }
  | { action: "defer"; code: number; enhanced: string; message: string; tag?: RefusalTag };

/** Why a refusal happened, for the message log and statistics (never shown to the client). */
export type RefusalTag = "blocked" | "unknown-recipient" | "relay" | "policy" | "dmarc";

/** A refusal (5xx or 4xx) of any phase. */
export type Refusal = Extract<PhaseResult<unknown>, { action: "reject" | "defer" }>;

/** @example accept({ user: "alice@example.com" }) */
export function accept<T>(value: T): PhaseResult<T> {
  return { action: "accept", value };
}

/**
 * A permanent refusal. The code must be 5xx and the enhanced code class 5.
 * @example reject(550, "5.7.1", "relay denied")
 */
export function reject(code: number, enhanced: string, message: string, tag?: RefusalTag): Refusal {
  if (code < 500 || code > 599 || !enhanced.startsWith("5.")) {
    throw new Error(`reject needs a 5xx code and a 5.x.x enhanced code, got ${code} ${enhanced}`);
  }
  return tag
    ? { action: "reject", code, enhanced, message, tag }
    : { action: "reject", code, enhanced, message };
}

/**
 * A transient refusal. The code must be 4xx and the enhanced code class 4.
 * @example defer(451, "4.7.24", "SPF check failed temporarily")
 */
export function defer(code: number, enhanced: string, message: string): Refusal {
  if (code < 400 || code > 499 || !enhanced.startsWith("4.")) {
    throw new Error(`defer needs a 4xx code and a 4.x.x enhanced code, got ${code} ${enhanced}`);
  }
  return { action: "defer", code, enhanced, message };
}

/** True for reject and defer results. */
export function isRefusal<T>(result: PhaseResult<T>): result is Refusal {
  return result.action !== "accept";
}

/** The reply line of a refusal as a client sees it: `550 5.7.1 relay denied`. */
export function replyLine(result: Refusal): string {
  return `${result.code} ${result.enhanced} ${result.message}`;
}
