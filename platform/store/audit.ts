/** The store's audit log: writing entries (secrets redacted) and listing them newest first. */

import type { AccountRecord } from "./contract/account-store.ts";
import type { AuditEntry, AuditQueryInput } from "./contract/audit-store.ts";
import type { StoredObject } from "./contract/object-store.ts";
import type { Page } from "./contract/page.ts";
import type { WriteContext } from "./contract/write-context.ts";
import { decodeCursor, pageOf, redactSecrets, type SqlExecutor, str, strOrNull } from "./sql.ts";

/** One audit entry as a write step gives it (the actor and request come from the WriteContext). */
export interface AuditInput {
  accountId: string | null;
  action: string;
  kind: string;
  objectId: string;
  before: unknown;
  after: unknown;
}

function toAudit(r: Record<string, unknown>): AuditEntry {
  return {
    seq: Number(r.seq),
    at: str(r.at),
    accountId: strOrNull(r.account_id),
    actor: str(r.actor),
    actorRole: strOrNull(r.actor_role),
    action: str(r.action),
    kind: str(r.kind),
    objectId: str(r.object_id),
    before: r.before_json === null ? null : JSON.parse(str(r.before_json)),
    after: r.after_json === null ? null : JSON.parse(str(r.after_json)),
    requestId: strOrNull(r.request_id),
  };
}

/** What the audit log records of an object: its spec and state, never bookkeeping or secrets. */
export function auditView(o: StoredObject | AccountRecord | null, extra?: Record<string, unknown>): unknown {
  if (!o) return null;
  const base: Record<string, unknown> = { id: o.id, ...o.spec };
  if ("enabled" in o) base.enabled = o.enabled;
  return { ...base, ...extra };
}

/** Writes one audit entry at `at` (ISO time) in the caller's transaction; secret-named keys are redacted. */
export async function writeAudit(
  q: SqlExecutor,
  at: string,
  ctx: WriteContext,
  entry: AuditInput,
): Promise<void> {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(redactSecrets(v)));
  await q.run(
    `INSERT INTO audit_log (at, account_id, actor, actor_role, action, kind, object_id, before_json, after_json, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      at,
      entry.accountId,
      ctx.actor,
      ctx.role ?? null,
      entry.action,
      entry.kind,
      entry.objectId,
      json(entry.before),
      json(entry.after),
      ctx.requestId ?? null,
    ],
  );
}

/** One page of audit entries matching `input`'s filters, newest first. */
export async function listAudit(q: SqlExecutor, input: AuditQueryInput): Promise<Page<AuditEntry>> {
  const params: (string | number)[] = [];
  const where: string[] = [];
  const add = (column: string, value: string | number | undefined, op = "=") => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${column} ${op} $${params.length}`);
  };
  add("account_id", input.accountId);
  add("kind", input.kind);
  add("object_id", input.objectId);
  add("actor", input.actor);
  add("action", input.action);
  add("at", input.since, ">=");
  add("at", input.until, "<");
  if (input.cursor) add("seq", Number(decodeCursor(input.cursor, ["number"])[0]), "<");
  params.push(input.limit + 1);
  const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY seq DESC LIMIT $${params.length}`;
  const rows = await q.all(sql, params);
  return pageOf(rows.map(toAudit), input.limit, (a) => [a.seq]);
}
