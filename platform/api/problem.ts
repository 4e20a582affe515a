/** RFC 9457 problem+json for every error the control plane answers, from one error handler. */

import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  type ErrorCode,
  type ErrorLocation,
  isMailplaneError,
  MailplaneError,
  type MailplaneErrorOptions,
  type ProblemFieldError,
  toDotPath,
  validationErrorFromFields,
} from "../../sdk/src/index.ts";
import { isStoreError, type StoreError } from "../store/contract/store-error.ts";
import { STORE_RETRY_AFTER_SECONDS } from "../store/faults.ts";
import { redactResetTokens } from "./password-resets.ts";

/** The media type of every error body (RFC 9457 §3). */
export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/**
 * Shorthand for a catalogue error; handlers throw it and the error handler renders it.
 *
 * @example throw problem("MP_NOT_FOUND", "route example.com/routes/mx:25 does not exist")
 */
export function problem(code: ErrorCode, detail?: string, options?: MailplaneErrorOptions): MailplaneError {
  return new MailplaneError(code, detail, options);
}

/** One field error of a problem. */
export function fieldError(
  path: (string | number)[],
  code: string,
  message: string,
  where: ErrorLocation = "body",
): ProblemFieldError {
  return { path, code, message, in: where };
}

/** ajv keywords mapped onto zod's issue codes, so clients see one vocabulary whichever stage failed. */
const AJV_CODES: Record<string, string> = {
  type: "invalid_type",
  required: "invalid_type",
  minimum: "too_small",
  exclusiveMinimum: "too_small",
  minLength: "too_small",
  minItems: "too_small",
  minProperties: "too_small",
  maximum: "too_big",
  exclusiveMaximum: "too_big",
  maxLength: "too_big",
  maxItems: "too_big",
  maxProperties: "too_big",
  enum: "invalid_value",
  const: "invalid_value",
  additionalProperties: "unrecognized_keys",
  pattern: "invalid_format",
  format: "invalid_format",
  anyOf: "invalid_union",
  oneOf: "invalid_union",
  discriminator: "invalid_union",
  multipleOf: "not_multiple_of",
};

const LOCATIONS: Record<string, ErrorLocation> = {
  body: "body",
  querystring: "query",
  params: "params",
  headers: "headers",
};

/** Turns one ajv error into a field error with a zod-style path array pointing at the field itself. */
export function ajvToFieldError(error: ErrorObject, where: ErrorLocation): ProblemFieldError {
  const path: (string | number)[] = error.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
  const params = error.params as Record<string, unknown>;
  let message = error.message ?? "is invalid";
  if (error.keyword === "required") {
    path.push(String(params.missingProperty));
    message = "is required";
  } else if (error.keyword === "additionalProperties") {
    path.push(String(params.additionalProperty));
    message = "is not a known field";
  } else if (error.keyword === "enum") {
    message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return fieldError(path, AJV_CODES[error.keyword] ?? "custom", message, where);
}

/** How store failures read to API clients. */
function fromStoreError(e: StoreError): MailplaneError {
  switch (e.code) {
    case "not_found":
      return problem("MP_NOT_FOUND", e.message);
    case "already_exists":
      return problem("MP_ALREADY_EXISTS", e.message);
    case "owned_elsewhere":
      return problem("MP_CONFLICT", e.message);
    case "precondition_failed":
      return problem("MP_PRECONDITION_FAILED", e.message);
    case "parent_missing":
      return problem("MP_PARENT_NOT_FOUND", e.message);
    case "has_dependents":
      return problem("MP_CONFLICT", e.message);
    case "conflict":
      // A field the conflict is about (a user's extra address held elsewhere) is named like a 422's.
      return problem(
        "MP_CONFLICT",
        e.message,
        e.path ? { errors: [fieldError(e.path, "custom", e.message)] } : {},
      );
    case "limit_exceeded":
      return problem("MP_LIMIT_EXCEEDED", e.message);
    case "invalid_cursor":
      return problem("MP_BAD_REQUEST", e.message, {
        errors: [fieldError(["cursor"], "invalid_format", e.message, "query")],
      });
    case "idempotency_exists":
      return problem("MP_IDEMPOTENCY_KEY_REUSED", e.message);
    case "unavailable":
      // The message names the kind of fault only (faults.ts); the driver's error stays in the log.
      return problem("MP_UNAVAILABLE", e.message, { retryAfterSeconds: STORE_RETRY_AFTER_SECONDS });
  }
}

/** Fastify's own errors (body parsing, limits) mapped onto the catalogue. */
function fromFastifyError(e: FastifyError): MailplaneError | undefined {
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return problem("MP_UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return problem("MP_PAYLOAD_TOO_LARGE", e.message);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return problem("MP_BAD_REQUEST", "the body is empty; send a JSON document");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return problem("MP_BAD_REQUEST", "the body is not valid JSON");
  }
  if (e instanceof SyntaxError || (e as { type?: string }).type === "entity.parse.failed") {
    return problem("MP_BAD_REQUEST", "the body is not valid JSON");
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return problem("MP_BAD_REQUEST", e.message);
  }
  return undefined;
}

/** Any thrown value as a catalogue error; unknown failures become MP_INTERNAL (and are logged). */
export function toMailplaneError(error: unknown, request: FastifyRequest): MailplaneError {
  if (isMailplaneError(error)) return error;
  if (isStoreError(error)) {
    if (error.code === "unavailable") request.log.warn({ err: error.cause }, error.message);
    return fromStoreError(error);
  }
  const fe = error as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    const where = LOCATIONS[fe.validationContext ?? "body"] ?? "body";
    const errors = (fe.validation as ErrorObject[]).map((v) => ajvToFieldError(v, where));
    if (where === "body") return validationErrorFromFields(errors);
    const first = errors[0];
    const detail = first ? `${where} ${toDotPath(first.path)}: ${first.message}` : `invalid ${where}`;
    return problem("MP_BAD_REQUEST", detail, { errors });
  }
  const mapped = fe && typeof fe === "object" ? fromFastifyError(fe) : undefined;
  if (mapped) return mapped;
  request.log.error({ err: error }, "unexpected error");
  return problem("MP_INTERNAL", "the server failed unexpectedly; the request ID identifies the log entry");
}

/** Longest part of a request path an error answer repeats; the rest is cut (and marked with …). */
export const MAX_ECHOED_PATH = 200;

/**
 * The request's path as error answers may repeat it: without the query, at most
 * {@link MAX_ECHOED_PATH} characters, so a client's 8,000-character path never comes back whole.
 *
 * @example echoedPath("/v1/domains/example.com?limit=5") // "/v1/domains/example.com"
 */
export function echoedPath(url: string): string {
  // A reset link's token is a secret even to its own error answer.
  const path = redactResetTokens(url.split("?")[0] ?? "");
  return path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH)}…` : path;
}

/** Sends a catalogue error as problem+json (with Retry-After for 429/503 when known). */
export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  error: MailplaneError,
): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
  if (error.code === "MP_UNAUTHORIZED") reply.header("www-authenticate", 'Bearer realm="mailplane"');
  return reply
    .status(error.status)
    .type(PROBLEM_MEDIA_TYPE)
    .send({ ...error.problem, instance: echoedPath(request.url), requestId: request.id });
}

/** The methods the API routes (405 with Allow where a path lacks one); any other method is 501. */
const ROUTED_METHODS = new Set([
  "GET",
  "HEAD",
  "PUT",
  "PATCH",
  "POST",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "QUERY",
]);

/**
 * Installs the error and not-found handlers on the root instance: every error leaves as problem+json.
 *
 * @example installProblemHandling(app)
 */
export function installProblemHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) =>
    sendProblem(reply, request, toMailplaneError(error, request)),
  );
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      ROUTED_METHODS.has(request.method)
        ? problem("MP_NOT_FOUND", `no endpoint at ${request.method} ${echoedPath(request.url)}`)
        : // RFC 9110 §9.1: a method the server does not implement is 501 (e.g. PROPFIND).
          problem("MP_NOT_IMPLEMENTED", `this API does not implement the method ${request.method}`),
    ),
  );
}
