/** The Store over the SqlDriver seam: transactions, the read cache and the change watcher; each concern's SQL lives in its own file. */

import { LOGIN_AUDIT_RETENTION_DAYS, type LoginAuditEntry } from "../../sdk/src/models/login-audit.ts";
import { type AccountUsage, accountUsage } from "./account-limits.ts";
import * as accounts from "./accounts.ts";
import { type AuditInput, listAudit, writeAudit } from "./audit.ts";
import * as changeFeed from "./change-feed.ts";
import type { AccountRecord, PutAccountInput, PutAccountResult } from "./contract/account-store.ts";
import type { AuditEntry, AuditQueryInput } from "./contract/audit-store.ts";
import type { Change, ChangeEvent, Snapshot } from "./contract/change-feed-store.ts";
import type { CredentialRecord } from "./contract/credential-store.ts";
import type { DomainCheckInput, DomainNameHold } from "./contract/domain-name-store.ts";
import type { IdempotencyRecord } from "./contract/idempotency-store.ts";
import type { ListLoginAuditInput, LoginAttemptInput } from "./contract/login-audit-store.ts";
import type {
  ListLoginLockoutsInput,
  LoginFailureInput,
  LoginLockoutRecord,
} from "./contract/login-lockout-store.ts";
import type { ClaimedNotice, OutboxNotice } from "./contract/notice-outbox-store.ts";
import type {
  DeleteObjectInput,
  ListObjectsInput,
  PutObjectInput,
  PutObjectResult,
  StoredObject,
} from "./contract/object-store.ts";
import type { Page } from "./contract/page.ts";
import { isStoreError } from "./contract/store-error.ts";
import type { ApplyTenancyInput, ApplyTenancyResult } from "./contract/tenancy-store.ts";
import type { CreateTokenInput, TokenRecord } from "./contract/token-store.ts";
import type {
  AppPasswordRecord,
  NewUserSession,
  UserAuthStore,
  UserSessionRecord,
  UserTotpRecord,
} from "./contract/user-auth-store.ts";
import type { IfMatch, WriteContext } from "./contract/write-context.ts";
import { getCredential } from "./credentials.ts";
import { recordDomainCheck } from "./domain-claims.ts";
import { domainNameHolds, withVerification } from "./domain-names.ts";
import { getIdempotency, purgeIdempotency } from "./idempotency.ts";
import * as loginAudit from "./login-audit.ts";
import * as lockouts from "./login-lockouts.ts";
import { migrate } from "./migrations.ts";
import * as notices from "./notices.ts";
import { insertSuccessor, removeObject, selectObject } from "./object-rows.ts";
import * as objects from "./objects.ts";
import {
  refuseShared,
  type SharedAddress,
  sharedAddresses,
  type TakenAddress,
} from "./recipient-addresses.ts";
import * as reportSends from "./report-sends.ts";
import { getSetting, initSetting } from "./settings.ts";
import type { SqlDriver, SqlExecutor } from "./sql.ts";
import type { Store } from "./store.ts";
import { applyTenancyIn, tenancyEtag, tenancyOrder } from "./tenancy-apply.ts";
import * as tokens from "./tokens.ts";
import * as userAuth from "./user-auth.ts";
import type { WriteSteps } from "./write-steps.ts";

/** Options shared by both adapters. */
export interface StoreOptions {
  /** Clock for timestamps and expiry; default `() => new Date()`. */
  now?: () => Date;
  /** How many change-log rows to keep for `changesSince`; default 10,000. */
  changeLogRetention?: number;
  /** Told about failures in the background change watcher (which retries on its next wake-up). */
  onWatchError?: (error: unknown) => void;
  /** Login audit retention (ms) and cap; defaults {@link LOGIN_AUDIT_RETENTION_DAYS} days and see login-audit.ts. */
  loginAudit?: { retentionMs?: number; maxEntriesPerDomainHour?: number };
}

/** Most reads the cache keeps before it starts over (a tenancy's hot objects, tokens and pages). */
const READ_CACHE_ENTRIES = 20_000;

/** Expired login lockout keys and old login audit entries are purged at most this often (ms), after a write. */
const LOCKOUT_PURGE_INTERVAL_MS = 60_000;
/** How long the record of a report send is kept (ms): 35 days, well past the longest period (a week). */
const REPORT_SEND_RETENTION_MS = 35 * 86_400_000;

/**
 * The Store implementation over a SqlDriver. Construct through `openSqliteStore`/`openPostgresStore`.
 */
export class SqlStore implements Store {
  readonly dialect: "sqlite" | "postgres";
  private readonly driver: SqlDriver;
  private readonly now: () => Date;
  private readonly retention: number;
  private readonly onWatchError: (error: unknown) => void;
  private readonly watcher: changeFeed.ChangeWatcher;
  private readonly cache = new Map<string, unknown>();
  private cacheGeneration: number | undefined;
  private lastLockoutPurge = 0;
  private lastLoginAuditPurge = 0;
  private lastReportSendPurge = 0;
  private readonly loginAuditRetentionMs: number;
  private readonly loginAuditLimits: loginAudit.LoginAuditLimits;
  /** What the concern files' write functions take from this store (clock, audit, change log). */
  private readonly steps: WriteSteps = {
    now: () => this.now(),
    audit: (q, ctx, entry) => this.audit(q, ctx, entry),
    bump: (q, change) => this.bump(q, change),
    announce: (q) => this.driver.announce(q, 0),
  };

  constructor(driver: SqlDriver, options: StoreOptions = {}) {
    this.driver = driver;
    this.dialect = driver.dialect;
    this.now = options.now ?? (() => new Date());
    this.retention = options.changeLogRetention ?? 10_000;
    this.onWatchError = options.onWatchError ?? (() => {});
    this.loginAuditRetentionMs = options.loginAudit?.retentionMs ?? LOGIN_AUDIT_RETENTION_DAYS * 86_400_000;
    this.loginAuditLimits = {
      maxEntriesPerDomainHour:
        options.loginAudit?.maxEntriesPerDomainHour ?? loginAudit.DEFAULT_LOGIN_AUDIT_ENTRIES_PER_DOMAIN_HOUR,
    };
    this.watcher = new changeFeed.ChangeWatcher({
      revision: () => this.revision(),
      changesSince: (revision) => this.changesSince(revision),
      subscribe: (onWake) => this.driver.subscribe(onWake),
      onError: (error) => this.onWatchError(error),
    });
  }

  /**
   * Memoises a read while the driver's generation stays the same (SQLite: no commit by anyone since).
   * The generation is checked on every call, so a cached answer is exactly as fresh as a query would
   * be. Without a generation (PostgreSQL) every call queries. Cached values are shared: read-only.
   */
  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const generation = this.driver.generation?.();
    if (generation === undefined) return load();
    if (generation !== this.cacheGeneration) {
      this.cache.clear();
      this.cacheGeneration = generation;
    }
    if (this.cache.has(key)) return Promise.resolve(this.cache.get(key) as T);
    return load().then((value) => {
      if (this.cacheGeneration === generation) {
        if (this.cache.size >= READ_CACHE_ENTRIES) this.cache.clear();
        this.cache.set(key, value);
      }
      return value;
    });
  }

  /** Applies pending migrations; the adapters' open functions call it. */
  async init(): Promise<void> {
    await migrate(this.driver, this.now);
  }

  private iso(): string {
    return this.now().toISOString();
  }

  private async audit(q: SqlExecutor, ctx: WriteContext, entry: AuditInput): Promise<void> {
    await writeAudit(q, this.iso(), ctx, entry);
  }

  /** Bumps the revision and logs the change; the caller holds the writers' lock. */
  private async bump(q: SqlExecutor, change: Omit<Change, "revision">): Promise<number> {
    const revision = await this.driver.bump(q, change);
    if (revision % 100 === 0) await changeFeed.pruneChangeLog(q, revision - this.retention);
    return revision;
  }

  /** A write transaction; wakes local watchers after commit when it changed tenancy state. */
  private async write<T>(fn: (q: SqlExecutor, mark: () => void) => Promise<T>): Promise<T> {
    let bumped = false;
    let result: T;
    try {
      result = await this.driver.transaction(
        (q) =>
          fn(q, () => {
            bumped = true;
          }),
        { lockWriters: true },
      );
    } catch (error) {
      // The caller acted on what it read; a precondition that failed says that read was stale.
      if (isStoreError(error, "precondition_failed") || isStoreError(error, "already_exists"))
        this.cache.clear();
      throw error;
    }
    if (bumped) this.driver.committed();
    return result;
  }

  // ---------------------------------------------------------------- accounts (accounts.ts)

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    return this.cached(
      `account ${id}`,
      async () => (await this.driver.read((q) => accounts.selectAccount(q, id))) ?? undefined,
    );
  }

  async listAccounts(page: { limit: number; cursor?: string }): Promise<Page<AccountRecord>> {
    return this.driver.read((q) => accounts.listAccounts(q, page));
  }

  async putAccount(input: PutAccountInput, ctx: WriteContext): Promise<PutAccountResult> {
    return this.write((q, mark) => accounts.putAccount(q, input, ctx, this.steps, mark));
  }

  async deleteAccount(
    input: { id: string; ifMatch?: IfMatch },
    ctx: WriteContext,
  ): Promise<{ before: AccountRecord }> {
    return this.write((q, mark) => accounts.deleteAccount(q, input, ctx, this.steps, mark));
  }

  // ---------------------------------------------------------------- tokens (tokens.ts)

  async createToken(input: CreateTokenInput, ctx: WriteContext): Promise<TokenRecord> {
    return this.write((q) => tokens.createToken(q, input, ctx, this.steps));
  }

  async findTokenBySecretHash(secretHash: string): Promise<TokenRecord | undefined> {
    return this.cached(`token-hash ${secretHash}`, () =>
      this.driver.read((q) => tokens.findTokenBySecretHash(q, secretHash)),
    );
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    return this.cached(`token ${id}`, () => this.driver.read((q) => tokens.getToken(q, id)));
  }

  async listTokens(input: {
    accountId?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<TokenRecord>> {
    return this.driver.read((q) => tokens.listTokens(q, input));
  }

  async revokeToken(input: { id: string }, ctx: WriteContext): Promise<TokenRecord> {
    return this.write((q) => tokens.revokeToken(q, input, ctx, this.steps));
  }

  async countTokens(): Promise<number> {
    return this.driver.read(tokens.countTokens);
  }

  // ---------------------------------------------------------------- tenancy objects (objects.ts, object-rows.ts)

  async accountUsage(accountId: string): Promise<AccountUsage> {
    return this.driver.read((q) => accountUsage(q, accountId));
  }

  async getObject(accountId: string, kind: string, id: string): Promise<StoredObject | undefined> {
    return this.cached(
      `object ${accountId} ${kind} ${id}`,
      async () =>
        await this.driver.read(async (q) => {
          const o = await selectObject(q, { accountId, kind, id });
          return o ? (await withVerification(q, [o]))[0] : undefined;
        }),
    );
  }

  async listObjects(input: ListObjectsInput): Promise<Page<StoredObject>> {
    return this.cached(`list ${JSON.stringify(input)}`, () =>
      this.driver.read((q) => objects.listObjects(q, input)),
    );
  }

  async putObject(input: PutObjectInput, ctx: WriteContext): Promise<PutObjectResult> {
    return this.write((q, mark) => objects.putObject(q, input, ctx, this.steps, mark));
  }

  async deleteObject(input: DeleteObjectInput, ctx: WriteContext): Promise<{ before: StoredObject }> {
    return this.write((q, mark) => objects.deleteObject(q, input, ctx, this.steps, mark));
  }

  async tenancyObjects(accountId: string, domain: string) {
    const found = await this.driver.readConsistent((q) => objects.selectTenancy(q, accountId, domain));
    return { objects: found.sort(tenancyOrder), etag: tenancyEtag(found) };
  }

  async applyTenancy(input: ApplyTenancyInput, ctx: WriteContext): Promise<ApplyTenancyResult> {
    return this.write((q, mark) => {
      // The addresses the apply's writes take, checked once they are all written.
      const taken: TakenAddress[] = [];
      return applyTenancyIn(q, input, {
        select: (tx) => objects.selectTenancy(tx, input.accountId, input.domain),
        now: this.now,
        put: (tx, put) => objects.putObject(tx, put, ctx, this.steps, mark, { deferredAddresses: taken }),
        settleAddresses: (tx) => refuseShared(tx, input.accountId, taken, input.objects),
        remove: async (tx, o) => {
          mark();
          await removeObject(tx, ctx, o, this.steps);
          const next = input.successor?.(o);
          if (
            next &&
            !(await selectObject(tx, { accountId: input.accountId, kind: next.kind, id: next.id }))
          ) {
            await insertSuccessor(tx, ctx, input.accountId, next, this.steps);
          }
        },
      });
    });
  }

  async sharedAddresses(limit?: number): Promise<SharedAddress[]> {
    return this.driver.read((q) => sharedAddresses(q, limit));
  }

  // ---------------------------------------------------------------- domain names (domain-claims.ts, domain-names.ts)

  async domainNames(names?: readonly string[]): Promise<DomainNameHold[]> {
    return this.driver.readConsistent((q) => domainNameHolds(q, names));
  }

  async recordDomainCheck(input: DomainCheckInput, ctx: WriteContext): Promise<StoredObject> {
    const object = await this.write((q, mark) => recordDomainCheck(q, input, ctx, this.steps, mark));
    // This node's own cached reads go at once.
    this.cache.clear();
    return object;
  }

  // ---------------------------------------------------------------- credentials (credentials.ts)

  async getCredential(userId: string, accountId?: string): Promise<CredentialRecord | undefined> {
    return this.driver.readConsistent((q) => getCredential(q, userId, accountId));
  }

  // ---------------------------------------------------------------- login lockouts (login-lockouts.ts)

  async loginLockedUntil(key: string, at: number): Promise<number> {
    return this.driver.read((q) => lockouts.lockedUntil(q, key, at));
  }

  async recordLoginFailure(input: LoginFailureInput): Promise<{ lockedUntil: number; locked: boolean }> {
    // Not on the writers' lock: failures serialise per key (its row), not with tenancy writes.
    const result = await this.driver.transaction(async (q) => {
      if (input.attempt) {
        await loginAudit.recordAttempt(q, input.attempt, this.loginAuditLimits);
        await loginAudit.queueLoginAlert(q, input.attempt);
      }
      return lockouts.recordFailure(q, input, (tx, ctx, entry) => this.audit(tx, ctx, entry));
    });
    if (input.at - this.lastLockoutPurge >= LOCKOUT_PURGE_INTERVAL_MS) {
      this.lastLockoutPurge = input.at;
      // Housekeeping in its own transaction; a failure here only delays it to the next interval.
      await this.driver.transaction((q) => lockouts.purgeExpired(q, input.at)).catch(() => 0);
    }
    if (input.attempt) await this.purgeLoginAudit(input.at);
    return result;
  }

  // ---------------------------------------------------------------- login audit (login-audit.ts)

  async recordLoginAttempt(input: LoginAttemptInput): Promise<void> {
    // Not on the writers' lock: entries serialise per key (the unique index), not with tenancy writes.
    await this.driver.transaction(async (q) => {
      await loginAudit.recordAttempt(q, input, this.loginAuditLimits);
      await loginAudit.queueLoginAlert(q, input);
    });
    await this.purgeLoginAudit(input.at);
  }

  // ---------------------------------------------------------------- notice outbox (notices.ts)

  async enqueueNotice(notice: OutboxNotice): Promise<boolean> {
    return this.driver.transaction((q) => notices.enqueueNotice(q, notice, this.iso()));
  }

  async claimNotices(input: { claimant: string; forMs: number; limit: number }): Promise<ClaimedNotice[]> {
    const at = this.now().getTime();
    return this.driver.transaction((q) =>
      notices.claimNotices(q, {
        claimant: input.claimant,
        at: new Date(at).toISOString(),
        until: new Date(at + input.forMs).toISOString(),
        limit: input.limit,
      }),
    );
  }

  async markNoticeSent(input: { key: string; claimant: string; queueId: string | null }): Promise<void> {
    await this.driver.transaction((q) => notices.markNoticeSent(q, { ...input, at: this.iso() }));
  }

  // ---------------------------------------------------------------- report sends (report-sends.ts)

  async claimReportSend(input: { key: string; claimant: string; forMs: number }): Promise<boolean> {
    const at = this.now().getTime();
    const won = await this.driver.transaction((q) =>
      reportSends.claimReportSend(q, {
        key: input.key,
        claimant: input.claimant,
        at: new Date(at).toISOString(),
        until: new Date(at + input.forMs).toISOString(),
      }),
    );
    if (at - this.lastReportSendPurge >= 86_400_000) {
      this.lastReportSendPurge = at;
      // Housekeeping in its own transaction; a failure here only delays it to the next day.
      await this.driver
        .transaction((q) =>
          reportSends.purgeReportSends(q, new Date(at - REPORT_SEND_RETENTION_MS).toISOString()),
        )
        .catch(() => 0);
    }
    return won;
  }

  async sentReportSends(keys: readonly string[]): Promise<Set<string>> {
    return this.driver.read((q) => reportSends.sentReportSends(q, keys));
  }

  async markReportSent(input: { key: string; claimant: string; queueId: string | null }): Promise<void> {
    await this.driver.transaction((q) => reportSends.markReportSent(q, { ...input, at: this.iso() }));
  }

  async importReportSends(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.driver.transaction((q) => reportSends.importReportSends(q, keys, this.iso()));
  }

  async listLoginAudit(input: ListLoginAuditInput): Promise<Page<LoginAuditEntry>> {
    return this.driver.read((q) => loginAudit.listAttempts(q, input));
  }

  /** Deletes entries past the retention, at most once a minute; a failure only delays it. */
  private async purgeLoginAudit(at: number): Promise<void> {
    if (at - this.lastLoginAuditPurge < LOCKOUT_PURGE_INTERVAL_MS) return;
    this.lastLoginAuditPurge = at;
    const before = at - this.loginAuditRetentionMs;
    await this.driver
      .transaction(async (q) => {
        await loginAudit.purgeAttempts(q, before);
        await notices.purgeSentNotices(q, new Date(before).toISOString());
      })
      .catch(() => 0);
  }

  async listLoginLockouts(input: ListLoginLockoutsInput): Promise<Page<LoginLockoutRecord>> {
    const at = input.at ?? this.now().getTime();
    return this.driver.readConsistent((q) => lockouts.listLockouts(q, input, at));
  }

  async getLoginLockout(key: string, at?: number): Promise<LoginLockoutRecord | undefined> {
    return this.driver.readConsistent((q) => lockouts.getLockout(q, key, at ?? this.now().getTime()));
  }

  async liftLoginLockout(
    input: { key: string; at?: number; guard?: (current: LoginLockoutRecord) => Error | undefined },
    ctx: WriteContext,
  ): Promise<{ before: LoginLockoutRecord }> {
    const at = input.at ?? this.now().getTime();
    return this.driver.transaction((q) =>
      lockouts.liftLockout(q, input, at, ctx, (tx, c, entry) => this.audit(tx, c, entry)),
    );
  }

  // ---------------------------------------------------------------- user sign-in (user-auth.ts)

  private readonly auditWriter: lockouts.AuditWriter = (tx, c, entry) => this.audit(tx, c, entry);

  async createUserSession(input: NewUserSession, ctx: WriteContext): Promise<void> {
    await this.driver.transaction((q) => userAuth.createSession(q, input, ctx, this.auditWriter));
  }
  async findUserSession(secretHash: string): Promise<UserSessionRecord | undefined> {
    return this.driver.read((q) => userAuth.findSession(q, secretHash));
  }
  async touchUserSession(id: string, at: string): Promise<void> {
    await this.driver.transaction((q) => userAuth.touchSession(q, id, at));
  }
  async endUserSession(id: string, at: string, ctx: WriteContext): Promise<void> {
    await this.driver.transaction((q) => userAuth.endSession(q, id, at, ctx, this.auditWriter));
  }
  async revokeUserSessions(
    accountId: string,
    userId: string,
    at: string,
    exceptId?: string,
  ): Promise<number> {
    return this.driver.transaction((q) => userAuth.revokeSessions(q, accountId, userId, at, exceptId));
  }
  async getUserTotp(accountId: string, userId: string): Promise<UserTotpRecord | undefined> {
    return this.driver.readConsistent((q) => userAuth.getTotp(q, accountId, userId));
  }
  async enrolUserTotp(
    input: Parameters<UserAuthStore["enrolUserTotp"]>[0],
    ctx: WriteContext,
  ): Promise<boolean> {
    return this.driver.transaction((q) => userAuth.enrolTotp(q, input, ctx, this.auditWriter));
  }
  async useTotpStep(input: Parameters<UserAuthStore["useTotpStep"]>[0], ctx: WriteContext): Promise<boolean> {
    return this.driver.transaction((q) => userAuth.useStep(q, input, ctx, this.auditWriter));
  }
  async useRecoveryCode(
    accountId: string,
    userId: string,
    codeHash: string,
    ctx: WriteContext,
  ): Promise<boolean> {
    return this.driver.transaction((q) =>
      userAuth.useRecovery(q, accountId, userId, codeHash, ctx, this.auditWriter),
    );
  }
  async removeUserTotp(accountId: string, userId: string, ctx: WriteContext): Promise<boolean> {
    return this.driver.transaction((q) => userAuth.removeTotp(q, accountId, userId, ctx, this.auditWriter));
  }
  async createAppPassword(
    input: Parameters<UserAuthStore["createAppPassword"]>[0],
    ctx: WriteContext,
  ): Promise<void> {
    await this.driver.transaction((q) => userAuth.createAppPassword(q, input, ctx, this.auditWriter));
  }
  async listAppPasswords(accountId: string, userId: string): Promise<AppPasswordRecord[]> {
    return this.driver.readConsistent((q) => userAuth.listAppPasswords(q, accountId, userId));
  }
  async findAppPassword(secretHash: string): Promise<AppPasswordRecord | undefined> {
    return this.driver.read((q) => userAuth.findAppPassword(q, secretHash));
  }
  async revokeAppPassword(
    input: Parameters<UserAuthStore["revokeAppPassword"]>[0],
    ctx: WriteContext,
  ): Promise<AppPasswordRecord | undefined> {
    return this.driver.transaction((q) => userAuth.revokeAppPassword(q, input, ctx, this.auditWriter));
  }
  async touchAppPassword(id: string, at: string): Promise<void> {
    await this.driver.transaction((q) => userAuth.touchAppPassword(q, id, at));
  }

  // ---------------------------------------------------------------- audit (audit.ts), idempotency (idempotency.ts)

  async recordAudit(
    entry: { accountId: string; action: string; kind: string; objectId: string; after: unknown },
    ctx: WriteContext,
  ): Promise<void> {
    await this.write((q) => this.audit(q, ctx, { ...entry, before: null }));
  }

  async listAudit(input: AuditQueryInput): Promise<Page<AuditEntry>> {
    return this.driver.read((q) => listAudit(q, input));
  }

  async getIdempotency(tokenId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.driver.read((q) => getIdempotency(q, tokenId, key, this.iso()));
  }

  async purgeIdempotency(): Promise<number> {
    return this.driver.transaction((q) => purgeIdempotency(q, this.iso()));
  }

  // ---------------------------------------------------------------- settings (settings.ts)

  async getSetting(name: string): Promise<string | undefined> {
    return this.driver.read((q) => getSetting(q, name));
  }

  async initSetting(name: string, value: string): Promise<string> {
    return this.write((q) => initSetting(q, name, value, this.now));
  }

  // ---------------------------------------------------------------- change feed (change-feed.ts)

  async revision(): Promise<number> {
    return this.driver.read(changeFeed.selectRevision);
  }

  async changesSince(revision: number): Promise<Change[] | null> {
    return this.driver.readConsistent((q) => changeFeed.changesSince(q, revision));
  }

  async snapshot(opts: { enabledOnly?: boolean } = {}): Promise<Snapshot> {
    return this.driver.readConsistent((q) => changeFeed.snapshot(q, opts));
  }

  watch(listener: (event: ChangeEvent) => void): () => void {
    return this.watcher.watch(listener);
  }

  async close(): Promise<void> {
    this.watcher.close();
    await this.driver.close();
  }
}
