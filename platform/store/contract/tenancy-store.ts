/** The store's domain tenancies as a whole: a Domain and everything under it, read at one point and replaced in one transaction. */
import type { ManagedBy } from "../../../sdk/src/models/managed-by.ts";
import type { CredentialInput } from "./credential-store.ts";
import type { IdempotencyInput } from "./idempotency-store.ts";
import type { DeleteObjectInput, PutObjectInput, StoredObject } from "./object-store.ts";
import type { IfMatch, WriteContext } from "./write-context.ts";

/**
 * One object of a tenancy apply ({@link TenancyStore.applyTenancy}): what {@link PutObjectInput} says
 * of it.
 */
export interface TenancyObjectWrite {
  kind: string;
  id: string;
  spec: Record<string, unknown>;
  /** Default true. */
  enabled?: boolean;
  credential?: CredentialInput;
  claims?: PutObjectInput["claims"];
}

/** Input of {@link TenancyStore.applyTenancy}. */
export interface ApplyTenancyInput {
  accountId: string;
  /** The domain whose objects (the Domain itself and every object whose `domain` it is) become `objects`. */
  domain: string;
  /** The complete desired state, the Domain first; objects of the domain left out are deleted. */
  objects: readonly TenancyObjectWrite[];
  /** The tenancy's current etag must match ({@link tenancyEtag}); `precondition_failed` otherwise. */
  ifMatch?: IfMatch;
  /** What a deleted object leaves behind, as {@link DeleteObjectInput.successor} (a user's forward on delete). */
  successor?: DeleteObjectInput["successor"];
  /**
   * The tenancy etag the caller prepared `objects` against (null: the domain did not exist): the
   * apply fails with `precondition_failed` when another write came between, so the caller can prepare
   * again (a Domain's DKIM keys, password reuse, are read before the transaction).
   */
  expectEtag?: string | null;
  /** Stamps every object the apply writes (creates and updates), as {@link PutObjectInput.managedBy}. */
  managedBy?: ManagedBy;
  /**
   * The answer stored under the request's Idempotency-Key, in the apply's own transaction (a key
   * already stored fails the apply with `idempotency_exists`, so the caller replays that answer).
   */
  idempotency?: IdempotencyInput<ApplyTenancyResult>;
}

/** Result of {@link TenancyStore.applyTenancy}: what was written, in order, and the tenancy's new etag. */
export interface ApplyTenancyResult {
  before: StoredObject[];
  after: StoredObject[];
  changes: { kind: string; id: string; op: "create" | "update" | "delete" }[];
  /** null when the tenancy is now empty (the domain was deleted). */
  etag: string | null;
}

/**
 * A domain's tenancy (the Domain and every object under it) as one unit, all or nothing.
 *
 * @example
 * const { objects, etag } = await store.tenancyObjects("acme", "example.com");
 * const writes = objects.map(({ kind, id, spec }) => ({ kind, id, spec }));
 * await store.applyTenancy({ accountId: "acme", domain: "example.com", objects: writes, expectEtag: etag }, ctx);
 */
export interface TenancyStore {
  /**
   * A domain's tenancy: the Domain and every object under it (Domain first, then by kind and ID) and
   * its etag, read at one consistent point; no objects and a null etag when the domain does not exist.
   */
  tenancyObjects(
    accountId: string,
    domain: string,
  ): Promise<{ objects: StoredObject[]; etag: string | null }>;
  /**
   * Makes a domain's tenancy exactly `objects` in one transaction: creates, updates (unchanged objects
   * are not touched) and deletes (children before the Domain), each with its audit entry and change.
   * All or nothing. Errors: precondition_failed, parent_missing, owned_elsewhere, conflict (the
   * written objects would leave an address with two holders), or what a claim refuses.
   */
  applyTenancy(input: ApplyTenancyInput, ctx: WriteContext): Promise<ApplyTenancyResult>;
}
