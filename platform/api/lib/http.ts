/** Small HTTP pieces the route plugins share: ETag/If-Match, path-parameter normalisation, route registration. */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";
import {
  AccessRuleFields,
  type Endpoint,
  endpoints,
  fastifySchema,
  isAddress,
  isMailDomain,
  normaliseAddress,
  parseRouteName,
  parseSenderListName,
  routeName,
  senderListName,
  toAsciiDomain,
} from "../../../sdk/src/index.ts";
import type { IfMatch } from "../../store/contract/write-context.ts";
import { problem } from "../problem.ts";

/** Sets the ETag header (RFC 9110 §8.8.3: a quoted opaque tag). */
export function setEtag(reply: FastifyReply, etag: string): void {
  reply.header("etag", `"${etag}"`);
}

/**
 * Parses If-Match (RFC 9110 §13.1.1): `*`, or one or more entity tags. Weak tags (`W/"…"`) never match
 * (If-Match compares strongly), so they are kept with their prefix. Unquoted tags are accepted as sent.
 */
export function ifMatch(request: FastifyRequest): IfMatch | undefined {
  const header = request.headers["if-match"];
  if (typeof header !== "string" || header.trim() === "") return undefined;
  if (header.trim() === "*") return "*";
  const tags = header
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .map((t) => (t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1) : t));
  return tags.length === 1 ? tags[0]! : tags;
}

/**
 * True for `If-None-Match: *` (RFC 9110 §13.1.2): the write may only create, never replace. The
 * contract admits no other value where the header is declared (ajv answers 400 first).
 */
export function createOnly(request: FastifyRequest): boolean {
  return request.headers["if-none-match"] === "*";
}

/** Canonical forms of the path parameters; a malformed one means "no such object" (404). */
const NORMALISERS: Record<string, (raw: string) => string | undefined> = {
  domain: (raw) => {
    const d = toAsciiDomain(raw);
    return isMailDomain(d) ? d : undefined;
  },
  route: (raw) => {
    const parsed = parseRouteName(raw);
    return parsed ? routeName(parsed) : undefined;
  },
  alias: (raw) => {
    const a = normaliseAddress(raw);
    return isAddress(a, true) ? a : undefined;
  },
  user: (raw) => {
    const a = normaliseAddress(raw);
    return isAddress(a) ? a : undefined;
  },
  list: (raw) => {
    const parsed = parseSenderListName(raw.trim().toLowerCase());
    return parsed ? senderListName(parsed) : undefined;
  },
  account: (raw) => raw.trim().toLowerCase(),
  token: (raw) => raw,
  scope: (raw) => {
    const parsed = AccessRuleFields.shape.scope.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  },
  service: (raw) => raw.trim().toLowerCase(),
};

/** The request's path parameters in canonical form; 404 when one cannot name any object. */
export function normalisedParams(request: FastifyRequest): Record<string, string> {
  const raw = (request.params ?? {}) as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const normalise = NORMALISERS[name];
    const v = normalise ? normalise(value) : value;
    if (v === undefined) throw problem("MP_NOT_FOUND", `no ${name} ${JSON.stringify(value)}`);
    out[name] = v;
  }
  return out;
}

/** Every operationId registered so far, so `buildApp` can prove the whole contract is served. */
export const REGISTERED = Symbol("mailplane.registeredOperations");

/**
 * Registers the handler of one contract endpoint: method, path, JSON Schemas (ajv validation and the
 * response serializer) and the endpoint itself in the route config for the auth hook. `bodyByModel`:
 * an ajv failure of the body does not answer by itself; the handler must `parseWith` the body.
 *
 * @example serve(app, "getRoute", async (request, reply) => …)
 */
export function serve(
  app: FastifyInstance,
  operationId: string,
  handler: RouteHandlerMethod,
  options: { bodyByModel?: boolean } = {},
): void {
  const endpoint: Endpoint | undefined = endpoints.find((e) => e.operationId === operationId);
  if (!endpoint) throw new Error(`no endpoint ${operationId} in the contract`);
  app.route({
    method: endpoint.method,
    url: endpoint.path,
    schema: fastifySchema(endpoint),
    config: { endpoint },
    // The handler parses the body with the zod model itself, which reports every problem of the body;
    // ajv would stop the request with only the problems JSON Schema can see (large documents).
    ...(options.bodyByModel ? { attachValidation: true } : {}),
    ...(endpoint.rawBody ? { bodyLimit: endpoint.rawBody.maxBytes } : {}),
    ...(endpoint.maxBodyBytes ? { bodyLimit: endpoint.maxBodyBytes } : {}),
    handler,
  });
  const registered = (app as unknown as Record<symbol, Set<string>>)[REGISTERED];
  registered?.add(operationId);
}
