/** A per-token token bucket: bursts up to `burst` requests, refilled at `perSecond`; over it → 429 + Retry-After. */

/** Rate-limit settings. */
export interface RateLimitOptions {
  /** Requests a token may make at once; default 1,000. */
  burst: number;
  /** Requests per second a token earns back; default 200. */
  perSecond: number;
}

/** Generous defaults: interactive use and test suites never notice them; a runaway loop does. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 1000, perSecond: 200 };

/** Buckets of tokens per key; idle buckets are dropped once full again, so memory follows active keys. */
export class RateLimiter {
  readonly policy: string;
  private readonly burst: number;
  private readonly perMs: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweeps = 0;

  /**
   * @param now a monotonic clock in ms; default `performance.now()`
   * @example const limiter = new RateLimiter({ burst: 10, perSecond: 5 }); limiter.take("tok_1") // 0
   */
  constructor(options: RateLimitOptions, now: () => number = () => performance.now()) {
    if (!(options.burst >= 1) || !(options.perSecond > 0))
      throw new Error("rate limit: burst ≥ 1 and perSecond > 0");
    this.burst = options.burst;
    this.perMs = options.perSecond / 1000;
    this.now = now;
    // draft-ietf-httpapi-ratelimit-headers: quota per window in seconds.
    this.policy = `${options.burst};w=${Math.ceil(options.burst / options.perSecond)}`;
  }

  /** Takes one request for `key`: 0 when allowed, else the whole seconds to wait (≥ 1) for the next one. */
  take(key: string): number {
    const t = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (t - bucket.at) * this.perMs);
    bucket.at = t;
    this.buckets.set(key, bucket);
    if (++this.sweeps % 10_000 === 0) this.sweep(t);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  private sweep(t: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (t - b.at) * this.perMs >= this.burst) this.buckets.delete(key);
    }
  }
}
