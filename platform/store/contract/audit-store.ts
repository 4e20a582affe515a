/** The store's audit log: every write audits itself; this records actions outside the store and reads the log. */
import type { Page } from "./page.ts";
import type { WriteContext } from "./write-context.ts";

/** One audit-log entry. `before`/`after` never contain secrets (the store redacts again on write). */
export interface AuditEntry {
  seq: number;
  at: string;
  accountId: string | null;
  /** The acting token's id, or "system" for bootstrap and maintenance. */
  actor: string;
  /** The acting token's role at the time, null for "system". */
  actorRole: string | null;
  action: string;
  kind: string;
  objectId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/** Filters of {@link AuditStore.listAudit}; `since` is inclusive, `until` exclusive (RFC 3339 UTC). */
export interface AuditQueryInput {
  accountId?: string;
  kind?: string;
  objectId?: string;
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

/**
 * The audit log. Writes record their own entries in their transaction; this adds the rest and reads.
 *
 * @example
 * const page = await store.listAudit({ accountId: "acme", kind: "Domain", limit: 50 });
 */
export interface AuditStore {
  /**
   * Records an audit entry for an action that changes nothing the store holds (an operation on the
   * SMTP engine, such as clearing a domain's recipient callout cache); `after` says what was done.
   */
  recordAudit(
    entry: { accountId: string; action: string; kind: string; objectId: string; after: unknown },
    ctx: WriteContext,
  ): Promise<void>;
  /** Audit entries, newest first; every filter is optional (AND). */
  listAudit(input: AuditQueryInput): Promise<Page<AuditEntry>>;
}
