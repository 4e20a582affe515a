/** The store's tenancy objects one at a time: read, list, write and delete, each write with its audit entry and change. */
import type { ManagedBy } from "../../../sdk/src/models/managed-by.ts";
import type { SharedAddress } from "../recipient-addresses.ts";
import type { CredentialInput } from "./credential-store.ts";
import type { DomainClaim, DomainVerificationRecord } from "./domain-name-store.ts";
import type { IdempotencyInput } from "./idempotency-store.ts";
import type { Page } from "./page.ts";
import type { IfMatch, WriteContext } from "./write-context.ts";

/**
 * A tenancy object as stored: the normalised spec (never a secret: User passwords live only as hashes in
 * the credentials table) plus the bookkeeping the API turns into `id`, `etag`, `createdAt`, `updatedAt`.
 *
 * One table holds every kind (see ../migrations.ts for why); `domain` is the owning domain's name (a
 * Domain's own name for a Domain) or `null` for account-wide objects such as the account password policy.
 */
export interface StoredObject {
  accountId: string;
  kind: string;
  id: string;
  domain: string | null;
  spec: Record<string, unknown>;
  /** false only for disabled objects (today: disabled users); the SMTP snapshot can skip them. */
  enabled: boolean;
  etag: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** When the object's secret (a User's password) was last set; null when it never was. */
  secretSetAt: string | null;
  /**
   * The ID of this object's lifetime, given by the store when the object is created and kept by every
   * update; deleting the object and creating it again starts a new one. The SMTP engine stamps a
   * Domain's mail data (message log, quarantine, queue, Maildirs) with it, so a later owner of the
   * same name never sees an earlier owner's data. '' for objects created before generations existed.
   */
  generation: string;
  /**
   * The infrastructure-as-code stack that declares the object (the Mailplane-Managed-By header of
   * the last write that carried one), or null. Kept by writes without the header.
   */
  managedBy: ManagedBy | null;
  /**
   * Domains only: the ownership verification of its names (server state, not spec), for the names it
   * holds now, in the order name, aliases. A name without a record is pending and was never checked.
   */
  verification?: DomainVerificationRecord[];
}

/** Input of {@link ObjectStore.putObject}. */
export interface PutObjectInput {
  accountId: string;
  kind: string;
  id: string;
  domain: string | null;
  spec: Record<string, unknown>;
  /** Default true. */
  enabled?: boolean;
  /** The current etag must equal this (412 semantics: `precondition_failed`). */
  ifMatch?: IfMatch;
  /** Fail with `not_found` when absent (PATCH). */
  mustExist?: boolean;
  /** Fail with `already_exists` when present (POST create). */
  mustNotExist?: boolean;
  /** An object that must exist in the same account (e.g. the Domain of a Route); else `parent_missing`. */
  parent?: { kind: string; id: string };
  credential?: CredentialInput;
  /**
   * Stamps the object as declared by this stack. Absent: the current stamp stays. A stamp that differs
   * from the stored one is a change even when the spec is not (an adoption by another stack).
   */
  managedBy?: ManagedBy;
  /** Runs inside the transaction with the current object (or null); a returned error aborts the write. */
  guard?: (current: StoredObject | null) => Error | undefined;
  /**
   * Mail domain names (a Domain's name and its aliases) that no other Domain, in any account, may
   * hold as its name or alias: mail for a name reaches one tenant. Checked inside the transaction,
   * where writes are serialised, so two writes cannot both take a name. `refuse` turns the holders
   * found into the error that aborts the write.
   *
   * `proven`: names whose verification record this account published (found in DNS during the
   * request). Another account's *unverified* hold on one of them gives way: that Domain and every
   * object under it (or, for a domain alias, the alias alone) is removed in this transaction, each
   * audited `evict`; and the names are recorded verified (method `dns`) for this Domain. A verified
   * hold, or one by this very account, is always refused.
   */
  claims?: {
    names: readonly string[];
    proven?: readonly { name: string; detail: string }[];
    refuse(holders: DomainClaim[]): Error;
  };
  idempotency?: IdempotencyInput<PutObjectResult>;
}

/** Result of {@link ObjectStore.putObject}. `changed` is false when the spec, state and password were unchanged. */
export interface PutObjectResult {
  object: StoredObject;
  before: StoredObject | null;
  created: boolean;
  changed: boolean;
}

/** Input of {@link ObjectStore.deleteObject}. */
export interface DeleteObjectInput {
  accountId: string;
  kind: string;
  id: string;
  ifMatch?: IfMatch;
  /** Refuse (`has_dependents`) while other objects of the account name this one as their `domain`. */
  refuseIfDependents?: boolean;
  /** Objects of these kinds under this domain are deleted with it (a domain's singletons) instead of refusing. */
  cascadeKinds?: readonly string[];
  /** The audit action; default "delete" ("reset" for singletons). */
  auditAction?: string;
  guard?: (current: StoredObject) => Error | undefined;
  /**
   * An object written in the same transaction when this one is deleted (a user's forward on delete),
   * unless one of that kind and ID exists; audited and announced like any write.
   */
  successor?: (
    deleted: StoredObject,
  ) => { kind: string; id: string; domain: string; spec: Record<string, unknown> } | undefined;
}

/**
 * The kind of a deleted user's forward (`UserSpec.forwardOnDelete`): written when the user is deleted,
 * spec `{ address, forwardTo }`, ID the address; removed with its domain, or when a User, Alias or
 * Group of that address is created again. Not declarable: no API path, not in the catalogue.
 */
export const DEPARTED_KIND = "DepartedAddress";

/** Input of {@link ObjectStore.listObjects}. */
export interface ListObjectsInput {
  accountId: string;
  kind?: string;
  /** Only objects of this domain. */
  domain?: string;
  /** Only objects whose domain is one of these (domain-admin tokens). */
  domainIn?: string[];
  limit: number;
  cursor?: string;
}

/**
 * Tenancy objects (Domains, Users, Aliases, Groups, … in one table), one object per call.
 *
 * @example
 * const { object, created } = await store.putObject(
 *   { accountId: "acme", kind: "Domain", id: "example.com", domain: "example.com", spec: { name: "example.com" } },
 *   { actor: "system" },
 * );
 */
export interface ObjectStore {
  getObject(accountId: string, kind: string, id: string): Promise<StoredObject | undefined>;
  /** How many Domains, Users, Aliases and Groups the account holds (what `AccountSpec.limits` caps). */
  accountUsage(
    accountId: string,
  ): Promise<{ domains: number; users: number; aliases: number; groups: number }>;
  listObjects(input: ListObjectsInput): Promise<Page<StoredObject>>;
  /**
   * Creates or replaces a tenancy object. A write that changes nothing (same spec and state, no new
   * password) keeps the etag and writes no audit entry. Errors: not_found, already_exists,
   * precondition_failed, parent_missing, owned_elsewhere (a domain-scoped ID held by another account),
   * idempotency_exists, conflict (a User, Alias or Group taking an address — its own or, for a user,
   * an extra address — that another of them holds; `path` names the field), or what `guard` returns.
   */
  putObject(input: PutObjectInput, ctx: WriteContext): Promise<PutObjectResult>;
  /** Deletes a tenancy object (and a User's credentials). Errors: not_found, precondition_failed, has_dependents. */
  deleteObject(input: DeleteObjectInput, ctx: WriteContext): Promise<{ before: StoredObject }>;

  /**
   * Addresses more than one User, Alias or Group holds (as its address or a user's extra address), at
   * most `limit` (default 100). Writes never make one; a store written by an earlier version may hold
   * some, which the control plane reports at start-up.
   */
  sharedAddresses(limit?: number): Promise<SharedAddress[]>;
}
