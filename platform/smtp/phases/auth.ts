/** AUTH phase (RFC 4954): PLAIN and LOGIN only over TLS, per-IP lockout, disabled and expired users refused. */
import type { LoginLockout } from "../lockout.ts";
import { splitMailbox } from "../policy/matchers.ts";
import { DEFAULT_AUTH, type PolicySnapshot } from "../policy/snapshot.ts";
import type { AuthenticatedUser, ConnectionContext } from "../session.ts";
import { accept, defer, type PhaseResult, reject } from "./result.ts";

/** Where the engine finds password hashes; the store keeps them (argon2id/scrypt PHC strings). */
export interface CredentialSource {
  /** The user's current hash and when it was set (RFC 3339), or undefined when the user has none. */
  lookup(address: string): Promise<{ hash: string; setAt: string } | undefined>;
  /** True when `password` matches `hash`. Must not log either. */
  verify(hash: string, password: string): Promise<boolean>;
}

/** What the phase needs besides the connection. */
export interface AuthDeps {
  snapshot: PolicySnapshot;
  lockout: LoginLockout;
  credentials: CredentialSource;
  now: number;
}

/** Mechanisms offered (RFC 4954 §4 with RFC 4616 PLAIN; LOGIN is the widely deployed draft). */
export const AUTH_MECHANISMS = ["PLAIN", "LOGIN"] as const;

/** Every credential failure reads the same, so the reply does not tell which part was wrong. */
const INVALID = reject(535, "5.7.8", "Authentication credentials invalid");

/**
 * Checks one AUTH attempt. Order: TLS required (538 5.7.11) → IP locked out (454 4.7.0) → user,
 * password → disabled or expired (only said once the password proved right). A wrong password
 * counts towards the IP's lockout; the reply never contains the password or hash.
 *
 * @example
 * const verdict = await authenticate(deps, conn, { method: "PLAIN", username: "alice@example.com", password });
 */
export async function authenticate(
  deps: AuthDeps,
  conn: ConnectionContext,
  attempt: { method: string; username: string; password: string },
): Promise<PhaseResult<AuthenticatedUser>> {
  if (!(AUTH_MECHANISMS as readonly string[]).includes(attempt.method.toUpperCase())) {
    return reject(504, "5.5.4", "Unrecognized authentication type");
  }
  // RFC 4954 §4: a mechanism that sends the password in the clear needs an encrypted channel.
  if (!conn.secure)
    return reject(538, "5.7.11", "Encryption required for requested authentication mechanism");
  if (deps.lockout.lockedUntil(conn.remoteAddress, deps.now) > 0) {
    return defer(454, "4.7.0", "Too many failed logins from your address, try again later");
  }
  const username = attempt.username.trim().toLowerCase();
  const parts = splitMailbox(username);
  const domain = parts ? deps.snapshot.domains.get(parts.domain) : undefined;
  const policy = domain?.auth ?? DEFAULT_AUTH;
  const fail = (): PhaseResult<AuthenticatedUser> => {
    deps.lockout.recordFailure(conn.remoteAddress, policy, deps.now);
    return INVALID;
  };
  // A domain alias is not a login name: users log in with their main address.
  const user = parts && domain && domain.name === parts.domain ? domain.users.get(parts.local) : undefined;
  if (!user) return fail();
  const credential = await deps.credentials.lookup(user.address);
  if (!credential) return fail();
  if (!(await deps.credentials.verify(credential.hash, attempt.password))) return fail();
  if (!user.enabled) return reject(535, "5.7.8", "Account disabled");
  if (policy.expiryDays !== null) {
    const expiresAt = Date.parse(credential.setAt) + policy.expiryDays * 86_400_000;
    if (!(expiresAt > deps.now))
      return reject(535, "5.7.8", "Password expired, set a new one to log in again");
  }
  return accept({ address: user.address, accountId: user.accountId, domain: domain!.name });
}
