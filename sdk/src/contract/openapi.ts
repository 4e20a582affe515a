/** Builds the OpenAPI 3.1 document from the route table, the model and the error catalogue. */
import type { z } from "zod";
import {
  ERROR_CODES,
  type ErrorCode,
  type ErrorDefinition,
  errorCatalogue,
  ProblemDetails,
  problemType,
} from "../errors.ts";
import { headerValueSchema, type JsonSchema, toJsonSchema } from "./json-schema.ts";
import { COMMON_ERRORS, type Endpoint } from "./types.ts";

/** Options of {@link buildOpenApiDocument}. */
export interface OpenApiOptions {
  /** The API version shown in `info.version` (the package version). */
  version: string;
  /** Server URLs; default none (clients use the document's own origin). */
  servers?: string[];
}

const PROBLEM_JSON = "application/problem+json";
/** A request header as an OpenAPI parameter; its value schema is {@link headerValueSchema}'s. */
interface HeaderParameter {
  readonly name: string;
  readonly description: string;
}

const HEADER_PARAMETERS: Record<keyof Endpoint["headers"], HeaderParameter> = {
  ifMatch: {
    name: "If-Match",
    description:
      "The `etag` you last read; the write fails with 412 MP_PRECONDITION_FAILED if the object changed since.",
  },
  ifNoneMatch: {
    name: "If-None-Match",
    description:
      "`*`: create only. The write fails with 412 MP_PRECONDITION_FAILED, changing nothing, if the object already exists (RFC 9110 §13.1.2).",
  },
  idempotencyKey: {
    name: "Idempotency-Key",
    description:
      "A unique key per logical create; a retry with the same key and body returns the first answer.",
  },
  account: {
    name: "Mailplane-Account",
    description:
      "The account a platform-admin token acts on; other tokens may omit it (they belong to one account).",
  },
  managedBy: {
    name: "Mailplane-Managed-By",
    description:
      'The stack that declares what this write writes, as compact JSON: `{"tool":"pulumi","project":"mail","stack":"prod"}` (see `ManagedBy`; at most 512 bytes). The Pulumi provider sends it on every create and update; objects return it as `managedBy`. Absent: the stored stamp stays. Malformed: 400 MP_BAD_REQUEST naming the header.',
  },
};

/** Collects named schemas into `components.schemas`, rewriting each schema's local `$defs` refs. */
class ComponentCollector {
  readonly schemas: Record<string, JsonSchema> = {};

  /** Converts a zod schema and hoists its named parts; returns the schema to embed (often a `$ref`). */
  add(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const json = toJsonSchema(schema, { io, keepSchemaKeyword: false });
    const defs = (json["$defs"] ?? {}) as Record<string, JsonSchema>;
    delete json["$defs"];
    for (const [name, def] of Object.entries(defs)) {
      const rewritten = rewriteRefs(def);
      const existing = this.schemas[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(rewritten)) {
        // One name must mean one shape: a schema used as both input and output would need two names.
        throw new Error(`schema ${name} differs between uses (input vs output?)`);
      }
      this.schemas[name] = rewritten;
    }
    return rewriteRefs(json);
  }
}

function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(rewriteRefs) as T;
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === "$ref" && typeof v === "string"
        ? v.replace(/^#\/\$defs\//, "#/components/schemas/")
        : rewriteRefs(v);
  }
  return out as T;
}

/** `/v1/domains/:domain` → `/v1/domains/{domain}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, "{$1}");
}

function parametersOf(endpoint: Endpoint, components: ComponentCollector): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const [where, schema] of [
    ["path", endpoint.params],
    ["query", endpoint.query],
  ] as const) {
    if (!schema) continue;
    const json = components.add(schema, "input") as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...propertySchema } = property;
      parameters.push({
        name,
        in: where,
        required: where === "path" || (json.required ?? []).includes(name),
        ...(description === undefined ? {} : { description }),
        schema: propertySchema,
      });
    }
  }
  for (const [key, use] of Object.entries(endpoint.headers)) {
    if (use === "none") continue;
    const header = HEADER_PARAMETERS[key as keyof typeof HEADER_PARAMETERS];
    parameters.push(
      use === "required"
        ? {
            name: header.name,
            in: "header",
            required: true,
            description: header.description,
            schema: headerValueSchema(key as keyof typeof HEADER_PARAMETERS),
          }
        : { $ref: `#/components/parameters/${header.name}` },
    );
  }
  return parameters;
}

function errorResponses(endpoint: Endpoint): Record<string, JsonSchema> {
  const codes = new Set<ErrorCode>([
    ...(endpoint.access === "public" ? [] : COMMON_ERRORS),
    // A session's user whose role may no longer log in is refused at every request.
    ...(endpoint.access === "user" ? (["MP_LOGIN_NOT_ALLOWED"] as const) : []),
    // A platform-admin token must name the account (400), and the account it names must exist (404).
    ...(endpoint.headers.account === "none" ? [] : (["MP_ACCOUNT_REQUIRED", "MP_NOT_FOUND"] as const)),
    ...endpoint.errors,
  ]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of ERROR_CODES) {
    if (!codes.has(code)) continue;
    const { status } = errorCatalogue[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] =
      list.length === 1
        ? { $ref: `#/components/responses/${list[0]}` }
        : {
            description: `One of: ${list.join(", ")}.`,
            content: {
              [PROBLEM_JSON]: { schema: { oneOf: list.map((c) => ({ $ref: `#/components/schemas/${c}` })) } },
            },
          };
  }
  return responses;
}

function operationOf(endpoint: Endpoint, components: ComponentCollector): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  const body = endpoint.response ? components.add(endpoint.response, "output") : null;
  for (const status of endpoint.successStatuses) {
    responses[String(status)] = {
      description:
        status === 201
          ? "Created."
          : status === 202
            ? "Accepted."
            : status === 204
              ? "Done; no content."
              : "OK.",
      ...(endpoint.etag ? { headers: { ETag: { $ref: "#/components/headers/ETag" } } } : {}),
      ...(body && status !== 204 ? { content: { "application/json": { schema: body } } } : {}),
    };
  }
  Object.assign(responses, errorResponses(endpoint));
  const parameters = parametersOf(endpoint, components);
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    tags: [endpoint.tag],
    ...(endpoint.access === "public" ? { security: [] } : {}),
    ...(endpoint.access === "public" ? {} : { "x-mailplane-access": endpoint.access }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(endpoint.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: components.add(endpoint.body, "input") } },
          },
        }
      : {}),
    ...(endpoint.rawBody
      ? {
          requestBody: {
            required: true,
            content: { [endpoint.rawBody.mediaType]: { schema: { type: "string", format: "binary" } } },
          },
        }
      : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the API: one operation per endpoint, named schemas under
 * `components.schemas`, and one `components.responses` entry (and a Problem schema variant) per
 * served error code, so the catalogue, the document and docs/errors.md can be checked against each
 * other.
 * @example buildOpenApiDocument(endpoints, { version: "0.1.0" }).paths["/v1/domains/{domain}"].get.operationId // "getDomain"
 */
export function buildOpenApiDocument(endpoints: readonly Endpoint[], options: OpenApiOptions): JsonSchema {
  const components = new ComponentCollector();
  const problem = components.add(ProblemDetails, "output");
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const endpoint of endpoints) {
    const path = openApiPath(endpoint.path);
    paths[path] ??= {};
    paths[path][endpoint.method.toLowerCase()] = operationOf(endpoint, components);
  }
  const served = ERROR_CODES.filter((code) => (errorCatalogue[code] as ErrorDefinition).origin === "server");
  const responses: Record<string, JsonSchema> = {};
  for (const code of served) {
    const definition: ErrorDefinition = errorCatalogue[code];
    components.schemas[code] = {
      allOf: [
        problem,
        {
          type: "object",
          properties: {
            code: { const: code },
            status: { const: definition.status },
            type: { const: problemType(code) },
          },
        },
      ],
      description: definition.title,
    };
    responses[code] = {
      description: `${code}: ${definition.title}`,
      ...(definition.retryable
        ? { headers: { "Retry-After": { $ref: "#/components/headers/Retry-After" } } }
        : {}),
      content: { [PROBLEM_JSON]: { schema: { $ref: `#/components/schemas/${code}` } } },
    };
  }
  const tags = [...new Set(endpoints.map((e) => e.tag))].map((name) => ({ name }));
  return {
    openapi: "3.1.0",
    info: {
      title: "mailplane control plane",
      version: options.version,
      description:
        "Mail tenancy as code: domains, routes, aliases, sender lists, filter settings, password policies and users. " +
        "Errors are RFC 9457 problems with a stable `code` (see docs/errors.md).",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    ...(options.servers ? { servers: options.servers.map((url) => ({ url })) } : {}),
    tags,
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API token: `Authorization: Bearer <token>`.",
        },
      },
      parameters: Object.fromEntries(
        Object.entries(HEADER_PARAMETERS).map(([key, h]) => [
          h.name,
          {
            name: h.name,
            in: "header",
            required: false,
            description: h.description,
            schema: headerValueSchema(key as keyof typeof HEADER_PARAMETERS),
          },
        ]),
      ),
      headers: {
        ETag: { description: "The object's version; send it back in If-Match.", schema: { type: "string" } },
        "Retry-After": {
          description: "Seconds to wait, or an HTTP date, before retrying.",
          schema: { type: "string" },
        },
      },
      schemas: components.schemas,
      responses,
    },
  };
}
