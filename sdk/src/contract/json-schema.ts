/** Turns the contract's zod schemas into JSON Schema: for fastify route options, the generated files and OpenAPI. */
import { z } from "zod";
import { MANAGED_BY_MAX_BYTES } from "../models/managed-by.ts";
import type { Endpoint } from "./types.ts";

export type JsonSchema = Record<string, unknown>;

/** Options of {@link toJsonSchema}. */
export interface ToJsonSchemaOptions {
  /** `input`: what a client may send (defaults optional); `output`: what the server returns. Default `input`. */
  io?: "input" | "output";
  /** JSON Schema dialect. Default `draft-2020-12`; fastify's built-in ajv wants `draft-07`. */
  target?: "draft-2020-12" | "draft-07";
  /** Keep the `$schema` keyword. Default true. */
  keepSchemaKeyword?: boolean;
}

/**
 * Converts a zod schema to JSON Schema. Named schemas (with a registry `id`, such as `DomainSpec`)
 * inside it become `$defs` (`definitions` in draft-07) with local `$ref`s. Normalisation and
 * cross-field rules (lower-casing, punycode, `tagThreshold < quarantineThreshold`) exist only in zod:
 * JSON Schema checks shape, types, enums and bounds; parse with the zod schema afterwards.
 * @example toJsonSchema(RouteSpec, { io: "input" }).required // ["domain", "host"]
 */
export function toJsonSchema(schema: z.ZodType, options: ToJsonSchemaOptions = {}): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: options.io ?? "input",
    target: options.target ?? "draft-2020-12",
    // Transforms (none in the model) and custom checks have no JSON Schema form; they stay zod-only.
    unrepresentable: "any",
  }) as JsonSchema;
  if (options.keepSchemaKeyword === false) delete json["$schema"];
  return json;
}

/** HTTP header names as fastify sees them (lower-case). */
export const HEADER_NAMES = {
  ifMatch: "if-match",
  ifNoneMatch: "if-none-match",
  idempotencyKey: "idempotency-key",
  account: "mailplane-account",
  managedBy: "mailplane-managed-by",
} as const;

/**
 * The value schema of a request header, the same for fastify's validation and the OpenAPI document:
 * If-None-Match on a write is only ever `*` here (create only; entity tags have no use), the others
 * any non-empty string.
 */
export function headerValueSchema(name: keyof typeof HEADER_NAMES): JsonSchema {
  if (name === "ifNoneMatch") return { type: "string", enum: ["*"] };
  // Its JSON is checked by the handler, which names the header and the field at fault.
  if (name === "managedBy") return { type: "string", minLength: 1, maxLength: MANAGED_BY_MAX_BYTES };
  return { type: "string", minLength: 1 };
}

/** Route schema for fastify's `schema` option. */
export interface FastifyRouteSchema {
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  headers?: JsonSchema;
  response?: Record<number, JsonSchema>;
}

/**
 * The fastify `schema` option of an endpoint: params, querystring, body and headers as input-side
 * JSON Schema, success responses as output-side. Draft-07 without `$schema`, which fastify's default
 * ajv compiles. Error responses are left out: the error handler serialises problems itself.
 * @example app.route({ method: e.method, url: e.path, schema: fastifySchema(e), handler })
 */
export function fastifySchema(endpoint: Endpoint, options: { responses?: boolean } = {}): FastifyRouteSchema {
  const convert = (schema: z.ZodType, io: "input" | "output") =>
    toJsonSchema(schema, { io, target: "draft-07", keepSchemaKeyword: false });
  const result: FastifyRouteSchema = {};
  if (endpoint.params) result.params = convert(endpoint.params, "input");
  if (endpoint.query) result.querystring = convert(endpoint.query, "input");
  if (endpoint.body) result.body = convert(endpoint.body, "input");
  const headerEntries = Object.entries(endpoint.headers).filter(([, use]) => use !== "none");
  if (headerEntries.length > 0) {
    result.headers = {
      type: "object",
      properties: Object.fromEntries(
        headerEntries.map(([name]) => [
          HEADER_NAMES[name as keyof typeof HEADER_NAMES],
          headerValueSchema(name as keyof typeof HEADER_NAMES),
        ]),
      ),
      required: headerEntries
        .filter(([, use]) => use === "required")
        .map(([name]) => HEADER_NAMES[name as keyof typeof HEADER_NAMES]),
    };
  }
  if (options.responses !== false && endpoint.response) {
    const response = convert(endpoint.response, "output");
    result.response = Object.fromEntries(
      endpoint.successStatuses.filter((s) => s !== 204).map((s) => [s, response]),
    );
  }
  return result;
}
