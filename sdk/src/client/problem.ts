/** Maps failed responses (problem+json or not) and transport failures to MailplaneError, by catalogue code. */
import { type ErrorCode, isErrorCode, MailplaneError, type ProblemFieldError } from "../errors.ts";
import { parseRetryAfter } from "./retry.ts";

/** The catalogue code a status stands for when the body names none. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: "MP_BAD_REQUEST",
  401: "MP_UNAUTHORIZED",
  403: "MP_FORBIDDEN",
  404: "MP_NOT_FOUND",
  405: "MP_METHOD_NOT_ALLOWED",
  408: "MP_REQUEST_TIMEOUT",
  409: "MP_CONFLICT",
  412: "MP_PRECONDITION_FAILED",
  413: "MP_PAYLOAD_TOO_LARGE",
  414: "MP_URI_TOO_LONG",
  415: "MP_UNSUPPORTED_MEDIA_TYPE",
  422: "MP_VALIDATION_FAILED",
  428: "MP_PRECONDITION_REQUIRED",
  429: "MP_RATE_LIMITED",
  431: "MP_HEADERS_TOO_LARGE",
  500: "MP_INTERNAL",
  501: "MP_NOT_IMPLEMENTED",
  502: "MP_UNAVAILABLE",
  503: "MP_UNAVAILABLE",
  504: "MP_UNAVAILABLE",
};

/** Statuses that mean "try again later" even when a proxy, not mailplane, answered. */
const TRANSIENT = new Set([429, 502, 503, 504]);

/** A failed HTTP response, as the transport read it. */
export interface FailedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function header(headers: FailedResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isProblemBody(value: unknown): value is { code?: unknown; detail?: unknown; errors?: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Turns a non-2xx response into a MailplaneError. A problem body (`application/problem+json`, or
 * JSON with a `code`) keeps its code, detail and field errors; an unknown code falls back to the
 * status's code. A body that is not a problem (a proxy's HTML page) gives MP_UNEXPECTED_RESPONSE,
 * except for 429/502/503/504, which stay retryable. Retry-After is kept in `retryAfterSeconds`.
 * undici only parses `application/json` error bodies, so problem+json is mapped here.
 */
export function errorFromResponse(
  response: FailedResponse,
  context: { method: string; path: string; now: number },
) {
  const contentType = header(response.headers, "content-type") ?? "";
  let problem: unknown;
  if (/^application\/(problem\+)?json\b/i.test(contentType)) {
    try {
      problem = JSON.parse(response.body);
    } catch {
      problem = undefined;
    }
  }
  const retryAfterMs = parseRetryAfter(header(response.headers, "retry-after"), context.now);
  const where = `${context.method} ${context.path}`;
  let code: ErrorCode;
  let detail: string;
  let errors: ProblemFieldError[] = [];
  let requestId: string | undefined =
    header(response.headers, "request-id") ?? header(response.headers, "x-request-id");
  if (isProblemBody(problem) && (problem.code !== undefined || /problem\+json/i.test(contentType))) {
    code = isErrorCode(problem.code)
      ? problem.code
      : (CODE_BY_STATUS[response.status] ?? "MP_UNEXPECTED_RESPONSE");
    detail = typeof problem.detail === "string" ? problem.detail : `${where} answered ${response.status}`;
    if (Array.isArray(problem.errors)) errors = problem.errors as ProblemFieldError[];
    const id = (problem as { requestId?: unknown }).requestId;
    if (typeof id === "string") requestId = id;
  } else {
    code = TRANSIENT.has(response.status) ? CODE_BY_STATUS[response.status]! : "MP_UNEXPECTED_RESPONSE";
    detail = `${where} answered ${response.status} without a problem body`;
  }
  const error = new MailplaneError(code, detail, {
    status: response.status,
    errors,
    instance: context.path,
    ...(requestId === undefined ? {} : { requestId }),
    ...(retryAfterMs === undefined ? {} : { retryAfterSeconds: retryAfterMs / 1000 }),
  });
  return Object.assign(error, { retryAfterMs });
}

/** undici error codes that mean the attempt ran out of time. */
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * Turns a transport failure into MP_TIMEOUT (the attempt's timeout or undici's header/body/connect
 * timeouts) or MP_NETWORK (refused, reset, DNS…), keeping the original as `cause`.
 */
export function errorFromException(
  err: unknown,
  context: { method: string; path: string; timeoutMs: number },
) {
  const code = (err as { code?: unknown })?.code;
  const name = (err as { name?: unknown })?.name;
  const where = `${context.method} ${context.path}`;
  if (name === "TimeoutError" || (typeof code === "string" && TIMEOUT_CODES.has(code))) {
    return new MailplaneError("MP_TIMEOUT", `${where}: no complete response within ${context.timeoutMs} ms`, {
      cause: err,
    });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new MailplaneError(
    "MP_NETWORK",
    `${where}: ${reason}${typeof code === "string" ? ` (${code})` : ""}`,
    {
      cause: err,
    },
  );
}
