/** Per-IP login lockout for SMTP AUTH: smtp-server has none, so failures are counted here. */
import { normaliseIp } from "./policy/matchers.ts";
import type { AuthPolicy } from "./policy/snapshot.ts";

interface IpState {
  /** Failure times (ms), oldest first, pruned to the widest window seen. */
  failures: number[];
  lockedUntil: number;
}

/**
 * Counts failed logins per client IP (never per user: a guesser elsewhere cannot lock a user out,
 * as the LuxSci lockout works). `failures` within `window` lock the IP for `duration`; the policy
 * is the one of the domain whose user was attempted, so each domain's rules apply to its logins.
 * Memory is bounded: beyond `maxTracked` IPs the oldest entry is dropped.
 *
 * @example
 * const lockout = new LoginLockout();
 * lockout.recordFailure("192.0.2.1", DEFAULT_AUTH, Date.now());
 * lockout.lockedUntil("192.0.2.1", Date.now()) // 0 until the fifth failure within 10 minutes
 */
export class LoginLockout {
  readonly #ips = new Map<string, IpState>();
  readonly #maxTracked: number;

  /** @param maxTracked IPs remembered at most; default 100,000. */
  constructor(maxTracked = 100_000) {
    this.#maxTracked = maxTracked;
  }

  /** When the IP's lockout ends (ms since epoch), or 0 when it may log in. */
  lockedUntil(ip: string, now: number): number {
    const state = this.#ips.get(normaliseIp(ip));
    return state && state.lockedUntil > now ? state.lockedUntil : 0;
  }

  /** Records a failure; returns true when this failure locked the IP. */
  recordFailure(ip: string, policy: AuthPolicy, now: number): boolean {
    const key = normaliseIp(ip);
    let state = this.#ips.get(key);
    if (!state) {
      if (this.#ips.size >= this.#maxTracked) {
        const oldest = this.#ips.keys().next().value;
        if (oldest !== undefined) this.#ips.delete(oldest);
      }
      state = { failures: [], lockedUntil: 0 };
      this.#ips.set(key, state);
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

  /** Lifts a lockout (operations: an administrator unblocks an address). */
  clear(ip: string): void {
    this.#ips.delete(normaliseIp(ip));
  }
}
