/** Single object rows: reading one, and the row-level writes (remove, insert a successor) every object write builds on. */

import { accessRuleDomain } from "../../sdk/src/models/access-rule.ts";
import { auditView } from "./audit.ts";
import type { StoredObject } from "./contract/object-store.ts";
import type { WriteContext } from "./contract/write-context.ts";
import { forgetCredential } from "./credentials.ts";
import { pruneVerification } from "./domain-names.ts";
import { forgetDomainAttempts } from "./login-audit.ts";
import { forgetAddresses } from "./recipient-addresses.ts";
import { canonicalJson, type SqlExecutor, str, strOrNull } from "./sql.ts";
import * as userAuth from "./user-auth.ts";
import { newEtag, newGeneration, type WriteSteps } from "./write-steps.ts";

/** The kind whose objects restrict where sign-ins come from; they name their domain in their scope, not the domain column. */
const ACCESS_RULE_KIND = "AccessRule";

/** The kind whose objects own password credentials. */
const USER_KIND = "User";

/** The objects table's columns, in the order {@link toObject} reads them. */
export const OBJECT_COLUMNS =
  "account_id, kind, id, domain, spec, enabled, etag, version, created_at, updated_at, secret_set_at, generation, managed_by";

/** An objects row (selected with {@link OBJECT_COLUMNS}) as a StoredObject. */
export function toObject(r: Record<string, unknown>): StoredObject {
  return {
    accountId: str(r.account_id),
    kind: str(r.kind),
    id: str(r.id),
    domain: r.domain === "" ? null : str(r.domain),
    spec: JSON.parse(str(r.spec)),
    enabled: Number(r.enabled) === 1,
    etag: str(r.etag),
    version: Number(r.version),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    secretSetAt: strOrNull(r.secret_set_at),
    generation: str(r.generation),
    managedBy: r.managed_by === null || r.managed_by === undefined ? null : JSON.parse(str(r.managed_by)),
  };
}

/** The object with this key, through a transaction's executor or a plain read. */
export async function selectObject(
  q: SqlExecutor,
  key: { accountId: string; kind: string; id: string },
): Promise<StoredObject | null> {
  const rows = await q.all(
    `SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 AND kind = $2 AND id = $3`,
    [key.accountId, key.kind, key.id],
  );
  return rows[0] ? toObject(rows[0]) : null;
}

/**
 * Inside a write: creates a delete's successor object (see {@link DeleteObjectInput.successor}),
 * audited and bumped; the caller holds the writers' lock.
 */
export async function insertSuccessor(
  q: SqlExecutor,
  ctx: WriteContext,
  accountId: string,
  next: { kind: string; id: string; domain: string; spec: Record<string, unknown> },
  steps: WriteSteps,
): Promise<void> {
  const at = steps.now().toISOString();
  const object: StoredObject = {
    accountId,
    kind: next.kind,
    id: next.id,
    domain: next.domain,
    spec: JSON.parse(canonicalJson(next.spec)),
    enabled: true,
    etag: newEtag(),
    version: 1,
    createdAt: at,
    updatedAt: at,
    secretSetAt: null,
    generation: newGeneration(),
    // A successor is the platform's own object, declared by no stack.
    managedBy: null,
  };
  await q.run(
    `INSERT INTO objects (account_id, kind, id, domain, spec, enabled, etag, version, secret_set_at,
       created_at, updated_at, generation)
     VALUES ($1, $2, $3, $4, $5, 1, $6, 1, NULL, $7, $7, $8)`,
    [
      accountId,
      next.kind,
      next.id,
      next.domain,
      canonicalJson(next.spec),
      object.etag,
      at,
      object.generation,
    ],
  );
  await steps.audit(q, ctx, {
    accountId,
    action: "create",
    kind: next.kind,
    objectId: next.id,
    before: null,
    after: auditView(object),
  });
  await steps.bump(q, { accountId, kind: next.kind, id: next.id, op: "put" });
}

/**
 * Inside a write: deletes one object (a Domain's verification, a User's credentials and sign-in state
 * with it), audited as `action` (default `"delete"`) and bumped; the caller holds the writers' lock.
 */
export async function removeObject(
  q: SqlExecutor,
  ctx: WriteContext,
  o: StoredObject,
  steps: WriteSteps,
  action = "delete",
): Promise<void> {
  await q.run("DELETE FROM objects WHERE account_id = $1 AND kind = $2 AND id = $3", [
    o.accountId,
    o.kind,
    o.id,
  ]);
  // Its addresses are free for the next recipient.
  await forgetAddresses(q, o);
  if (o.kind === "Domain") {
    // A name given up must be verified again by whoever holds it next.
    await pruneVerification(q, o.accountId, o.id, []);
    await forgetDomainSignIns(q, ctx, o, steps, action);
  }
  if (o.kind === USER_KIND) {
    await forgetCredential(q, o.accountId, o.id);
    // Sessions, TOTP and application passwords die with the user: a later user of the address starts clean.
    await userAuth.forgetUser(q, o.accountId, o.id);
  }
  await steps.audit(q, ctx, {
    accountId: o.accountId,
    action,
    kind: o.kind,
    objectId: o.id,
    before: auditView(o),
    after: null,
  });
  await steps.bump(q, { accountId: o.accountId, kind: o.kind, id: o.id, op: "delete" });
}

/**
 * What a deleted domain leaves of its sign-ins, removed with it (same transaction): its login audit
 * entries and the access rules scoped to it or to one of its users (each audited and announced like
 * any delete). Otherwise the same account recreating the domain would find the old history and the
 * old rules in force again.
 */
async function forgetDomainSignIns(
  q: SqlExecutor,
  ctx: WriteContext,
  domain: StoredObject,
  steps: WriteSteps,
  action: string,
): Promise<void> {
  await forgetDomainAttempts(q, domain.accountId, domain.id);
  const rules = (
    await q.all(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 AND kind = $2 ORDER BY id`, [
      domain.accountId,
      ACCESS_RULE_KIND,
    ])
  )
    .map(toObject)
    .filter((r) => accessRuleDomain(r.spec as { scope: string }) === domain.id);
  for (const rule of rules) await removeObject(q, ctx, rule, steps, action);
}
