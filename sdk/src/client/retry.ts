/** The retry policy: which failures are retried, how long to wait (Retry-After or back-off), and the budget. */
import type { MailplaneError } from "../errors.ts";
import type { Clock, RetryEvent, RetryOptions } from "./options.ts";

/** Methods that are safe to repeat after a failure whose effect is unknown (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/**
 * True when repeating the request cannot apply it twice: idempotent methods, and POSTs carrying an
 * Idempotency-Key (the server returns the first answer to a repeat).
 */
export function isIdempotent(method: string, hasIdempotencyKey: boolean): boolean {
  return IDEMPOTENT.has(method.toUpperCase()) || (method.toUpperCase() === "POST" && hasIdempotencyKey);
}

/**
 * Whether a failed attempt may be retried. 429 and 503 mean the server did not act, so any method
 * is retried; a lost connection, a timeout or a 502/504 leaves the outcome unknown, so only
 * idempotent requests are. Nothing else is retried (a 500 is a bug; 4xx need a different request).
 */
export function shouldRetry(error: MailplaneError, idempotent: boolean): boolean {
  if (error.code === "MP_RATE_LIMITED" || error.code === "MP_UNAVAILABLE") {
    return error.status === 429 || error.status === 503 || idempotent;
  }
  if (error.code === "MP_NETWORK" || error.code === "MP_TIMEOUT") return idempotent;
  return false;
}

/**
 * Parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. Returns milliseconds
 * (never negative) or undefined when absent or unreadable.
 * @example parseRetryAfter("3", Date.now()) // 3000
 * @example parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now) // ms until then, or 0 if past
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names a weekday or month; without letters Date.parse would accept "-5" as a year.
  const at = /[A-Za-z]/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The back-off before retry number `retry` (0 for the first): minDelay × factor^retry, capped at
 * maxDelay, with jitter in [50 %, 100 %] of that.
 * @example backoffDelay(2, { minDelayMs: 500, factor: 2, maxDelayMs: 30_000, jitter: false }) // 2000
 */
export function backoffDelay(
  retry: number,
  options: Pick<RetryOptions, "minDelayMs" | "maxDelayMs" | "factor" | "jitter">,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** retry);
  return options.jitter ? Math.round(base * (0.5 + random() / 2)) : base;
}

/** What {@link runWithRetry} needs besides the attempt itself. */
export interface RetryContext {
  options: RetryOptions;
  idempotent: boolean;
  clock: Clock;
  signal?: AbortSignal | undefined;
  /** Told before each wait; `method` and `path` are added from here. */
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** The request, for `onRetry`. */
  request?: { method: string; path: string };
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, `maxRetries` are used up or the
 * next wait would overrun the budget; then throws the last error. Each wait is the exponential
 * back-off, or the server's Retry-After when that is longer (RFC 9110 §10.2.3: not sooner than it
 * asks; `retryAfterMs` keeps its millisecond precision): a server that keeps asking for 2 s still
 * sees the waits grow.
 */
export async function runWithRetry<T>(attempt: () => Promise<T>, context: RetryContext): Promise<T> {
  const { options, clock } = context;
  const started = clock.now();
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      const error = err as MailplaneError & { retryAfterMs?: number };
      if (typeof error?.code !== "string" || !shouldRetry(error, context.idempotent)) throw err;
      if (retry >= options.maxRetries) throw err;
      const wait = Math.max(error.retryAfterMs ?? 0, backoffDelay(retry, options));
      const elapsed = clock.now() - started;
      if (elapsed + wait > options.budgetMs) throw err;
      try {
        context.onRetry?.({
          method: context.request?.method ?? "",
          path: context.request?.path ?? "",
          error,
          retry: retry + 1,
          delayMs: wait,
          elapsedMs: elapsed,
          budgetMs: options.budgetMs,
        });
      } catch {
        // Progress reporting must not change the outcome of the call.
      }
      await clock.sleep(wait, context.signal);
    }
  }
}
