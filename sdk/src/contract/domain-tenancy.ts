/** Bulk tenancy: read, plan, apply (one transaction) and delete a domain's whole tenancy as one document. */
import { z } from "zod";
import { DomainTenancy, DomainTenancyDocument, TenancyPlan } from "../models/domain-tenancy.ts";
import type { Endpoint } from "./types.ts";

const DomainParams = z.strictObject({
  domain: z.string().min(1).describe("The domain name, e.g. `example.com`."),
});

const WRITE_ERRORS = [
  "MP_VALIDATION_FAILED",
  "MP_PASSWORD_POLICY_VIOLATION",
  "MP_CONFLICT",
  "MP_DOMAIN_TAKEN",
  "MP_LIMIT_EXCEEDED",
  "MP_PAYLOAD_TOO_LARGE",
  "MP_UNSUPPORTED_MEDIA_TYPE",
] as const;

/**
 * How large a tenancy document may be: 16 MiB, room for about 100,000 objects (an alias or a user
 * takes 100–200 bytes), where the server's 1 MiB default would stop at about 7,000. Past it: 413.
 */
export const TENANCY_DOCUMENT_MAX_BYTES = 16 * 1024 * 1024;

/** The bulk tenancy endpoints (tag `Tenancy`). */
export const endpoints: readonly Endpoint[] = [
  {
    operationId: "getDomainTenancy",
    method: "GET",
    path: "/v1/domains/:domain/tenancy",
    summary:
      "Get a domain's whole tenancy as one document, with its version tag (passwords are never returned).",
    tag: "Tenancy",
    access: "read",
    params: DomainParams,
    response: DomainTenancy,
    successStatuses: [200],
    headers: { ifMatch: "none", idempotencyKey: "none", account: "optional" },
    etag: true,
    errors: ["MP_NOT_FOUND"],
  },
  {
    operationId: "planDomainTenancy",
    method: "POST",
    path: "/v1/domains/:domain/tenancy/plan",
    summary:
      "Validate a domain's complete desired tenancy (every problem at once, a path per object) and answer the per-object changes an apply would make, writing nothing.",
    tag: "Tenancy",
    access: "write",
    params: DomainParams,
    body: DomainTenancyDocument,
    maxBodyBytes: TENANCY_DOCUMENT_MAX_BYTES,
    response: TenancyPlan,
    successStatuses: [200],
    headers: { ifMatch: "none", idempotencyKey: "none", account: "optional" },
    etag: false,
    errors: [...WRITE_ERRORS],
  },
  {
    operationId: "applyDomainTenancy",
    method: "PUT",
    path: "/v1/domains/:domain/tenancy",
    summary:
      "Make a domain's tenancy exactly the document: every change in one transaction (all or nothing, one audit entry per object). Objects left out are deleted; with If-Match, only over that tenancy version (412 otherwise); with `If-None-Match: *`, only when the domain does not exist (412 otherwise, nothing changed). An Idempotency-Key makes a retry answer what its first attempt did.",
    tag: "Tenancy",
    access: "write",
    params: DomainParams,
    body: DomainTenancyDocument,
    maxBodyBytes: TENANCY_DOCUMENT_MAX_BYTES,
    response: TenancyPlan,
    successStatuses: [200],
    // A create-only apply (`If-None-Match: *`) with an Idempotency-Key can be retried: the repeat of
    // an apply whose answer was lost gets that answer, not a 412 for the domain it created.
    headers: {
      ifMatch: "optional",
      ifNoneMatch: "optional",
      idempotencyKey: "optional",
      account: "optional",
      managedBy: "optional",
    },
    etag: true,
    errors: [...WRITE_ERRORS, "MP_PRECONDITION_FAILED", "MP_IDEMPOTENCY_KEY_REUSED"],
  },
  {
    operationId: "deleteDomainTenancy",
    method: "DELETE",
    path: "/v1/domains/:domain/tenancy",
    summary:
      "Delete a domain and every object under it in one transaction (users need not be disabled first). With If-Match, only that tenancy version.",
    tag: "Tenancy",
    access: "write",
    params: DomainParams,
    response: null,
    successStatuses: [204],
    headers: { ifMatch: "optional", idempotencyKey: "none", account: "optional" },
    etag: false,
    errors: ["MP_NOT_FOUND", "MP_PRECONDITION_FAILED"],
  },
];
