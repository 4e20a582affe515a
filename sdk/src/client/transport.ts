/** One HTTP attempt over undici: headers, JSON body, the attempt's timeout, and the response read in full. */
import { type Dispatcher, request } from "undici";
import { MailplaneError } from "../errors.ts";
import { errorFromException, errorFromResponse } from "./problem.ts";

/** One attempt to send. */
export interface Attempt {
  method: Dispatcher.HttpMethod;
  /** Absolute URL. */
  url: string;
  /** The path (for messages and `instance`). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal;
  dispatcher: Dispatcher;
  now(): number;
}

/** A successful response: status, headers and the parsed JSON body (undefined when empty). */
export interface Success {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * Sends one attempt and reads the whole response. 2xx resolves; anything else rejects with a
 * MailplaneError (problem mapping), as does a transport failure (MP_NETWORK / MP_TIMEOUT). The
 * timeout covers the whole attempt, connect to last byte; the caller's signal cancels it too.
 */
export async function send(attempt: Attempt): Promise<Success> {
  const timeout = AbortSignal.timeout(attempt.timeoutMs);
  const signal = attempt.signal ? AbortSignal.any([attempt.signal, timeout]) : timeout;
  let status: number;
  let headers: Success["headers"];
  let text: string;
  try {
    const response = await request(attempt.url, {
      method: attempt.method,
      headers: attempt.headers,
      body: attempt.body,
      dispatcher: attempt.dispatcher,
      signal,
      headersTimeout: attempt.timeoutMs,
      bodyTimeout: attempt.timeoutMs,
    });
    status = response.statusCode;
    headers = response.headers;
    text = await response.body.text();
  } catch (err) {
    // A caller's cancellation is theirs to handle: rethrow it unchanged, never retried.
    if (attempt.signal?.aborted) throw attempt.signal.reason;
    throw errorFromException(timeout.aborted ? timeout.reason : err, {
      method: attempt.method,
      path: attempt.path,
      timeoutMs: attempt.timeoutMs,
    });
  }
  if (status < 200 || status > 299) {
    throw errorFromResponse(
      { status, headers, body: text },
      { method: attempt.method, path: attempt.path, now: attempt.now() },
    );
  }
  let body: unknown;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new MailplaneError(
        "MP_UNEXPECTED_RESPONSE",
        `${attempt.method} ${attempt.path}: the response is not JSON`,
        {
          status,
          cause: err,
        },
      );
    }
  }
  return { status, headers, body };
}
