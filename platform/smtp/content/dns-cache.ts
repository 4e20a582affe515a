/** A DNS answer cache in front of the engine's resolver for the lookups of inbound authentication (SPF, DKIM keys, DMARC records, ARC keys): bounded lifetime, bounded size, short negative caching. */
import type { DnsResolver } from "./spf.ts";

/** Settings of a {@link DnsCache}. */
export interface DnsCacheOptions {
  /** Entries kept at most; the least recently used goes first. Default 10,000. */
  maxEntries?: number;
  /** How long an answer is reused, ms. Default 300,000 (5 min). */
  ttlMs?: number;
  /** How long "no such name" / "no such record" (ENOTFOUND, ENODATA) is reused, ms; never longer than `ttlMs`. Default 60,000. */
  negativeTtlMs?: number;
  now?: () => number;
}

/** Errors that say the name or record does not exist (RFC 2308 negative answers); other failures are not cached. */
const NEGATIVE = new Set(["ENOTFOUND", "ENODATA"]);

interface Entry {
  until: number;
  answer?: unknown[];
  error?: unknown;
}

/**
 * Caches answers of a {@link DnsResolver} by record type and (case-insensitive) name. node:dns does
 * not report TXT records' TTLs, so every answer is held for the same bounded time (`ttlMs`) — a
 * record changed by its owner is seen at most that late. Answers that a name or record does not
 * exist are held for `negativeTtlMs` (short: a record just published should be found soon);
 * temporary failures (SERVFAIL, timeouts) are never held, so they are asked again. Lookups of one
 * key that overlap share one question. The size is capped: a flood of distinct names (every
 * spammer's domain) evicts the least recently used entries instead of growing memory.
 *
 * @example
 * const cache = new DnsCache(systemResolver, { maxEntries: 10_000 });
 * await cache.resolver("_dmarc.example.com", "TXT"); // asks DNS once, then answers from memory
 */
export class DnsCache {
  readonly #upstream: DnsResolver;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<unknown[]>>();

  constructor(upstream: DnsResolver, opts: DnsCacheOptions = {}) {
    this.#upstream = upstream;
    this.#max = Math.max(1, opts.maxEntries ?? 10_000);
    this.#ttlMs = opts.ttlMs ?? 300_000;
    this.#negativeTtlMs = Math.min(opts.negativeTtlMs ?? 60_000, this.#ttlMs);
    this.#now = opts.now ?? Date.now;
  }

  /** Entries held now (expired ones included until they are looked up or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached resolver, to hand where a {@link DnsResolver} is expected. */
  readonly resolver: DnsResolver = (name, rrtype) => {
    const key = `${rrtype.toUpperCase()} ${name.toLowerCase()}`;
    const hit = this.#entries.get(key);
    if (hit && hit.until > this.#now()) {
      // Least recently used goes first: a hit moves to the end.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.answer ? Promise.resolve(hit.answer.slice()) : Promise.reject(hit.error);
    }
    if (hit) this.#entries.delete(key);
    const pending = this.#inflight.get(key);
    if (pending) return pending.then((answer) => answer.slice());
    const asked = this.#upstream(name, rrtype).then(
      (answer) => {
        this.#store(key, { until: this.#now() + this.#ttlMs, answer });
        return answer;
      },
      (error: unknown) => {
        const code = (error as { code?: string } | null)?.code;
        if (code !== undefined && NEGATIVE.has(code)) {
          this.#store(key, { until: this.#now() + this.#negativeTtlMs, error });
        }
        throw error;
      },
    );
    this.#inflight.set(key, asked);
    const done = () => this.#inflight.delete(key);
    asked.then(done, done);
    return asked.then((answer) => answer.slice());
  };

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, entry);
  }
}
