/** The retry policy's pieces: Retry-After parsing, back-off, what is retried. */
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  isIdempotent,
  parseRetryAfter,
  shouldRetry,
} from "../../../../sdk/src/client/retry.ts";
import { MailplaneError } from "../../../../sdk/src/errors.ts";

const now = Date.parse("2025-01-01T00:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
  });

  it("reads an HTTP date, and a past date as no wait", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
  });

  it("ignores absent or unreadable values", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  const options = { minDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: false };

  it("doubles from 500 ms and caps at 30 s", () => {
    expect([0, 1, 2, 3, 10].map((r) => backoffDelay(r, options))).toEqual([500, 1000, 2000, 4000, 30_000]);
  });

  it("jitters within 50–100 % of the step", () => {
    expect(backoffDelay(1, { ...options, jitter: true }, () => 0)).toBe(500);
    expect(backoffDelay(1, { ...options, jitter: true }, () => 1)).toBe(1000);
  });
});

describe("what is retried", () => {
  it("treats GET/PUT/DELETE and keyed POSTs as idempotent, PATCH and bare POST not", () => {
    expect(["GET", "PUT", "DELETE"].map((m) => isIdempotent(m, false))).toEqual([true, true, true]);
    expect(isIdempotent("PATCH", false)).toBe(false);
    expect(isIdempotent("POST", false)).toBe(false);
    expect(isIdempotent("POST", true)).toBe(true);
  });

  it("retries 429 and 503 for any method, 502/504 and network failures only when idempotent", () => {
    expect(shouldRetry(new MailplaneError("MP_RATE_LIMITED"), false)).toBe(true);
    expect(shouldRetry(new MailplaneError("MP_UNAVAILABLE", "x", { status: 503 }), false)).toBe(true);
    expect(shouldRetry(new MailplaneError("MP_UNAVAILABLE", "x", { status: 502 }), false)).toBe(false);
    expect(shouldRetry(new MailplaneError("MP_UNAVAILABLE", "x", { status: 504 }), true)).toBe(true);
    expect(shouldRetry(new MailplaneError("MP_NETWORK"), false)).toBe(false);
    expect(shouldRetry(new MailplaneError("MP_TIMEOUT"), true)).toBe(true);
  });

  it("never retries client errors or a 500", () => {
    for (const code of [
      "MP_VALIDATION_FAILED",
      "MP_PRECONDITION_FAILED",
      "MP_NOT_FOUND",
      "MP_INTERNAL",
    ] as const) {
      expect(shouldRetry(new MailplaneError(code), true), code).toBe(false);
    }
  });
});
