/** The error catalogue: every `MP_*` code with its HTTP status, title and problem type; `MailplaneError`; zod → problem mapping. */
import { z } from "zod";

/** Base of every problem `type` URI (RFC 9457 §3.1.1): `https://mailplane.dev/problems/<slug>`. */
export const PROBLEM_TYPE_BASE = "https://mailplane.dev/problems/";

/** One catalogue entry. `origin: "client"` codes are raised by the SDK client, never served. */
export interface ErrorDefinition {
  /** HTTP status; for client-side codes the status they stand for (0 when no response arrived). */
  readonly status: number;
  readonly title: string;
  readonly origin: "server" | "client";
  /** Safe to retry the same request unchanged (after Retry-After, if given). */
  readonly retryable: boolean;
}

/**
 * Every error code. Codes are public API: callers match on them (`err.code === "MP_NOT_FOUND"`),
 * `docs/errors.md` documents each, and the OpenAPI document lists the served ones.
 */
export const errorCatalogue = {
  MP_BAD_REQUEST: {
    status: 400,
    title: "The request is malformed (invalid JSON, a bad header or query parameter).",
    origin: "server",
    retryable: false,
  },
  MP_ACCOUNT_REQUIRED: {
    status: 400,
    title: "A platform-admin token must name the account with the Mailplane-Account header.",
    origin: "server",
    retryable: false,
  },
  MP_UNAUTHORIZED: {
    status: 401,
    title: "The bearer token is missing, unknown, expired or revoked.",
    origin: "server",
    retryable: false,
  },
  MP_FORBIDDEN: {
    status: 403,
    title: "The token's role does not allow this operation.",
    origin: "server",
    retryable: false,
  },
  MP_ACCESS_DENIED: {
    status: 403,
    title: "An access rule does not let the client's network sign in to this service.",
    origin: "server",
    retryable: false,
  },
  MP_TLS_REQUIRED: {
    status: 403,
    title: "Signing in needs TLS: the request did not come over HTTPS.",
    origin: "server",
    retryable: false,
  },
  MP_SIGN_IN_FAILED: {
    status: 401,
    title: "The address, password or second-factor code is wrong (which one is not said).",
    origin: "server",
    retryable: false,
  },
  MP_SESSION_STEP_REQUIRED: {
    status: 403,
    title:
      "The session must finish a sign-in step first (second factor, password change or two-factor enrolment).",
    origin: "server",
    retryable: false,
  },
  MP_LOGIN_LOCKED: {
    status: 429,
    title: "Too many failed sign-ins from this address: it is locked out for a while (Retry-After).",
    origin: "server",
    retryable: true,
  },
  MP_NOT_FOUND: {
    status: 404,
    title: "No such object (or it belongs to another account).",
    origin: "server",
    retryable: false,
  },
  MP_METHOD_NOT_ALLOWED: {
    status: 405,
    title: "The path exists but does not support this method.",
    origin: "server",
    retryable: false,
  },
  MP_REQUEST_TIMEOUT: {
    status: 408,
    title: "The request did not arrive in full in time; the connection is closed.",
    origin: "server",
    retryable: true,
  },
  MP_ALREADY_EXISTS: {
    status: 409,
    title: "An object with this ID already exists.",
    origin: "server",
    retryable: false,
  },
  MP_CONFLICT: {
    status: 409,
    title: "The change conflicts with the current state (e.g. the domain is in use by another account).",
    origin: "server",
    retryable: false,
  },
  MP_LIMIT_EXCEEDED: {
    status: 409,
    title:
      "The account holds as many objects of this kind as its limits allow; ask the platform admin to raise them.",
    origin: "server",
    retryable: false,
  },
  MP_DOMAIN_TAKEN: {
    status: 409,
    title: "The domain name is held by another account on this platform.",
    origin: "server",
    retryable: false,
  },
  MP_PARENT_NOT_FOUND: {
    status: 409,
    title: "The domain this object belongs to does not exist; create it first.",
    origin: "server",
    retryable: false,
  },
  MP_USER_ENABLED: {
    status: 409,
    title: "An enabled user cannot be deleted; disable the user first.",
    origin: "server",
    retryable: false,
  },
  MP_PRECONDITION_FAILED: {
    status: 412,
    title:
      "A precondition failed: If-Match does not match the object's current ETag (it changed since you read it), or If-None-Match: * and the object exists.",
    origin: "server",
    retryable: false,
  },
  MP_PAYLOAD_TOO_LARGE: {
    status: 413,
    title: "The request body is larger than the server accepts.",
    origin: "server",
    retryable: false,
  },
  MP_URI_TOO_LONG: {
    status: 414,
    title: "The request's path is longer than the server accepts.",
    origin: "server",
    retryable: false,
  },
  MP_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: "The request body must be application/json.",
    origin: "server",
    retryable: false,
  },
  MP_VALIDATION_FAILED: {
    status: 422,
    title: "The request does not satisfy the model's rules; see errors[] for each field.",
    origin: "server",
    retryable: false,
  },
  MP_PASSWORD_POLICY_VIOLATION: {
    status: 422,
    title: "The password breaks the password policy; see errors[] for each rule.",
    origin: "server",
    retryable: false,
  },
  MP_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: "This Idempotency-Key was already used with a different request.",
    origin: "server",
    retryable: false,
  },
  MP_FILTER_TRAINING_UNAVAILABLE: {
    status: 422,
    title:
      "Spam and ham reports train rspamd's Bayes classifier, and this platform does not score mail with rspamd.",
    origin: "server",
    retryable: false,
  },
  MP_PRECONDITION_REQUIRED: {
    status: 428,
    title: "This operation requires an If-Match header.",
    origin: "server",
    retryable: false,
  },
  MP_RATE_LIMITED: {
    status: 429,
    title: "Too many requests; retry after the Retry-After delay.",
    origin: "server",
    retryable: true,
  },
  MP_HEADERS_TOO_LARGE: {
    status: 431,
    title: "The request line and headers are larger than the server accepts; the connection is closed.",
    origin: "server",
    retryable: false,
  },
  MP_INTERNAL: {
    status: 500,
    title: "The server failed unexpectedly.",
    origin: "server",
    retryable: false,
  },
  MP_NOT_IMPLEMENTED: {
    status: 501,
    title: "The server does not implement this request method.",
    origin: "server",
    retryable: false,
  },
  MP_UNAVAILABLE: {
    status: 503,
    title:
      "The server is temporarily unavailable (starting, shutting down, overloaded, or its database does not answer).",
    origin: "server",
    retryable: true,
  },
  MP_NETWORK: {
    status: 0,
    title: "The server could not be reached or the connection broke before a response.",
    origin: "client",
    retryable: true,
  },
  MP_TIMEOUT: {
    status: 0,
    title: "No complete response arrived within the request timeout.",
    origin: "client",
    retryable: true,
  },
  MP_UNEXPECTED_RESPONSE: {
    status: 0,
    title:
      "The server answered with something that is not the documented response (e.g. a non-problem error body).",
    origin: "client",
    retryable: false,
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalogue;

/** All codes, in catalogue order. */
export const ERROR_CODES = Object.keys(errorCatalogue) as ErrorCode[];

/** True for a code in the catalogue. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(errorCatalogue, value);
}

/** The problem `type` URI of a code. @example problemType("MP_NOT_FOUND") // "https://mailplane.dev/problems/not-found" */
export function problemType(code: ErrorCode): string {
  return `${PROBLEM_TYPE_BASE}${code.slice(3).toLowerCase().replaceAll("_", "-")}`;
}

/** Where in the request a field error is (fastify's validationContext). */
export const ERROR_LOCATIONS = ["body", "query", "params", "headers"] as const;
export type ErrorLocation = (typeof ERROR_LOCATIONS)[number];

/** One field error inside a problem: a zod issue with its path kept as an array. */
export const ProblemFieldError = z
  .object({
    path: z
      .array(z.union([z.string(), z.number()]))
      .describe('Path to the field, e.g. `["action", "to", 0]`.'),
    code: z
      .string()
      .describe("The rule that failed: a zod issue code (`too_small`, `custom`…) or a password rule name."),
    message: z.string().describe("What is wrong, for people."),
    in: z.enum(ERROR_LOCATIONS).describe("The part of the request the path points into."),
  })
  .meta({ id: "ProblemFieldError", title: "ProblemFieldError", description: "One invalid field." });

/** RFC 9457 problem details with mailplane's members (`code`, `errors`). */
export const ProblemDetails = z
  .object({
    type: z.string().describe("A URI naming the problem: `https://mailplane.dev/problems/<slug>`."),
    title: z.string().describe("A short summary of the problem type."),
    status: z.number().int().describe("The HTTP status code."),
    detail: z.string().optional().describe("What went wrong in this occurrence."),
    instance: z.string().optional().describe("The request path (or ID) of this occurrence."),
    code: z.string().describe("The stable `MP_*` code; match on this."),
    errors: z.array(ProblemFieldError).optional().describe("Field errors, for validation problems."),
    requestId: z.string().optional().describe("The server's ID of the request, for support."),
  })
  .meta({
    id: "Problem",
    title: "Problem",
    description: "An RFC 9457 problem (application/problem+json) with a stable mailplane code.",
  });

export type ProblemFieldError = z.output<typeof ProblemFieldError>;
export type ProblemDetails = z.output<typeof ProblemDetails>;

/** Options of {@link MailplaneError} beyond code and detail. */
export interface MailplaneErrorOptions {
  errors?: ProblemFieldError[];
  /** Seconds to wait before retrying (from Retry-After), when the server said so. */
  retryAfterSeconds?: number;
  instance?: string;
  requestId?: string;
  /** The HTTP status actually received, when it differs from the catalogue's (an unknown code, say). */
  status?: number;
  cause?: unknown;
}

/**
 * The one error class of mailplane. Match on `code`, not `instanceof`: the Pulumi provider may load
 * a second copy of the SDK; {@link isMailplaneError} checks the shape.
 * @example
 * try { await client.domains.get("example.com") } catch (err) {
 *   if (isMailplaneError(err) && err.code === "MP_NOT_FOUND") { ... }
 * }
 */
export class MailplaneError extends Error {
  override name = "MailplaneError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: ProblemFieldError[];
  readonly retryAfterSeconds: number | undefined;
  /** The problem as served (or as it would be served). */
  readonly problem: ProblemDetails;

  constructor(code: ErrorCode, detail?: string, options: MailplaneErrorOptions = {}) {
    const definition: ErrorDefinition = errorCatalogue[code];
    super(detail ?? definition.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? definition.status;
    this.errors = options.errors ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.problem = {
      type: problemType(code),
      title: definition.title,
      status: this.status,
      ...(detail === undefined ? {} : { detail }),
      ...(options.instance === undefined ? {} : { instance: options.instance }),
      code,
      ...(this.errors.length > 0 ? { errors: this.errors } : {}),
      ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
    };
  }

  /** True when retrying the same request can succeed (429, 503, network errors, timeouts). */
  get retryable(): boolean {
    return (errorCatalogue[this.code] as ErrorDefinition).retryable;
  }

  /** The problem+json body for this error. */
  toJSON(): ProblemDetails {
    return this.problem;
  }
}

/**
 * True for a mailplane error from any copy of the SDK: an Error whose `code` is in the catalogue
 * and which carries a `problem`.
 */
export function isMailplaneError(value: unknown): value is MailplaneError {
  return (
    value instanceof Error &&
    isErrorCode((value as { code?: unknown }).code) &&
    typeof (value as { problem?: unknown }).problem === "object"
  );
}

/**
 * Turns zod issues into problem field errors; paths stay arrays (symbols become strings).
 * @example zodIssuesToProblemErrors(result.error.issues, "body") // [{ path: ["port"], code: "too_big", message: "…", in: "body" }]
 */
export function zodIssuesToProblemErrors(
  issues: readonly z.core.$ZodIssue[],
  location: ErrorLocation = "body",
  prefix: (string | number)[] = [],
): ProblemFieldError[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
    code: issue.code,
    message: issue.message,
    in: location,
  }));
}

/**
 * A `MP_VALIDATION_FAILED` error from a zod error (or issue list).
 * @example throw validationError(DomainSpec.safeParse(body).error!, "body")
 */
export function validationError(
  error: z.ZodError | readonly z.core.$ZodIssue[],
  location: ErrorLocation = "body",
): MailplaneError {
  const issues = error instanceof z.ZodError ? error.issues : error;
  return validationErrorFromFields(zodIssuesToProblemErrors(issues, location));
}

/**
 * A `MP_VALIDATION_FAILED` error naming its fields; `detail` names the first one and counts the rest.
 * @example validationErrorFromFields([{ path: ["id"], code: "custom", message: "must match the path (acme)", in: "body" }]).message // "id: must match the path (acme)"
 */
export function validationErrorFromFields(errors: ProblemFieldError[]): MailplaneError {
  const first = errors[0];
  const detail =
    first === undefined
      ? "The request is invalid."
      : `${toDotPath(first.path) || "(root)"}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`;
  return new MailplaneError("MP_VALIDATION_FAILED", detail, { errors });
}

/**
 * Prints a path the way people read it: `action.to[0]`, `routes[2].host`.
 * @example toDotPath(["action", "to", 0]) // "action.to[0]"
 */
export function toDotPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === "number") return `${out}[${segment}]`;
    if (!/^[A-Za-z_$][\w$]*$/.test(segment)) return `${out}[${JSON.stringify(segment)}]`;
    return out === "" ? segment : `${out}.${segment}`;
  }, "");
}
