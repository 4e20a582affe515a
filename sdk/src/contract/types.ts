/** The shape of one API endpoint in the route table (the contract the server, the client and OpenAPI share). */
import type { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import type { SessionStage } from "../models/session.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Who may call an endpoint. `public`: no token; `read`: any valid token of the account (a
 * domain-admin token only for its domains); `write`: any role but `read-only`; `account-admin`:
 * account-admin or platform-admin; `platform-admin`: platform admins only; `user`: a mail user's
 * session only (`/v1/me/…`: the user's own data), never an API token. Sessions may call nothing else.
 */
export type Access = "public" | "read" | "write" | "account-admin" | "platform-admin" | "user";

/** How an endpoint treats a request header: not used, accepted, or required (428 without it). */
export type HeaderUse = "none" | "optional" | "required";

/** One endpoint. Schemas are zod; `contract/json-schema.ts` turns them into JSON Schema for fastify and OpenAPI. */
export interface Endpoint {
  /** Stable name, used by OpenAPI, the client's methods and the server's handlers: `getRoute`. */
  readonly operationId: string;
  readonly method: HttpMethod;
  /** Fastify-style path: `/v1/domains/:domain/routes/:route`. */
  readonly path: string;
  readonly summary: string;
  /** OpenAPI tag (one per area or kind): `Routes`. */
  readonly tag: string;
  readonly access: Access;
  /** The kind the endpoint serves, if any (`Route`). */
  readonly kind?: string;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Request body (`application/json`), validated against the schema's input side. */
  readonly body?: z.ZodType;
  /** A request body that is not JSON but raw bytes of this media type, up to `maxBytes` (413 past it). */
  readonly rawBody?: { readonly mediaType: "message/rfc822"; readonly maxBytes: number };
  /** A JSON body may be this large (413 past it); default the server's limit (1 MiB). */
  readonly maxBodyBytes?: number;
  /** Success response body (`application/json`), the schema's output side; null for no body. */
  readonly response: z.ZodType | null;
  /** Success statuses; the first is the usual one (`PUT` answers 201 when it created the object). */
  readonly successStatuses: readonly [200 | 201 | 202 | 204, ...(200 | 201 | 202 | 204)[]];
  /** Request headers the endpoint reads. */
  readonly headers: {
    /** `If-Match: <etag>`: 412 MP_PRECONDITION_FAILED on mismatch. */
    readonly ifMatch: HeaderUse;
    /**
     * `If-None-Match: *`: create only; 412 MP_PRECONDITION_FAILED when the object exists (RFC 9110
     * §13.1.2). Absent: not used.
     */
    readonly ifNoneMatch?: HeaderUse;
    /** `Idempotency-Key`: a retried create returns the first answer (not a 412 from its own first attempt). */
    readonly idempotencyKey: HeaderUse;
    /** `Mailplane-Account`: which account a platform-admin token acts on. */
    readonly account: HeaderUse;
    /** `Mailplane-Managed-By`: the stack stamp a write records on what it writes. Absent: not used. */
    readonly managedBy?: HeaderUse;
  };
  /** The response carries an `ETag` header (the object's `etag`). */
  readonly etag: boolean;
  /**
   * `user` endpoints: the session stages besides `active` that may call it (a session that must
   * finish a sign-in step may take only that step). Default none.
   */
  readonly stages?: readonly SessionStage[];
  /**
   * `user` endpoints: an application password with scope `api` may call it as the bearer (`mpa_…`),
   * for scripts reading the user's mail. Default false: only sessions.
   */
  readonly appPasswords?: boolean;
  /** Error codes this endpoint can answer with besides the ones every endpoint can. */
  readonly errors: readonly ErrorCode[];
}

/** Errors every authenticated endpoint can answer with. */
export const COMMON_ERRORS: readonly ErrorCode[] = [
  "MP_BAD_REQUEST",
  "MP_UNAUTHORIZED",
  "MP_FORBIDDEN",
  "MP_RATE_LIMITED",
  "MP_INTERNAL",
  "MP_UNAVAILABLE",
];
