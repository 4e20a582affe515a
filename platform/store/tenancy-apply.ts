/** A domain's whole tenancy applied in one store transaction: the diff against the stored objects and its writes. */
import { createHash } from "node:crypto";
import {
  DEPARTED_KIND,
  type PutObjectInput,
  type PutObjectResult,
  type StoredObject,
} from "./contract/object-store.ts";
import { StoreError } from "./contract/store-error.ts";
import type { ApplyTenancyInput, ApplyTenancyResult } from "./contract/tenancy-store.ts";
import { etagMatches } from "./contract/write-context.ts";
import { checkIdempotency, saveIdempotency } from "./idempotency.ts";
import { canonicalJson, type SqlExecutor } from "./sql.ts";

/** The steps of the store the apply is made of; each runs inside the caller's write transaction. */
export interface TenancySteps {
  /** The domain's objects (the Domain and everything whose `domain` it is). */
  select(q: SqlExecutor): Promise<StoredObject[]>;
  /** One object's create or update, with the store's checks, audit entry and change (as putObject). */
  put(q: SqlExecutor, input: PutObjectInput): Promise<PutObjectResult>;
  /** One object's delete, with its credentials, audit entry and change. */
  remove(q: SqlExecutor, object: StoredObject): Promise<void>;
  /**
   * After the last write: refuses (StoreError "conflict") an address the writes left with more than
   * one holder; the puts defer that check, as an address may move between the document's objects.
   */
  settleAddresses(q: SqlExecutor): Promise<void>;
  /** The store's clock (Idempotency-Key records). */
  now: () => Date;
}

const keyOf = (o: { kind: string; id: string }) => `${o.kind}\u0000${o.id}`;

/**
 * The version tag of a domain's tenancy: a digest of every object's kind, ID and etag, so it changes
 * whenever any object of the domain is created, changed (a new password included) or deleted, and
 * only then. Null for a domain with no objects.
 *
 * @example tenancyEtag([{ kind: "Domain", id: "example.com", etag: "a1" }]) // "t-…" (22 characters after "t-")
 */
export function tenancyEtag(objects: readonly { kind: string; id: string; etag: string }[]): string | null {
  if (objects.length === 0) return null;
  const hash = createHash("sha256");
  for (const line of objects.map((o) => `${keyOf(o)}\u0000${o.etag}\n`).sort()) hash.update(line);
  return `t-${hash.digest("base64url").slice(0, 22)}`;
}

/**
 * Domain first, then by kind and ID: the order a tenancy is read and created in (children are
 * deleted in the reverse order, the Domain last).
 */
export function tenancyOrder(a: StoredObject, b: StoredObject): number {
  const rank = (o: StoredObject) => (o.kind === "Domain" ? 0 : 1);
  return (
    rank(a) - rank(b) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * Applies `input` inside one write transaction (the caller holds the writers' lock and commits or
 * rolls back): checks If-Match and the prepared-against etag on the tenancy read *in* the
 * transaction, deletes the objects the document leaves out (children first, the Domain last), then
 * creates and updates the rest in document order. An object whose spec, state and password are
 * unchanged is not written (no audit entry, no change). Any error aborts the whole apply.
 */
export async function applyTenancyIn(
  q: SqlExecutor,
  input: ApplyTenancyInput,
  steps: TenancySteps,
): Promise<ApplyTenancyResult> {
  const what = `the tenancy of ${input.domain}`;
  await checkIdempotency(q, input.idempotency, steps.now);
  const before = (await steps.select(q)).sort(tenancyOrder);
  const etag = tenancyEtag(before);
  if (input.ifMatch !== undefined) {
    // RFC 9110 §13.1.1: If-Match fails when there is no current representation.
    if (etag === null) throw new StoreError("precondition_failed", `${what} does not exist`);
    if (!etagMatches(input.ifMatch, etag)) {
      throw new StoreError("precondition_failed", `${what} has changed since etag ${input.ifMatch}`, etag);
    }
  }
  if (input.expectEtag !== undefined && input.expectEtag !== etag) {
    throw new StoreError("precondition_failed", `${what} changed while the apply was prepared`, etag);
  }
  if (input.objects.length === 0 && etag === null) {
    throw new StoreError("not_found", `domain ${input.domain} does not exist`);
  }
  const current = new Map(before.map((o) => [keyOf(o), o]));
  const wanted = new Set(input.objects.map(keyOf));
  const changes: ApplyTenancyResult["changes"] = [];
  const after = new Map<string, StoredObject>();

  // Objects the platform keeps for itself under a domain (a deleted user's forward) are no document's
  // to delete: they go with the domain, or when their address is declared again (putObject).
  const gone = before
    .filter((o) => !wanted.has(keyOf(o)) && (input.objects.length === 0 || o.kind !== DEPARTED_KIND))
    .reverse();
  for (const o of gone) {
    await steps.remove(q, o);
    changes.push({ kind: o.kind, id: o.id, op: "delete" });
  }
  for (const w of input.objects) {
    const old = current.get(keyOf(w)) ?? null;
    const enabled = w.enabled ?? true;
    if (
      old &&
      !w.credential &&
      old.enabled === enabled &&
      canonicalJson(old.spec) === canonicalJson(w.spec)
    ) {
      after.set(keyOf(w), old);
      continue;
    }
    const result = await steps.put(q, {
      accountId: input.accountId,
      kind: w.kind,
      id: w.id,
      domain: input.domain,
      spec: w.spec,
      enabled,
      ...(w.credential ? { credential: w.credential } : {}),
      ...(w.claims ? { claims: w.claims } : {}),
      ...(input.managedBy ? { managedBy: input.managedBy } : {}),
      ...(w.kind === "Domain" ? {} : { parent: { kind: "Domain", id: input.domain } }),
      // Written against what this transaction read: nothing can come between (writers' lock).
      ...(old ? { mustExist: true } : { mustNotExist: true }),
    });
    after.set(keyOf(w), result.object);
    if (result.changed) changes.push({ kind: w.kind, id: w.id, op: old ? "update" : "create" });
  }
  await steps.settleAddresses(q);
  const objects = [...after.values()].sort(tenancyOrder);
  const result = { before, after: objects, changes, etag: tenancyEtag(objects) };
  await saveIdempotency(q, input.idempotency, result, steps.now);
  return result;
}
