/** The store's interface: what the control plane and the SMTP engine may ask of SQLite or PostgreSQL. */
import type {
  LoginAuditEntry,
  LoginCredential,
  LoginFailureKind,
  LoginResult,
  LoginService,
} from "../../sdk/src/models/login-audit.ts";
import type { ManagedBy } from "../../sdk/src/models/managed-by.ts";
import type { ClaimedNotice, OutboxNotice } from "./notices.ts";
import type { SharedAddress } from "./recipient-addresses.ts";
import type { UserAuthStore } from "./user-auth.ts";

/**
 * A tenancy object as stored: the normalised spec (never a secret: User passwords live only as hashes in
 * the credentials table) plus the bookkeeping the API turns into `id`, `etag`, `createdAt`, `updatedAt`.
 *
 * One table holds every kind (see migrations.ts for why); `domain` is the owning domain's name (a
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

/** Where one name of a Domain (its name or a domain alias) stands in proving the account owns it. */
export interface DomainVerificationRecord {
  name: string;
  status: "pending" | "verified";
  /** How it was verified; null while pending. */
  method: "dns" | "admin" | null;
  verifiedAt: string | null;
  /** The last DNS check: when, its result (`verified`, `missing`, `mismatch`, `error`) and its words. */
  checkedAt: string | null;
  checkResult: string | null;
  checkDetail: string | null;
  /** When the name was first checked or marked. */
  createdAt: string;
}

/** A name some Domain holds, its holder, and its verification (null: pending, never checked). */
export interface DomainNameHold {
  name: string;
  accountId: string;
  /** The holding Domain's name (its ID); equals `name` unless `name` is a domain alias. */
  domain: string;
  verification: DomainVerificationRecord | null;
}

/** Input of {@link Store.recordDomainCheck}. */
export interface DomainCheckInput {
  accountId: string;
  /** The Domain's ID. */
  domain: string;
  /** The domain's name or one of its domain aliases. */
  name: string;
  /** What a DNS check found (`verified`, `missing`, `mismatch`, `error`); absent for an admin's mark. */
  check?: { result: string; detail: string };
  /** Marks the name verified (unless it is already): its record was found (`dns`) or an admin said so. */
  verifiedBy?: "dns" | "admin";
}

/** An account: the tenant every object, token and audit entry belongs to. */
export interface AccountRecord {
  id: string;
  spec: Record<string, unknown>;
  etag: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** An API token without its secret: only the sha256 of the secret is stored, the prefix identifies it. */
export interface TokenRecord {
  id: string;
  /** null for platform-admin tokens that are not bound to one account. */
  accountId: string | null;
  description: string;
  prefix: string;
  role: string;
  /** The domains a domain-admin token may touch (sorted); empty for other roles. */
  domains: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  createdBy: string | null;
}

/** One stored password hash (argon2id/scrypt PHC string) and when it was set. */
export interface PasswordHashEntry {
  hash: string;
  setAt: string;
}

/** A user's credential row: current hash, history for reuse checks, and the SMTP engine's login counters. */
export interface CredentialRecord {
  accountId: string;
  userId: string;
  hash: string;
  setAt: string;
  /** Newest first; includes the current hash. */
  history: PasswordHashEntry[];
  failedLogins: number;
  lastFailedAt: string | null;
  lockedUntil: string | null;
}

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

/** A stored response for an Idempotency-Key, replayed when the same token sends the same key again. */
export interface IdempotencyRecord {
  tokenId: string;
  key: string;
  requestHash: string;
  status: number;
  body: unknown;
  createdAt: string;
  expiresAt: string;
}

/** One committed tenancy change, in commit order. */
export interface Change {
  revision: number;
  accountId: string;
  kind: string;
  id: string;
  op: "put" | "delete";
}

/**
 * What `watch` listeners receive. `changes` lists every change after the previous event's revision;
 * it is `null` when the change log no longer reaches back that far (rebuild from `snapshot()`).
 */
export interface ChangeEvent {
  revision: number;
  changes: Change[] | null;
}

/** Everything the SMTP engine's in-memory policy needs, read at one consistent revision. */
export interface Snapshot {
  revision: number;
  accounts: AccountRecord[];
  objects: StoredObject[];
}

/** One page of a cursor-paginated list; `nextCursor` is opaque and null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * An If-Match precondition: one etag, several (any may match) or "*" (anything that exists). RFC 9110
 * §13.1.1: it fails when there is no current object.
 */
export type IfMatch = string | readonly string[];

/** True when `etag` satisfies `ifMatch`. */
export function etagMatches(ifMatch: IfMatch, etag: string): boolean {
  const list = typeof ifMatch === "string" ? [ifMatch] : ifMatch;
  return list.includes("*") || list.includes(etag);
}

/** Who writes, for the audit log. */
export interface WriteContext {
  /** Token id of the caller, or "system". */
  actor: string;
  /** The caller's role, recorded with the actor. */
  role?: string | null;
  requestId?: string;
}

/**
 * Stores the response of a successful write under (token, key) in the write's own transaction, so a
 * retried request replays it. A record that already exists makes the write fail with
 * `idempotency_exists` and roll back; the caller then replays or rejects it.
 */
export interface IdempotencyInput<R> {
  tokenId: string;
  key: string;
  requestHash: string;
  expiresAt: string;
  /** Builds the stored response from the write's result; runs inside the transaction, must be pure. */
  response: (result: R) => { status: number; body: unknown };
}

/** A new or updated password hash for a User, written in the same transaction as the User object. */
export interface CredentialInput {
  hash: string;
  /** Keep at least `count` newest history entries and every entry younger than `days`. */
  keep: { count: number; days: number };
}

/** Input of {@link Store.putObject}. */
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

/** Result of {@link Store.putObject}. `changed` is false when the spec, state and password were unchanged. */
export interface PutObjectResult {
  object: StoredObject;
  before: StoredObject | null;
  created: boolean;
  changed: boolean;
}

/** One object of a tenancy apply ({@link Store.applyTenancy}): what {@link PutObjectInput} says of it. */
export interface TenancyObjectWrite {
  kind: string;
  id: string;
  spec: Record<string, unknown>;
  /** Default true. */
  enabled?: boolean;
  credential?: CredentialInput;
  claims?: PutObjectInput["claims"];
}

/** Input of {@link Store.applyTenancy}. */
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

/** Result of {@link Store.applyTenancy}: what was written, in order, and the tenancy's new etag. */
export interface ApplyTenancyResult {
  before: StoredObject[];
  after: StoredObject[];
  changes: { kind: string; id: string; op: "create" | "update" | "delete" }[];
  /** null when the tenancy is now empty (the domain was deleted). */
  etag: string | null;
}

/** Input of {@link Store.deleteObject}. */
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

/** Another Domain holding one of the names a write claims (see {@link PutObjectInput.claims}). */
export interface DomainClaim {
  accountId: string;
  /** The Domain's name (its ID). */
  domain: string;
  /** Which of the names asked for it holds, as its name or a domain alias. */
  names: string[];
  /** Which of those it holds verified. */
  verified: string[];
}

/** Input of {@link Store.listObjects}. */
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

/** Filters of {@link Store.listAudit}; `since` is inclusive, `until` exclusive (RFC 3339 UTC). */
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

/** Input of {@link Store.putAccount}. */
export interface PutAccountInput {
  id: string;
  spec: Record<string, unknown>;
  ifMatch?: IfMatch;
  mustExist?: boolean;
  mustNotExist?: boolean;
  idempotency?: IdempotencyInput<PutAccountResult>;
}

/** Result of {@link Store.putAccount}. */
export interface PutAccountResult {
  account: AccountRecord;
  before: AccountRecord | null;
  created: boolean;
  changed: boolean;
}

/** Input of {@link Store.createToken}: the secret itself never reaches the store, only its hash. */
export interface CreateTokenInput {
  id: string;
  accountId: string | null;
  description: string;
  prefix: string;
  secretHash: string;
  role: string;
  domains: string[];
  expiresAt?: string | null;
  idempotency?: IdempotencyInput<TokenRecord>;
}

/** The lockout rules a failed login is counted with: the attempted domain's password policy. */
export interface LoginLockoutPolicy {
  /** Failures within `windowMs` that lock the key. */
  failures: number;
  windowMs: number;
  /** How long the lock holds. */
  durationMs: number;
}

/** Why a login failed, as the audit log records it (the SMTP reply is the same 535 for all but the last two). */
export type LoginFailureReason =
  | "unknown-user"
  | "no-password"
  | "alias-domain"
  | "wrong-password"
  | "disabled"
  | "password-expired"
  | "wrong-second-factor"
  | "app-password-required"
  | "role-not-allowed";

/** Input of {@link Store.recordLoginFailure}. */
export interface LoginFailureInput {
  /** The lockout key: an IPv4 address or an IPv6 /64 (see `loginLockoutKey`). */
  key: string;
  /** The client's own address, for the audit entry. */
  ip: string;
  /** When it happened (ms since epoch, the engine's clock). */
  at: number;
  policy: LoginLockoutPolicy;
  /** The hosted domain whose user was attempted; null for a name no account hosts. */
  target: { accountId: string; domain: string } | null;
  /** The attempted user when it exists; never an unknown name (it may be a password typed in the wrong field). */
  user: string | null;
  reason: LoginFailureReason;
  /** false: audit only (the password was right but the account may not log in); the lockout is not counted. */
  counted: boolean;
  /** The login audit entry of this failure, written in the same transaction (none for names no account hosts). */
  attempt?: LoginAttemptInput;
}

/**
 * One sign-in attempt for the login audit (see login-audit.ts): at a hosted domain only, never with
 * the secret that was tried.
 */
export interface LoginAttemptInput {
  accountId: string;
  /** The hosted domain of the address. */
  domain: string;
  /** The address signed in as, lower-cased (an address of the domain that is no user too). */
  address: string;
  userExists: boolean;
  ip: string;
  service: LoginService;
  result: LoginResult;
  /** null on success. */
  reason: LoginFailureKind | null;
  credential: LoginCredential | null;
  /** When (ms since epoch). */
  at: number;
}

/** Filters of {@link Store.listLoginAudit}; `since` matches entries that end at or after it, `until` those that begin before it. */
export interface ListLoginAuditInput {
  accountId: string;
  domain?: string;
  address?: string;
  result?: LoginResult;
  service?: LoginService;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

/** One domain a lockout key's failures aimed at; `accountId`/`domain` are null for names no account hosts. */
export interface LoginLockoutTarget {
  accountId: string | null;
  domain: string | null;
  failures: number;
  lastFailureAt: string;
}

/** A lockout key's state (times RFC 3339). `lockedAt`/`lockedUntil` are null while it is not locked. */
export interface LoginLockoutRecord {
  key: string;
  failures: number;
  lastFailureAt: string;
  lockedAt: string | null;
  lockedUntil: string | null;
  targets: LoginLockoutTarget[];
}

/** Input of {@link Store.listLoginLockouts}. */
export interface ListLoginLockoutsInput {
  /** Only keys with failures at this account's domains. */
  accountId?: string;
  /** true: only keys locked at `at`; false: only keys not locked. */
  locked?: boolean;
  /** The present (ms); default the store's clock. */
  at?: number;
  limit: number;
  cursor?: string;
}

/**
 * The store both adapters implement. Every write runs in one transaction together with its audit entry
 * and (for tenancy objects) its change-log entry and revision bump; nothing is ever half-applied.
 *
 * Returned records may be shared between callers: treat them as read-only. Plain reads are memoised:
 * on SQLite until any connection or process commits (checked on every read, so never stale); on
 * PostgreSQL until this node commits or a NOTIFY from another node arrives (at its COMMIT), never
 * longer than a second, and not at all while the LISTEN connection is down. Conditional writes are
 * always checked against the database itself.
 *
 * @example
 * const store = await openStore({ dataDir: ".data" });
 * const { object } = await store.putObject(
 *   { accountId: "acme", kind: "Domain", id: "example.com", domain: "example.com", spec: { name: "example.com" } },
 *   { actor: "system" },
 * );
 * const stop = store.watch((ev) => console.log("revision", ev.revision));
 */
export interface Store extends UserAuthStore {
  readonly dialect: "sqlite" | "postgres";

  getAccount(id: string): Promise<AccountRecord | undefined>;
  listAccounts(page: { limit: number; cursor?: string }): Promise<Page<AccountRecord>>;
  /** Creates or replaces an account. Errors: not_found, already_exists, precondition_failed. */
  putAccount(input: PutAccountInput, ctx: WriteContext): Promise<PutAccountResult>;
  /**
   * Deletes an account with everything in it (objects, credentials; one audit entry and change per
   * object) and revokes its tokens, in one transaction. Errors: not_found, precondition_failed.
   */
  deleteAccount(
    input: { id: string; ifMatch?: IfMatch },
    ctx: WriteContext,
  ): Promise<{ before: AccountRecord }>;

  /** Errors: already_exists, idempotency_exists. */
  createToken(input: CreateTokenInput, ctx: WriteContext): Promise<TokenRecord>;
  /** Looks a token up by the sha256 of its secret; revoked and expired tokens are returned too. */
  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | undefined>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(input: { accountId?: string; limit: number; cursor?: string }): Promise<Page<TokenRecord>>;
  /** Revokes a token (idempotent). Errors: not_found. */
  revokeToken(input: { id: string }, ctx: WriteContext): Promise<TokenRecord>;
  /** Number of tokens (any state); the first start bootstraps an admin token when it is 0. */
  countTokens(): Promise<number>;

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
  /**
   * Addresses more than one User, Alias or Group holds (as its address or a user's extra address), at
   * most `limit` (default 100). Writes never make one; a store written by an earlier version may hold
   * some, which the control plane reports at start-up.
   */
  sharedAddresses(limit?: number): Promise<SharedAddress[]>;

  /** Every name a Domain holds (or only these), with its holder and verification, in any account. */
  domainNames(names?: readonly string[]): Promise<DomainNameHold[]>;
  /**
   * Records a DNS check of one of a Domain's names and/or marks it verified, audited (`verify`).
   * A status change bumps the revision (the SMTP engine follows). Errors: not_found (no such Domain,
   * or it does not hold the name).
   */
  recordDomainCheck(input: DomainCheckInput, ctx: WriteContext): Promise<StoredObject>;

  /** The user's credential; without `accountId` the user is looked up by its (globally unique) ID. */
  getCredential(userId: string, accountId?: string): Promise<CredentialRecord | undefined>;

  /**
   * When the lockout of `key` ends (ms since epoch), or 0 when it may log in at `at`. One primary-key
   * read: the only lockout cost of a successful login.
   */
  loginLockedUntil(key: string, at: number): Promise<number>;
  /**
   * Records a failed login in one transaction with its audit entry (account of the target, or none):
   * counts it against the key with `policy` (failures within the window lock the key for the duration,
   * audited as `lock` in every account whose domains the key's failures aimed at) and remembers the
   * target. Concurrent failures for one key, from any process, are counted one after another.
   * @returns when the key's lockout ends (0 when not locked) and whether this failure locked it
   */
  recordLoginFailure(input: LoginFailureInput): Promise<{ lockedUntil: number; locked: boolean }>;
  /**
   * Records a sign-in attempt in the login audit in its own transaction (failures that count towards
   * a lockout go with {@link recordLoginFailure}'s `attempt` instead). Entries older than the
   * retention are purged now and then after a write.
   */
  recordLoginAttempt(input: LoginAttemptInput): Promise<void>;
  /** A page of an account's login audit entries, newest first. */
  listLoginAudit(input: ListLoginAuditInput): Promise<Page<LoginAuditEntry>>;

  /**
   * Adds a notice to the outbox unless one with its key exists (see notices.ts); true when added.
   * Login alerts are added by {@link recordLoginAttempt} and {@link recordLoginFailure} themselves.
   */
  enqueueNotice(notice: OutboxNotice): Promise<boolean>;
  /** Claims up to `limit` unsent notices for `claimant` for `forMs` (an engine sends them; see notices.ts). */
  claimNotices(input: { claimant: string; forMs: number; limit: number }): Promise<ClaimedNotice[]>;
  /** Marks a claimed notice sent (or dropped: `queueId` null); its key keeps throttling until purged. */
  markNoticeSent(input: { key: string; claimant: string; queueId: string | null }): Promise<void>;
  /**
   * Claims a report send (a digest or domain report for one recipient and period; see report-sends.ts)
   * for `claimant` for `forMs`: true when this claimant is to send it now, false when it was sent or
   * another claimant holds it. Engines sharing the store send each one once.
   */
  claimReportSend(input: { key: string; claimant: string; forMs: number }): Promise<boolean>;
  /** Of `keys`, the report sends already made (a sender skips building what they would send). */
  sentReportSends(keys: readonly string[]): Promise<Set<string>>;
  /** Marks a claimed report send done (`queueId` null: refused by its recipient); never claimed again. */
  markReportSent(input: { key: string; claimant: string; queueId: string | null }): Promise<void>;
  /** Records the keys of sends made before the store kept them as sent (existing keys stay); how many were added. */
  importReportSends(keys: string[]): Promise<number>;
  /** Keys with failures that still count or a lock that holds at `at`, in key order. */
  listLoginLockouts(input: ListLoginLockoutsInput): Promise<Page<LoginLockoutRecord>>;
  /** One key's current state, or undefined when it has none. */
  getLoginLockout(key: string, at?: number): Promise<LoginLockoutRecord | undefined>;
  /**
   * Lifts a lockout: forgets the key's failures and lock, audited as `unlock` in every account its
   * failures concerned (each entry naming only that account's domains). `guard` sees the current
   * state inside the transaction; a returned error aborts. Errors: not_found.
   */
  liftLoginLockout(
    input: { key: string; at?: number; guard?: (current: LoginLockoutRecord) => Error | undefined },
    ctx: WriteContext,
  ): Promise<{ before: LoginLockoutRecord }>;

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

  /** The unexpired record for (token, key), if any. */
  getIdempotency(tokenId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Deletes expired idempotency records; returns how many. */
  purgeIdempotency(): Promise<number>;

  /** A platform setting (e.g. the DKIM key pair), shared by every node on the store. */
  getSetting(name: string): Promise<string | undefined>;
  /** Stores `value` unless the setting exists; returns the value that is stored now (first writer wins). */
  initSetting(name: string, value: string): Promise<string>;

  /** The current tenancy revision (bumped by every committed tenancy change). */
  revision(): Promise<number>;
  /** Changes after `revision` in commit order, or null when the change log no longer reaches back. */
  changesSince(revision: number): Promise<Change[] | null>;
  /** Every account and tenancy object (optionally only enabled ones) at one consistent revision. */
  snapshot(opts?: { enabledOnly?: boolean }): Promise<Snapshot>;
  /**
   * Calls `listener` within a second of any committed tenancy change made by any process sharing the
   * store (PostgreSQL LISTEN/NOTIFY; SQLite polls its revision counter every 150 ms). Returns unsubscribe.
   */
  watch(listener: (event: ChangeEvent) => void): () => void;

  close(): Promise<void>;
}

/** Stable reasons a store operation fails; the API maps them onto the error catalogue. */
export type StoreErrorCode =
  | "not_found"
  | "already_exists"
  | "owned_elsewhere"
  | "precondition_failed"
  | "parent_missing"
  | "has_dependents"
  | "idempotency_exists"
  | "invalid_cursor"
  | "conflict"
  /** Creating the object would pass the account's limit for its kind (`AccountSpec.limits`). */
  | "limit_exceeded"
  /** The database cannot be reached or cannot answer now (see faults.ts); retrying later can succeed. */
  | "unavailable";

/**
 * A store failure with a stable `code` (match on `code`, not `instanceof`).
 *
 * @example
 * try { await store.putObject(input, ctx) } catch (e) { if (e.code === "precondition_failed") … }
 */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The current object/etag for precondition failures, when useful to the caller. */
  readonly current: unknown;
  /** The spec field the failure is about, when one is (`["addresses", 2]` for a shared address). */
  readonly path: (string | number)[] | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    current?: unknown,
    options?: ErrorOptions & { path?: (string | number)[] },
  ) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
    this.current = current;
    this.path = options?.path;
  }
}

/** True when `e` is a StoreError (by shape, so two loaded copies of this module agree). */
export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { name?: unknown }).name === "StoreError" &&
    (code === undefined || (e as { code?: unknown }).code === code)
  );
}
