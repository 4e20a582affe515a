/** MAIL FROM of an authenticated user: the per-sender message rate limit (a token bucket per user). */
import { RateLimiter } from "../../api/http/rate-limit.ts";
import { accept, defer, type PhaseResult } from "./result.ts";

/** A sender rate: `messages` per `seconds`, at once up to `messages`. */
export interface SenderRate {
  messages: number;
  seconds: number;
}

/** 300 messages per hour per authenticated user: a person never meets it, a stolen password's spam run does. */
export const DEFAULT_SENDER_RATE: SenderRate = { messages: 300, seconds: 3600 };

/**
 * Messages per authenticated user, counted at MAIL FROM on the submission listener (unauthenticated
 * inbound mail is bounded by the connection caps instead). Per engine process.
 *
 * @example
 * const limit = new SenderRateLimit({ messages: 3, seconds: 60 });
 * senderRate(limit, "alice@example.com") // accept, three times; then 450 4.7.1
 */
export class SenderRateLimit {
  readonly rate: SenderRate;
  readonly #buckets: RateLimiter;

  /** @param now clock in ms; default `performance.now()` */
  constructor(rate: SenderRate = DEFAULT_SENDER_RATE, now?: () => number) {
    this.rate = rate;
    this.#buckets = new RateLimiter({ burst: rate.messages, perSecond: rate.messages / rate.seconds }, now);
  }

  /** Takes one message for `user`: 0 when allowed, else the whole seconds until the next one. */
  take(user: string): number {
    return this.#buckets.take(user.toLowerCase());
  }
}

/** Admits one more message from `user`, or 450 4.7.1 (RFC 3463 X.7.1: delivery not authorized, for now). */
export function senderRate(limit: SenderRateLimit, user: string): PhaseResult<undefined> {
  const wait = limit.take(user);
  if (wait === 0) return accept(undefined);
  const { messages, seconds } = limit.rate;
  return defer(
    450,
    "4.7.1",
    `Too many messages from ${user} (at most ${messages} per ${seconds} s), try again in ${wait} s`,
  );
}
