/** The tenancy endpoints: list/get/put/patch/delete for every kind, and get/put/patch/reset for singletons. */
import { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import { ACCOUNT_LIMIT_KINDS } from "../models/account.ts";
import { Domain, DomainVerifyRequest } from "../models/domain.ts";
import { type KindDescriptor, tenancyKinds } from "../models/kinds.ts";
import { ListQuery, pageOf } from "../models/page.ts";
import type { Endpoint } from "./types.ts";

/** Path parameter schemas: each `:name` of a path becomes a required string. */
export function pathParams(path: string): z.ZodObject | undefined {
  const names = [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
  if (names.length === 0) return undefined;
  const descriptions: Record<string, string> = {
    domain: "The domain name, e.g. `example.com`.",
    route: "The route's `host:port`, e.g. `mx1.example.net:25` (IPv6 in brackets).",
    alias: "The alias address, e.g. `info@example.com` or `*@example.com`.",
    list: "The list's `kind-target`: `allow-sender`, `allow-recipient`, `block-sender` or `block-recipient`.",
    user: "The user's address, e.g. `alice@example.com`.",
    group: "The group address, e.g. `team@example.com`.",
    account: "The account slug, e.g. `acme`.",
    scope: "The access rule's scope: `account`, a domain such as `example.com` or a user address.",
    service: "The access rule's service: `smtp-submission` or `api`.",
    token: "The token ID (not the secret).",
  };
  return z.strictObject(
    Object.fromEntries(
      names.map((n) => [
        n,
        z
          .string()
          .min(1)
          .describe(descriptions[n] ?? n),
      ]),
    ),
  );
}

/**
 * The etag of a singleton that was never set (or was reset): GET answers its defaults with it, and
 * `If-Match: "defaults"` matches while nothing is stored.
 */
export const DEFAULTS_ETAG = "defaults";

const READ: Endpoint["headers"] = { ifMatch: "none", idempotencyKey: "none", account: "optional" };
const WRITE: Endpoint["headers"] = { ifMatch: "optional", idempotencyKey: "none", account: "optional" };
/** A write that stores an object: it may carry the declaring stack's stamp. */
const STAMPED: Endpoint["headers"] = { ...WRITE, managedBy: "optional" };
/**
 * PUT of a collection kind: `If-None-Match: *` makes it a create that never replaces (412 when the
 * object exists), and an `Idempotency-Key` lets that create be retried: a repeat answers what the
 * first attempt did (201) rather than 412 for the object the first attempt created.
 */
const PUT: Endpoint["headers"] = {
  ifMatch: "optional",
  ifNoneMatch: "optional",
  idempotencyKey: "optional",
  account: "optional",
  managedBy: "optional",
};

/** Tag names: the kind's name in plural words, e.g. `Sender lists`. */
function tagOf(k: KindDescriptor): string {
  const words = k.plural.replace(/([A-Z])/g, " $1").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The five endpoints of a collection kind. */
function collectionEndpoints(k: KindDescriptor): Endpoint[] {
  const name = k.name;
  const plural = k.plural.charAt(0).toUpperCase() + k.plural.slice(1);
  const tag = tagOf(k);
  const item = { params: pathParams(k.itemPath), kind: name, tag };
  const parentErrors: ErrorCode[] = k.itemPath.startsWith("/v1/domains/:domain/")
    ? ["MP_PARENT_NOT_FOUND"]
    : [];
  const deleteErrors: ErrorCode[] = ["MP_NOT_FOUND", "MP_PRECONDITION_FAILED", "MP_PRECONDITION_REQUIRED"];
  if (name === "User") deleteErrors.push("MP_USER_ENABLED");
  if (name === "Domain") deleteErrors.push("MP_CONFLICT");
  const writeErrors: ErrorCode[] = [
    "MP_VALIDATION_FAILED",
    "MP_PRECONDITION_FAILED",
    "MP_PRECONDITION_REQUIRED",
    "MP_PAYLOAD_TOO_LARGE",
    "MP_UNSUPPORTED_MEDIA_TYPE",
    ...parentErrors,
    ...(name === "User" ? (["MP_PASSWORD_POLICY_VIOLATION"] as const) : []),
    ...(name === "Domain" ? (["MP_CONFLICT", "MP_DOMAIN_TAKEN"] as const) : []),
    ...(Object.values(ACCOUNT_LIMIT_KINDS).includes(name as never) ? (["MP_LIMIT_EXCEEDED"] as const) : []),
  ];
  return [
    {
      operationId: `list${plural}`,
      method: "GET",
      path: k.collectionPath!,
      summary: `List ${tag.toLowerCase()}${k.collectionPath!.includes(":domain") ? " of a domain" : ""}.`,
      tag,
      kind: name,
      access: "read",
      params: pathParams(k.collectionPath!),
      query: ListQuery,
      response: pageOf(k.object),
      successStatuses: [200],
      headers: READ,
      etag: false,
      errors: k.collectionPath!.includes(":domain") ? ["MP_NOT_FOUND"] : [],
    },
    {
      ...item,
      operationId: `get${name}`,
      method: "GET",
      path: k.itemPath,
      summary: `Get a ${name}.`,
      access: "read",
      response: k.object,
      successStatuses: [200],
      headers: READ,
      etag: true,
      errors: ["MP_NOT_FOUND"],
    },
    {
      ...item,
      operationId: `put${name}`,
      method: "PUT",
      path: k.itemPath,
      summary: `Create or replace a ${name} (idempotent by ID; key fields must match the path). 201 when created; with \`If-None-Match: *\` only creates (412 if it exists).`,
      access: "write",
      body: k.spec,
      response: k.object,
      successStatuses: [200, 201],
      headers: PUT,
      etag: true,
      errors: [...writeErrors, "MP_IDEMPOTENCY_KEY_REUSED"],
    },
    {
      ...item,
      operationId: `patch${name}`,
      method: "PATCH",
      path: k.itemPath,
      summary: `Change some fields of a ${name}; the result is re-validated as a whole.`,
      access: "write",
      body: k.patch,
      response: k.object,
      successStatuses: [200],
      headers: STAMPED,
      etag: true,
      errors: ["MP_NOT_FOUND", ...writeErrors.filter((c) => c !== "MP_PARENT_NOT_FOUND")],
    },
    {
      ...item,
      operationId: `delete${name}`,
      method: "DELETE",
      path: k.itemPath,
      summary:
        name === "User"
          ? "Delete a user; the user must be disabled first (409 MP_USER_ENABLED)."
          : `Delete a ${name}.`,
      access: "write",
      response: null,
      successStatuses: [204],
      headers: WRITE,
      etag: false,
      errors: deleteErrors,
    },
  ];
}

/** The get/put/patch/reset endpoints of a singleton kind at one of its two paths. */
function singletonEndpoints(k: KindDescriptor, at: "Account" | "Domain"): Endpoint[] {
  const path = at === "Account" ? k.accountPath! : k.itemPath;
  const base = { params: pathParams(path), kind: k.name, tag: tagOf(k), path };
  const where = at === "Account" ? "the account-wide default" : "a domain";
  const write: ErrorCode[] = [
    "MP_VALIDATION_FAILED",
    "MP_PRECONDITION_FAILED",
    "MP_PRECONDITION_REQUIRED",
    "MP_PAYLOAD_TOO_LARGE",
    "MP_UNSUPPORTED_MEDIA_TYPE",
    ...(at === "Domain" ? (["MP_NOT_FOUND"] as const) : []),
  ];
  return [
    {
      ...base,
      operationId: `get${at}${k.name}`,
      method: "GET",
      summary: `Get the ${k.name} of ${where} (the defaults when never set).`,
      access: "read",
      response: k.object,
      successStatuses: [200],
      headers: READ,
      etag: true,
      errors: at === "Domain" ? ["MP_NOT_FOUND"] : [],
    },
    {
      ...base,
      operationId: `put${at}${k.name}`,
      method: "PUT",
      summary: `Replace the ${k.name} of ${where}; \`scope\` must match the path.`,
      access: "write",
      body: k.spec,
      response: k.object,
      successStatuses: [200],
      headers: STAMPED,
      etag: true,
      errors: write,
    },
    {
      ...base,
      operationId: `patch${at}${k.name}`,
      method: "PATCH",
      summary: `Change some fields of the ${k.name} of ${where}.`,
      access: "write",
      body: k.patch,
      response: k.object,
      successStatuses: [200],
      headers: STAMPED,
      etag: true,
      errors: write,
    },
    {
      ...base,
      operationId: `reset${at}${k.name}`,
      method: "DELETE",
      summary: `Reset the ${k.name} of ${where} to the defaults; answers the defaults.`,
      access: "write",
      response: k.object,
      successStatuses: [200],
      headers: WRITE,
      etag: true,
      errors: [
        "MP_PRECONDITION_FAILED",
        "MP_PRECONDITION_REQUIRED",
        ...(at === "Domain" ? (["MP_NOT_FOUND"] as const) : []),
      ],
    },
  ];
}

/**
 * `POST /v1/domains/{domain}/verify`: looks up the pending names' verification records now, or (a
 * platform admin, `{ "method": "admin" }`) marks names verified. Answers the Domain with its
 * `verification`; a check that finds nothing is not an error: the name stays pending and
 * `lastCheck` says what was found.
 */
const verifyDomain: Endpoint = {
  operationId: "verifyDomain",
  method: "POST",
  path: "/v1/domains/:domain/verify",
  summary:
    "Check a domain's ownership: look up each pending name's verification TXT record now, or (platform admins, method admin) mark names verified.",
  tag: "Domains",
  kind: "Domain",
  access: "write",
  params: pathParams("/v1/domains/:domain/verify"),
  body: DomainVerifyRequest,
  response: Domain,
  successStatuses: [200],
  headers: { ifMatch: "none", idempotencyKey: "none", account: "optional" },
  etag: true,
  errors: [
    "MP_NOT_FOUND",
    "MP_FORBIDDEN",
    "MP_VALIDATION_FAILED",
    "MP_UNSUPPORTED_MEDIA_TYPE",
    "MP_PAYLOAD_TOO_LARGE",
  ],
};

/** Every tenancy endpoint, kind by kind in dependency order. */
export const endpoints: readonly Endpoint[] = tenancyKinds.flatMap((k) => {
  const d = k as unknown as KindDescriptor;
  if (d.singleton) return [...singletonEndpoints(d, "Account"), ...singletonEndpoints(d, "Domain")];
  return d.name === "Domain" ? [...collectionEndpoints(d), verifyDomain] : collectionEndpoints(d);
});
