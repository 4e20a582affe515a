/** The client's options and their defaults, written out with units. */
import type { Dispatcher } from "undici";
import type { MailplaneError } from "../errors.ts";
import type { ManagedBy } from "../models/managed-by.ts";

/** How failed requests are retried. Per-request options override the client's. */
export interface RetryOptions {
  /**
   * Retries after the first attempt. Default 10: with the back-off below, the 60 s budget is what
   * normally ends a run of failures (enough to ride out a 10 s database restart).
   */
  maxRetries: number;
  /** Back-off before the first retry, in ms. Default 500 ms. */
  minDelayMs: number;
  /** Longest back-off between attempts, in ms (a server's Retry-After may ask for longer). Default 30 s. */
  maxDelayMs: number;
  /** Growth of the back-off per retry. Default 2. */
  factor: number;
  /** Randomise each back-off within [50 %, 100 %] so clients do not retry in lockstep. Default true. */
  jitter: boolean;
  /**
   * The retry budget: total time one call may take across attempts and waits, in ms. A retry whose
   * wait would end beyond it is not made; the last error is thrown. Default 60 s.
   */
  budgetMs: number;
}

/** What {@link ClientOptions.onRetry} is told before each back-off wait. */
export interface RetryEvent {
  /** The request's method and path (without the query). */
  method: string;
  path: string;
  /** The failure being retried (match on `code`: MP_UNAVAILABLE, MP_RATE_LIMITED, MP_NETWORK…). */
  error: MailplaneError;
  /** 1 for the first retry. */
  retry: number;
  /** The wait before it, in ms: the back-off, or the server's Retry-After when that is longer. */
  delayMs: number;
  /** Time spent on this call so far, and the budget it may use, in ms. */
  elapsedMs: number;
  budgetMs: number;
}

/** Time, injectable so tests need no real waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Options of a {@link MailplaneClient}. */
export interface ClientOptions {
  /** Base URL of the control plane, e.g. `http://127.0.0.1:8080`. */
  endpoint: string;
  /** API token (`Authorization: Bearer …`); omit for the public endpoints only. */
  token?: string;
  /** For platform-admin tokens: the account to act on (`Mailplane-Account`). */
  account?: string;
  /** Time one attempt may take until its response is complete, in ms. Default 30 s. */
  timeoutMs?: number;
  /** Retry policy; see {@link RetryOptions} for the defaults. */
  retry?: Partial<RetryOptions>;
  /**
   * The undici dispatcher to use. Default: the client's own keep-alive `Agent` (up to 16
   * connections per origin, idle sockets kept 4 s), closed by `client.close()`.
   */
  dispatcher?: Dispatcher;
  /** `User-Agent` header. Default `mailplane-sdk`. */
  userAgent?: string;
  /** Clock for back-off waits and the retry budget. Default real time. */
  clock?: Clock;
  /**
   * Told before each retry's wait, e.g. to show progress (the Pulumi provider logs it as info). A
   * throwing callback does not stop the retry. Default: nothing.
   * @example onRetry: (e) => console.log(`${e.method} ${e.path}: ${e.error.code}, retry ${e.retry} in ${e.delayMs} ms`)
   */
  onRetry?: (event: RetryEvent) => void;
}

/** Per-call options. */
export interface RequestOptions {
  /** Overrides the client's timeout for this call, in ms. */
  timeoutMs?: number;
  /** Overrides parts of the client's retry policy for this call (`{ maxRetries: 0 }` disables retries). */
  retry?: Partial<RetryOptions>;
  /** Cancels the call, including any back-off wait. */
  signal?: AbortSignal;
  /** `If-Match`: the etag you last read; the server answers 412 MP_PRECONDITION_FAILED if it changed. */
  ifMatch?: string;
  /**
   * `If-None-Match: *` on a PUT: create only. The server answers 412 MP_PRECONDITION_FAILED, and
   * changes nothing, when the object already exists (RFC 9110 §13.1.2).
   * @example await client.domains.put({ name: "example.com" }, { ifNoneMatch: "*" })
   */
  ifNoneMatch?: "*";
  /**
   * `Idempotency-Key` for creates; generated when a POST or an `ifNoneMatch` PUT has none, so a
   * retried create answers what its first attempt did (not 412 for the object that attempt created).
   */
  idempotencyKey?: string;
  /** Overrides the client's `Mailplane-Account` for this call. */
  account?: string;
  /**
   * `Mailplane-Managed-By`: stamps what this write writes as declared by that stack (the Pulumi
   * provider sends it on every create and update). Default none: the stored stamp stays.
   * @example await client.request("PATCH", path, { body, managedBy: { tool: "pulumi", project: "mail", stack: "prod" } })
   */
  managedBy?: ManagedBy;
}

/** Options of a raw {@link MailplaneClient.request}. */
export interface RawRequest extends RequestOptions {
  /** JSON body. */
  body?: unknown;
  /** A raw body instead (a spam report's .eml): its bytes and media type. */
  rawBody?: { mediaType: string; bytes: Uint8Array };
  /** Query parameters (strings, numbers, booleans); undefined values are left out. */
  query?: object;
}

/**
 * Retry defaults (the shape of undici's retry interceptor: 500 ms → 30 s, factor 2), with up to 10
 * retries within a 60 s budget.
 */
export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  maxRetries: 10,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: true,
  budgetMs: 60_000,
};

/** Per-attempt timeout: 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Idle keep-alive sockets are closed after 4 s (below common server idle timeouts of 5 s). */
export const DEFAULT_KEEP_ALIVE_MS = 4_000;
/** Connections per origin. */
export const DEFAULT_CONNECTIONS = 16;
/** TCP connect timeout: 10 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The real clock: `Date.now` and a timer that an AbortSignal cancels. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
