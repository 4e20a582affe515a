/** The audit trail's two ends: who a write is attributed to, and how stored entries read in the API. */
import type { FastifyRequest } from "fastify";
import type { AuditEntry as ApiAuditEntry } from "../../sdk/src/index.ts";
import type { AuditEntry } from "../store/contract/audit-store.ts";
import type { WriteContext } from "../store/contract/write-context.ts";

/** The audit attribution of a request: its token, the token's role and the request ID. */
export function writeContext(request: FastifyRequest): WriteContext {
  const auth = request.auth;
  return { actor: auth?.token.id ?? "system", role: auth?.role ?? null, requestId: request.id };
}

function record(v: unknown): Record<string, unknown> | null {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * A stored entry as the API returns it (the store already redacted secrets when it wrote the entry).
 *
 * @example toApiAuditEntry(entry).actor // { tokenId: "tok_…", role: "account-admin" }
 */
export function toApiAuditEntry(entry: AuditEntry): ApiAuditEntry {
  return {
    id: String(entry.seq),
    at: entry.at,
    account: entry.accountId ?? "",
    actor: {
      tokenId: entry.actor === "system" ? null : entry.actor,
      role: entry.actorRole,
    },
    action: entry.action as ApiAuditEntry["action"],
    kind: entry.kind,
    objectId: entry.objectId,
    before: record(entry.before),
    after: record(entry.after),
    requestId: entry.requestId,
  };
}
