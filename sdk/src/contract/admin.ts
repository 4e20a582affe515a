/** The administrative endpoints: health, the OpenAPI document, whoami, accounts, API tokens, the audit log and login lockouts. */
import { z } from "zod";
import { Account, AccountLimits, AccountSpec } from "../models/account.ts";
import { ApiToken, ApiTokenCreated, ApiTokenSpec, TOKEN_ROLES } from "../models/api-token.ts";
import { AuditEntry, AuditQuery } from "../models/audit.ts";
import { LoginLockout, LoginLockoutQuery } from "../models/lockout.ts";
import { LoginAuditEntry, LoginAuditQuery } from "../models/login-audit.ts";
import { ListQuery, pageOf } from "../models/page.ts";
import { pathParams } from "./tenancy.ts";
import type { Endpoint } from "./types.ts";

/** How long `GET /healthz` waits for the store before it answers 503: 1 s. */
export const HEALTH_STORE_TIMEOUT_MS = 1_000;

/** The answer of `GET /healthz` while the store answers (otherwise 503 MP_UNAVAILABLE). */
export const Health = z
  .object({
    status: z.literal("ok").describe("`ok`: the process runs and its store answered."),
    version: z.string().describe("The platform's version."),
    store: z
      .object({
        ok: z.literal(true).describe("The store answered."),
        latencyMs: z
          .number()
          .int()
          .min(0)
          .describe("How long the store took to answer a one-row read, in whole milliseconds."),
      })
      .describe("The store's state."),
  })
  .meta({
    id: "Health",
    title: "Health",
    description:
      "Version and the store's state. When the store does not answer within 1 s the endpoint answers 503 MP_UNAVAILABLE (a problem naming the fault) instead.",
  });

/** The answer of `GET /v1/whoami`: what the presented token is. */
export const WhoAmI = z
  .object({
    tokenId: z.string().describe("The token's ID."),
    account: z
      .string()
      .nullable()
      .describe("The account acted on (null for a platform admin without Mailplane-Account)."),
    role: z.enum(TOKEN_ROLES).describe("The token's role."),
    domains: z.array(z.string()).describe("For domain-admin tokens, the domains it may manage."),
    limits: AccountLimits.nullable().describe(
      "The account's limits (`AccountSpec.limits`; `{}` for none), null without an account.",
    ),
    usage: z
      .strictObject({
        domains: z.number().int(),
        users: z.number().int(),
        aliases: z.number().int(),
        groups: z.number().int(),
      })
      .nullable()
      .describe("How many objects of each limited kind the account holds, null without an account."),
  })
  .meta({ id: "WhoAmI", title: "WhoAmI", description: "The calling token's identity and scope." });

export type Health = z.output<typeof Health>;
export type WhoAmI = z.output<typeof WhoAmI>;

const LockoutParams = z.strictObject({
  key: z
    .string()
    .min(1)
    .describe(
      "The lockout key: an IPv4 address, or an IPv6 /64 such as `2001:db8:1:2::/64` (URL-encoded); any IPv6 address in the /64 names it too.",
    ),
});

const NONE: Endpoint["headers"] = { ifMatch: "none", idempotencyKey: "none", account: "none" };
const ACCOUNT: Endpoint["headers"] = { ifMatch: "none", idempotencyKey: "none", account: "optional" };

/** The administrative endpoints. */
export const endpoints: readonly Endpoint[] = [
  {
    operationId: "getHealth",
    method: "GET",
    path: "/healthz",
    summary:
      "Health: 200 with the store's latency when it answers within 1 s, else 503 MP_UNAVAILABLE naming the fault. Answers within about 1 s even when the database hangs.",
    tag: "Platform",
    access: "public",
    response: Health,
    successStatuses: [200],
    headers: NONE,
    etag: false,
    errors: ["MP_UNAVAILABLE"],
  },
  {
    operationId: "getOpenApi",
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document.",
    tag: "Platform",
    access: "public",
    response: z.record(z.string(), z.unknown()).describe("An OpenAPI 3.1 document."),
    successStatuses: [200],
    headers: NONE,
    etag: false,
    errors: [],
  },
  {
    operationId: "getWhoAmI",
    method: "GET",
    path: "/v1/whoami",
    summary: "Who the presented token is: its account, role and domains, and the account's limits and usage.",
    tag: "Tokens",
    access: "read",
    response: WhoAmI,
    successStatuses: [200],
    headers: ACCOUNT,
    etag: false,
    errors: [],
  },
  {
    operationId: "listAccounts",
    method: "GET",
    path: "/v1/accounts",
    summary: "List accounts.",
    tag: "Accounts",
    kind: "Account",
    access: "platform-admin",
    query: ListQuery,
    response: pageOf(Account),
    successStatuses: [200],
    headers: NONE,
    etag: false,
    errors: [],
  },
  {
    operationId: "getAccount",
    method: "GET",
    path: "/v1/accounts/:account",
    summary: "Get an account.",
    tag: "Accounts",
    kind: "Account",
    access: "platform-admin",
    params: pathParams("/v1/accounts/:account"),
    response: Account,
    successStatuses: [200],
    headers: NONE,
    etag: true,
    errors: ["MP_NOT_FOUND"],
  },
  {
    operationId: "putAccount",
    method: "PUT",
    path: "/v1/accounts/:account",
    summary:
      "Create or rename an account (the body's `id` must match the path). 201 when created; with `If-None-Match: *` only creates (412 when it exists).",
    tag: "Accounts",
    kind: "Account",
    access: "platform-admin",
    params: pathParams("/v1/accounts/:account"),
    body: AccountSpec,
    response: Account,
    successStatuses: [200, 201],
    headers: { ifMatch: "optional", ifNoneMatch: "optional", idempotencyKey: "none", account: "none" },
    etag: true,
    errors: [
      "MP_VALIDATION_FAILED",
      "MP_PRECONDITION_FAILED",
      "MP_UNSUPPORTED_MEDIA_TYPE",
      "MP_PAYLOAD_TOO_LARGE",
    ],
  },
  {
    operationId: "deleteAccount",
    method: "DELETE",
    path: "/v1/accounts/:account",
    summary: "Delete an account and everything in it.",
    tag: "Accounts",
    kind: "Account",
    access: "platform-admin",
    params: pathParams("/v1/accounts/:account"),
    response: null,
    successStatuses: [204],
    headers: { ifMatch: "optional", idempotencyKey: "none", account: "none" },
    etag: false,
    errors: ["MP_NOT_FOUND", "MP_PRECONDITION_FAILED"],
  },
  {
    operationId: "listTokens",
    method: "GET",
    path: "/v1/tokens",
    summary: "List the account's API tokens (never their secret values).",
    tag: "Tokens",
    kind: "ApiToken",
    access: "account-admin",
    query: ListQuery,
    response: pageOf(ApiToken),
    successStatuses: [200],
    headers: ACCOUNT,
    etag: false,
    errors: ["MP_ACCOUNT_REQUIRED"],
  },
  {
    operationId: "createToken",
    method: "POST",
    path: "/v1/tokens",
    summary: "Create an API token; the answer holds its secret value, shown this once.",
    tag: "Tokens",
    kind: "ApiToken",
    access: "account-admin",
    body: ApiTokenSpec,
    response: ApiTokenCreated,
    successStatuses: [201],
    headers: { ifMatch: "none", idempotencyKey: "optional", account: "optional" },
    etag: true,
    errors: [
      "MP_ACCOUNT_REQUIRED",
      "MP_VALIDATION_FAILED",
      "MP_IDEMPOTENCY_KEY_REUSED",
      "MP_UNSUPPORTED_MEDIA_TYPE",
      "MP_PAYLOAD_TOO_LARGE",
    ],
  },
  {
    operationId: "getToken",
    method: "GET",
    path: "/v1/tokens/:token",
    summary: "Get an API token (never its secret value).",
    tag: "Tokens",
    kind: "ApiToken",
    access: "account-admin",
    params: pathParams("/v1/tokens/:token"),
    response: ApiToken,
    successStatuses: [200],
    headers: ACCOUNT,
    etag: true,
    errors: ["MP_ACCOUNT_REQUIRED", "MP_NOT_FOUND"],
  },
  {
    operationId: "revokeToken",
    method: "DELETE",
    path: "/v1/tokens/:token",
    summary: "Revoke an API token; it stops working at once and stays listed with `revokedAt`.",
    tag: "Tokens",
    kind: "ApiToken",
    access: "account-admin",
    params: pathParams("/v1/tokens/:token"),
    response: null,
    successStatuses: [204],
    headers: ACCOUNT,
    etag: false,
    errors: ["MP_ACCOUNT_REQUIRED", "MP_NOT_FOUND"],
  },
  {
    operationId: "listAudit",
    method: "GET",
    path: "/v1/audit",
    summary:
      "Search the audit log, newest first: every change with who, what, before and after (never a secret).",
    tag: "Audit",
    access: "account-admin",
    query: AuditQuery,
    response: pageOf(AuditEntry),
    successStatuses: [200],
    headers: ACCOUNT,
    etag: false,
    errors: ["MP_ACCOUNT_REQUIRED"],
  },
  {
    operationId: "listLoginAudit",
    method: "GET",
    path: "/v1/domains/:domain/login-audit",
    summary:
      "Search the domain's login audit, newest first: API sign-in steps and SMTP AUTH attempts (result, reason, IP, service, credential kind; never a secret), attempts with the same facts within a clock hour counted on one entry. Kept 90 days.",
    tag: "Audit",
    access: "read",
    params: pathParams("/v1/domains/:domain/login-audit"),
    query: LoginAuditQuery,
    response: pageOf(LoginAuditEntry),
    successStatuses: [200],
    headers: { ifMatch: "none", idempotencyKey: "none", account: "optional" },
    etag: false,
    errors: ["MP_NOT_FOUND"],
  },
  {
    operationId: "listLoginLockouts",
    method: "GET",
    path: "/v1/lockouts",
    summary:
      "List SMTP login lockouts: client IPv4 addresses and IPv6 /64s with counted failures or a lock that holds. A platform admin without Mailplane-Account sees all; an account sees those that concern its domains.",
    tag: "Lockouts",
    access: "account-admin",
    query: LoginLockoutQuery,
    response: pageOf(LoginLockout),
    successStatuses: [200],
    headers: ACCOUNT,
    etag: false,
    errors: [],
  },
  {
    operationId: "liftLoginLockout",
    method: "DELETE",
    path: "/v1/lockouts/:key",
    summary:
      "Lift a login lockout: the key may log in again and its failures are forgotten (audited). An account admin may lift only lockouts whose failures all concern its own domains.",
    tag: "Lockouts",
    access: "account-admin",
    params: LockoutParams,
    response: null,
    successStatuses: [204],
    headers: ACCOUNT,
    etag: false,
    errors: ["MP_NOT_FOUND"],
  },
];
