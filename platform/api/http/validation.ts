/**
 * Request validation in two stages: ajv checks shape, types, enums and bounds from the contract's JSON
 * Schemas (fastify runs it before the handler), then the zod model normalises and applies the
 * cross-field rules JSON Schema cannot express. Both report zod-style paths.
 */
import { Ajv, type Options } from "ajv";
import formats from "ajv-formats";
import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import { type ErrorLocation, validationError, zodIssuesToProblemErrors } from "../../../sdk/src/index.ts";
import { problem } from "./problem.ts";

/** ajv-formats is CommonJS; under Node's ESM loader its default export is the plugin function itself. */
const addFormats = ((formats as unknown as { default?: unknown }).default ?? formats) as unknown as (
  ajv: Ajv,
) => Ajv;

function ajv(options: Options): Ajv {
  return addFormats(new Ajv({ allErrors: true, strict: false, ...options }));
}

/**
 * Sets fastify's validator compiler: bodies are checked strictly (no coercion, no defaults, unknown
 * fields are errors, not silently removed as fastify's default ajv does); query strings, params and
 * headers are text on the wire, so numbers and booleans there are coerced.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false });
  const coercing = ajv({ coerceTypes: "array", useDefaults: true, removeAdditional: false });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? strict : coercing).compile(schema as object),
  );
}

/**
 * Parses with a zod schema; failures become 422 MP_VALIDATION_FAILED (body) or 400 MP_BAD_REQUEST
 * (query, params, headers), each issue with its path.
 *
 * @example const spec = parseWith(RouteSpec, request.body, "body");
 */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: ErrorLocation): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  if (where === "body") throw validationError(result.error, where);
  throw problem("MP_BAD_REQUEST", `invalid ${where}`, {
    errors: zodIssuesToProblemErrors(result.error.issues, where),
  });
}
