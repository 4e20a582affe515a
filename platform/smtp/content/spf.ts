/** SPF (RFC 7208) through mailauth, with an injectable DNS resolver so tests and offline machines decide the answers. */
import { spf } from "mailauth/lib/spf/index.js";

/** mailauth's resolver contract: `(name, rrtype) → answers`, rejecting with `code` ENOTFOUND/ENODATA for none. */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown[]>;

/** RFC 7208 §2.6 results. */
export type SpfResult = "pass" | "fail" | "softfail" | "neutral" | "none" | "temperror" | "permerror";

/** The outcome and the Received-SPF header (RFC 7208 §9.1) to prepend. */
export interface SpfVerdict {
  result: SpfResult;
  header?: string;
  /** The `spf=…` clause for Authentication-Results (RFC 8601 §2.7.2). */
  info?: string;
  /** The domain that was checked (MAIL FROM's, or HELO's for the null sender): DMARC aligns it with From:. */
  domain?: string;
}

/** A resolver that knows no names: every SPF check is `none`. For machines without DNS. */
export const NO_DNS: DnsResolver = async () => {
  throw NOT_FOUND;
};
/** One shared error: building a stack trace per lookup cost more than the SPF check itself. */
const NOT_FOUND = Object.assign(new Error("no DNS"), { code: "ENOTFOUND" });

/**
 * A resolver answering from a table, `"TXT example.net": [["v=spf1 ip4:192.0.2.1 -all"]]`; other
 * names do not exist. mailauth expects TXT answers as arrays of strings (as node:dns returns them).
 *
 * @example tableResolver({ "TXT example.net": [["v=spf1 -all"]] })
 */
export function tableResolver(records: Record<string, unknown[]>): DnsResolver {
  return async (name, rrtype) => {
    const answer = records[`${rrtype.toUpperCase()} ${name.toLowerCase()}`];
    if (answer) return answer;
    const err = new Error(`${rrtype} ${name}: not found`) as Error & { code: string };
    err.code = "ENOTFOUND";
    throw err;
  };
}

/**
 * Checks the envelope sender's SPF record for the client IP. With the null sender the HELO
 * identity is checked instead (RFC 7208 §2.4). Evaluation is capped at `maxElapsedMs`
 * (RFC 7208 §4.6.4: a time limit yields temperror).
 *
 * @example await checkSpf({ sender: "bob@example.net", ip: "192.0.2.1", helo: "mx.example.net", mta: "mx.test", resolver })
 */
export async function checkSpf(input: {
  sender: string;
  ip: string;
  helo: string;
  mta: string;
  resolver: DnsResolver;
  maxElapsedMs?: number;
}): Promise<SpfVerdict> {
  const helo = input.helo || "unknown";
  try {
    const out = await spf({
      sender: input.sender || `postmaster@${helo}`,
      ip: input.ip,
      helo,
      mta: input.mta,
      resolver: input.resolver as never,
      maxElapsedTime: input.maxElapsedMs ?? 10_000,
    });
    const result = (out.status?.result ?? "none") as SpfResult;
    const { header, info, domain } = out as { header?: string; info?: string; domain?: string };
    return {
      result,
      ...(header ? { header } : {}),
      ...(info ? { info } : {}),
      ...(domain ? { domain } : {}),
    };
  } catch {
    return { result: "temperror" };
  }
}

/**
 * Remembers SPF verdicts per (client IP, envelope sender, HELO) for a short time, the way a caching
 * resolver would remember the DNS answers they came from: a client sending many messages does not
 * pay a full evaluation for each. Temporary errors are never cached.
 *
 * @example
 * const cache = new SpfCache();
 * const verdict = await cache.check(input); // evaluates once, then answers from memory for 60 s
 */
export class SpfCache {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, { verdict: SpfVerdict; until: number }>();

  /** @param ttlMs how long a verdict is reused; default 60,000. @param max entries kept; default 10,000. */
  constructor(ttlMs = 60_000, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  async check(input: Parameters<typeof checkSpf>[0], now = Date.now()): Promise<SpfVerdict> {
    const key = `${input.ip}\n${input.sender}\n${input.helo}`;
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.verdict;
    const verdict = await checkSpf(input);
    if (verdict.result !== "temperror") {
      if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.delete(key);
      this.#entries.set(key, { verdict, until: now + this.#ttlMs });
    }
    return verdict;
  }
}
