/** The store's login lockouts: failed logins counted per IPv4 address or IPv6 /64, shared by every process on the store. */
import type { LoginAttemptInput } from "./login-audit-store.ts";
import type { Page } from "./page.ts";
import type { WriteContext } from "./write-context.ts";

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

/** Input of {@link LoginLockoutStore.recordLoginFailure}. */
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

/** Input of {@link LoginLockoutStore.listLoginLockouts}. */
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
 * Login lockouts: failed logins counted per key (an IPv4 address or an IPv6 /64) and the locks they set.
 *
 * @example
 * if ((await store.loginLockedUntil(key, Date.now())) > 0) return "locked";
 */
export interface LoginLockoutStore {
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
}
