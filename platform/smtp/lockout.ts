/** Login lockout for SMTP AUTH (smtp-server has none): failures counted per IPv4 address or IPv6 /64, in memory or in the store. */
import { loginLockoutKey } from "../../sdk/src/models/lockout.ts";
import type { LoginAttemptInput } from "../store/contract/login-audit-store.ts";
import type { LoginFailureReason } from "../store/contract/login-lockout-store.ts";
import type { Store } from "../store/store.ts";
import type { AuthPolicy } from "./policy/snapshot.ts";

/** One failed login, as the AUTH phase reports it. */
export interface LoginFailure {
  /** The client's address (any form; the key is derived from it). */
  ip: string;
  /** When (ms since epoch). */
  now: number;
  /** The attempted domain's rules (or the defaults for names no account hosts). */
  policy: AuthPolicy;
  /** The hosted domain whose user was attempted; null for a name no account hosts. */
  target: { accountId: string; domain: string } | null;
  /** The attempted user when it exists; never an unknown name (it may be a mistyped password). */
  user: string | null;
  reason: LoginFailureReason;
  /** false: the password was right but the account may not log in; audited where audits exist, not counted. */
  counted: boolean;
  /** Its login audit entry (at a hosted domain), recorded with the failure where a login audit exists. */
  attempt?: LoginAttemptInput | undefined;
}

/**
 * Where the AUTH phase counts failed logins, per client key ({@link lockoutKeyOf}: never per user,
 * so a guesser elsewhere cannot lock a user out). `policy.lockoutFailures` failures within
 * `lockoutWindowMs` lock the key for `lockoutDurationMs`; the policy is the attempted domain's, so
 * each domain's rules apply to its logins.
 */
export interface LoginLockout {
  /** When the client's lockout ends (ms since epoch), or 0 when it may log in. */
  lockedUntil(ip: string, now: number): Promise<number>;
  /** Records a failed login; resolves true when this failure locked the key. */
  recordFailure(failure: LoginFailure): Promise<boolean>;
  /**
   * Records an attempt that is not a counted failure (a success, a refusal before any password was
   * checked) in the login audit. Absent: no login audit (engines without a store).
   */
  recordAttempt?(attempt: LoginAttemptInput): Promise<void>;
}

/**
 * The key a client's failures count under: its IPv4 address, or its IPv6 /64 (IPv4-mapped IPv6 is
 * the IPv4 client). An address that parses as neither (never from a socket) counts under itself.
 *
 * @example lockoutKeyOf("2001:db8:1:2::99") // "2001:db8:1:2::/64"
 */
export function lockoutKeyOf(ip: string): string {
  return loginLockoutKey(ip) ?? ip.toLowerCase();
}

interface KeyState {
  /** Failure times (ms), oldest first, pruned to the window of the latest attempt. */
  failures: number[];
  lockedUntil: number;
}

/**
 * The lockout of one process, in memory: for engines without a store (tests, embedding). It is lost
 * on restart and not shared; engines on a store use {@link storeLoginLockout}. Memory is bounded:
 * beyond `maxTracked` keys the oldest entry is dropped.
 *
 * @example
 * const lockout = new MemoryLoginLockout();
 * await lockout.recordFailure({ ip: "192.0.2.1", now: Date.now(), policy: DEFAULT_AUTH, target: null, user: null, reason: "unknown-user", counted: true });
 * await lockout.lockedUntil("192.0.2.1", Date.now()) // 0 until the fifth failure within 10 minutes
 */
export class MemoryLoginLockout implements LoginLockout {
  readonly #keys = new Map<string, KeyState>();
  readonly #maxTracked: number;

  /** @param maxTracked keys remembered at most; default 100,000. */
  constructor(maxTracked = 100_000) {
    this.#maxTracked = maxTracked;
  }

  async lockedUntil(ip: string, now: number): Promise<number> {
    const state = this.#keys.get(lockoutKeyOf(ip));
    return state && state.lockedUntil > now ? state.lockedUntil : 0;
  }

  async recordFailure(failure: LoginFailure): Promise<boolean> {
    if (!failure.counted) return false;
    const { policy, now } = failure;
    const key = lockoutKeyOf(failure.ip);
    let state = this.#keys.get(key);
    if (!state) {
      if (this.#keys.size >= this.#maxTracked) {
        const oldest = this.#keys.keys().next().value;
        if (oldest !== undefined) this.#keys.delete(oldest);
      }
      state = { failures: [], lockedUntil: 0 };
      this.#keys.set(key, state);
    }
    state.failures.push(now);
    const since = now - policy.lockoutWindowMs;
    while (state.failures.length > 0 && state.failures[0]! <= since) state.failures.shift();
    if (state.failures.length >= policy.lockoutFailures) {
      state.lockedUntil = now + policy.lockoutDurationMs;
      state.failures = [];
      return true;
    }
    return false;
  }
}

/**
 * The lockout kept in the store: it survives restarts and every engine on the store counts into and
 * honours the same keys. A login from an unlocked key costs one primary-key read; each failure is one
 * transaction with its audit entry.
 *
 * @example const engine = await startSmtpEngine({ …, lockout: storeLoginLockout(store) });
 */
export function storeLoginLockout(store: Store): LoginLockout {
  return {
    lockedUntil: (ip, now) => store.loginLockedUntil(lockoutKeyOf(ip), now),
    async recordFailure(failure) {
      const result = await store.recordLoginFailure({
        key: lockoutKeyOf(failure.ip),
        ip: failure.ip,
        at: failure.now,
        policy: {
          failures: failure.policy.lockoutFailures,
          windowMs: failure.policy.lockoutWindowMs,
          durationMs: failure.policy.lockoutDurationMs,
        },
        target: failure.target,
        user: failure.user,
        reason: failure.reason,
        counted: failure.counted,
        ...(failure.attempt ? { attempt: failure.attempt } : {}),
      });
      return result.locked;
    },
    recordAttempt: (attempt) => store.recordLoginAttempt(attempt),
  };
}
