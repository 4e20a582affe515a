/** Tenancy objects: listing them, and the object writes (put, delete) with everything each one checks and cascades. */
import { checkAccountLimit } from "./account-limits.ts";
import { auditView } from "./audit.ts";
import {
  DEPARTED_KIND,
  type DeleteObjectInput,
  type ListObjectsInput,
  type PutObjectInput,
  type PutObjectResult,
  type StoredObject,
} from "./contract/object-store.ts";
import type { Page } from "./contract/page.ts";
import { StoreError } from "./contract/store-error.ts";
import type { WriteContext } from "./contract/write-context.ts";
import { setCredential } from "./credentials.ts";
import { evict, saveCheck, settleClaims } from "./domain-claims.ts";
import { namesOf, pruneVerification, withVerification } from "./domain-names.ts";
import { checkIdempotency, saveIdempotency } from "./idempotency.ts";
import { insertSuccessor, OBJECT_COLUMNS, removeObject, selectObject, toObject } from "./object-rows.ts";
import { ADDRESS_KINDS, recordAddresses, type TakenAddress } from "./recipient-addresses.ts";
import { canonicalJson, decodeCursor, pageOf, type SqlExecutor } from "./sql.ts";
import { checkPreconditions, newEtag, newGeneration, type WriteSteps } from "./write-steps.ts";

/** One page of an account's objects by kind and ID, filtered by kind and domain(s), with verification. */
export async function listObjects(q: SqlExecutor, input: ListObjectsInput): Promise<Page<StoredObject>> {
  if (input.domainIn && input.domainIn.length === 0) return { items: [], nextCursor: null };
  const params: (string | number)[] = [input.accountId];
  const where = ["account_id = $1"];
  if (input.kind !== undefined) {
    params.push(input.kind);
    where.push(`kind = $${params.length}`);
  }
  if (input.domain !== undefined) {
    params.push(input.domain);
    where.push(`domain = $${params.length}`);
  }
  if (input.domainIn) {
    const marks = input.domainIn.map((d) => {
      params.push(d);
      return `$${params.length}`;
    });
    where.push(`domain IN (${marks.join(", ")})`);
  }
  if (input.cursor) {
    const [kind, id] = decodeCursor(input.cursor, ["string", "string"]) as [string, string];
    params.push(kind, id);
    const k = `$${params.length - 1}`;
    const i = `$${params.length}`;
    where.push(`(kind > ${k} OR (kind = ${k} AND id > ${i}))`);
  }
  params.push(input.limit + 1);
  const sql = `SELECT ${OBJECT_COLUMNS} FROM objects WHERE ${where.join(" AND ")} ORDER BY kind, id LIMIT $${params.length}`;
  const rows = await withVerification(q, (await q.all(sql, params)).map(toObject));
  return pageOf(rows, input.limit, (o) => [o.kind, o.id]);
}

/** The Domain and every object under it (tenancy-apply.ts does the rest). */
export async function selectTenancy(
  q: SqlExecutor,
  accountId: string,
  domain: string,
): Promise<StoredObject[]> {
  const sql = `SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 AND domain = $2`;
  return withVerification(q, (await q.all(sql, [accountId, domain])).map(toObject));
}

/** How {@link putObject} applies the address rule. */
export interface PutOptions {
  /**
   * A bulk apply's list: the addresses this write takes are appended to it, not checked now; the
   * apply refuses a shared one after its last write (an address may move between its objects).
   * Default: checked now.
   */
  deferredAddresses?: TakenAddress[];
}

/**
 * Inside a write: creates or updates one object (parent, ownership, preconditions, guard, limits,
 * claims and credential included), audited and bumped; calls `mark` when it changed tenancy state.
 */
export async function putObject(
  q: SqlExecutor,
  input: PutObjectInput,
  ctx: WriteContext,
  steps: WriteSteps,
  mark: () => void,
  options: PutOptions = {},
): Promise<PutObjectResult> {
  const what = `${input.kind} ${input.id}`;
  const domain = input.domain ?? "";
  const enabled = input.enabled ?? true;
  // (A block: the body moved here unchanged from SqlStore.putObject's transaction callback.)
  {
    await checkIdempotency(q, input.idempotency, steps.now);
    const current = await selectObject(q, input);
    // The parent first: an object under another account's domain must look exactly like one under
    // a domain that does not exist, whether or not that account has an object with this ID.
    if (input.parent) {
      const parent = await q.all(
        "SELECT 1 AS one FROM objects WHERE account_id = $1 AND kind = $2 AND id = $3",
        [input.accountId, input.parent.kind, input.parent.id],
      );
      if (parent.length === 0) {
        throw new StoreError("parent_missing", `${input.parent.kind} ${input.parent.id} does not exist`);
      }
    }
    // A Domain's claims (below) cover this and may let an unverified holder give way.
    if (!current && domain !== "" && !input.claims) {
      const elsewhere = await q.all(
        "SELECT 1 AS one FROM objects WHERE kind = $1 AND id = $2 AND domain <> '' AND account_id <> $3",
        [input.kind, input.id, input.accountId],
      );
      if (elsewhere.length > 0) throw new StoreError("owned_elsewhere", `${what} belongs to another account`);
    }
    checkPreconditions(current, input, what);
    const refused = input.guard?.(current);
    if (refused) throw refused;
    if (!current) await checkAccountLimit(q, input.accountId, input.kind);
    if (ADDRESS_KINDS.has(input.kind)) {
      // In the writers' lock (two requests declaring one address twice cannot both pass): another
      // recipient at an address this write takes refuses it (recipient-addresses.ts; a bulk apply
      // defers that to its end); a departed user's forward at one ends, the address being declared again.
      const taken = await recordAddresses(q, input, current, options.deferredAddresses);
      if (taken.length > 0) {
        const departed = await q.all(
          `SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 AND kind = $2 AND id IN (${taken.map((_, i) => `$${i + 3}`).join(", ")})`,
          [input.accountId, DEPARTED_KIND, ...taken],
        );
        for (const row of departed) await removeObject(q, ctx, toObject(row), steps, "reclaim");
      }
    }
    if (input.claims && input.claims.names.length > 0) {
      for (const holder of await settleClaims(q, input, input.claims)) await evict(q, holder, steps);
    }

    const spec = canonicalJson(input.spec);
    // Without a stamp the write keeps the current one: an edit from elsewhere does not undeclare it.
    const managedBy = input.managedBy ?? current?.managedBy ?? null;
    const stamp = managedBy === null ? null : canonicalJson(managedBy);
    const sameStamp = stamp === (current?.managedBy ? canonicalJson(current.managedBy) : null);
    let result: PutObjectResult;
    if (
      current &&
      canonicalJson(current.spec) === spec &&
      current.enabled === enabled &&
      !input.credential &&
      sameStamp
    ) {
      result = { object: current, before: current, created: false, changed: false };
    } else {
      const at = steps.now().toISOString();
      const object: StoredObject = {
        accountId: input.accountId,
        kind: input.kind,
        id: input.id,
        domain: input.domain,
        spec: JSON.parse(spec),
        enabled,
        etag: newEtag(),
        version: (current?.version ?? 0) + 1,
        createdAt: current?.createdAt ?? at,
        updatedAt: at,
        secretSetAt: input.credential ? at : (current?.secretSetAt ?? null),
        // Kept for the object's whole life; a delete and a new create start another one.
        generation: current?.generation ?? newGeneration(),
        managedBy: stamp === null ? null : JSON.parse(stamp),
      };
      const values = [domain, spec, enabled ? 1 : 0, object.etag, object.version, object.secretSetAt, stamp];
      if (current) {
        await q.run(
          `UPDATE objects SET domain = $4, spec = $5, enabled = $6, etag = $7, version = $8, secret_set_at = $9,
             managed_by = $10, updated_at = $11
           WHERE account_id = $1 AND kind = $2 AND id = $3`,
          [input.accountId, input.kind, input.id, ...values, at],
        );
      } else {
        await q.run(
          `INSERT INTO objects (account_id, kind, id, domain, spec, enabled, etag, version, secret_set_at,
             managed_by, created_at, updated_at, generation)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [input.accountId, input.kind, input.id, ...values, at, at, object.generation],
        );
      }
      if (input.credential) await setCredential(q, steps.now, input.accountId, input.id, input.credential);
      await steps.audit(q, ctx, {
        accountId: input.accountId,
        action: current ? "update" : "create",
        kind: input.kind,
        objectId: input.id,
        before: auditView(current),
        after: auditView(object, input.credential ? { passwordChanged: true } : undefined),
      });
      await steps.bump(q, { accountId: input.accountId, kind: input.kind, id: input.id, op: "put" });
      mark();
      if (input.kind === "Domain") await pruneVerification(q, input.accountId, input.id, namesOf(object));
      result = { object, before: current, created: !current, changed: true };
    }
    if (input.kind === "Domain") {
      const at = steps.now().toISOString();
      for (const { name, detail } of input.claims?.proven ?? []) {
        if (!input.claims!.names.includes(name)) continue;
        const change = { check: { result: "verified", detail }, verifiedBy: "dns" as const };
        await saveCheck(q, ctx, result.object, name, change, at, steps);
      }
      result = { ...result, object: (await withVerification(q, [result.object]))[0]! };
    }
    await saveIdempotency(q, input.idempotency, result, steps.now);
    return result;
  }
}

/**
 * Inside a write: deletes one object (`not_found` if missing) after its preconditions and guard,
 * cascading to or refusing on its dependents as asked, then writes its successor if that is free.
 */
export async function deleteObject(
  q: SqlExecutor,
  input: DeleteObjectInput,
  ctx: WriteContext,
  steps: WriteSteps,
  mark: () => void,
): Promise<{ before: StoredObject }> {
  const what = `${input.kind} ${input.id}`;
  {
    const current = await selectObject(q, input);
    if (!current) throw new StoreError("not_found", `${what} does not exist`);
    checkPreconditions(current, input, what);
    const refused = input.guard?.(current);
    if (refused) throw refused;
    const cascade = input.cascadeKinds ?? [];
    if (input.refuseIfDependents || cascade.length > 0) {
      const children = (
        await q.all(
          `SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 AND domain = $2 AND NOT (kind = $3 AND id = $4)
           ORDER BY kind, id`,
          [input.accountId, input.id, input.kind, input.id],
        )
      ).map(toObject);
      const blocking = children.find((c) => !cascade.includes(c.kind));
      if (input.refuseIfDependents && blocking) {
        throw new StoreError(
          "has_dependents",
          `${what} still holds ${blocking.kind} ${blocking.id} (delete those first)`,
        );
      }
      for (const child of children) {
        if (cascade.includes(child.kind)) await removeObject(q, ctx, child, steps);
      }
    }
    await removeObject(q, ctx, current, steps, input.auditAction);
    const next = input.successor?.(current);
    if (next && !(await selectObject(q, { accountId: input.accountId, kind: next.kind, id: next.id }))) {
      await insertSuccessor(q, ctx, input.accountId, next, steps);
    }
    mark();
    return { before: current };
  }
}
