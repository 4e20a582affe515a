/** AUTH phase (RFC 4954): PLAIN and LOGIN only over TLS, per-IP (IPv6: per /64) lockout, constant work per attempt, application passwords, access rules, disabled and expired users refused. */
import type { LoginCredential, LoginFailureKind, LoginResult } from "../../../sdk/src/models/login-audit.ts";
import type { LoginAttemptInput } from "../../store/contract/login-audit-store.ts";
import type { LoginFailureReason } from "../../store/contract/login-lockout-store.ts";
import type { LoginLockout } from "../lockout.ts";
import { splitMailbox } from "../policy/matchers.ts";
import { DEFAULT_AUTH, type PolicySnapshot } from "../policy/snapshot.ts";
import type { AuthenticatedUser, ConnectionContext } from "../session.ts";
import { accept, defer, type PhaseResult, reject } from "./result.ts";

/** Where the engine finds password hashes; the store keeps them (argon2id PHC strings). */
export interface CredentialSource {
  /**
   * The user's current hash and when it was set (RFC 3339), or undefined when the user has none.
   * `appPasswordsOnly`: the user signs in with a second factor, which SMTP cannot ask for, so only
   * application passwords are accepted here.
   */
  lookup(address: string): Promise<{ hash: string; setAt: string; appPasswordsOnly?: boolean } | undefined>;
  /**
   * The application password `password` is, if any (a hash lookup), with its user and scopes. A
   * revoked one is returned with `revoked: true`. Without this method application passwords are off.
   */
  appPassword?(
    password: string,
  ): Promise<
    { id: string; accountId: string; user: string; scopes: readonly string[]; revoked: boolean } | undefined
  >;
  /** Records a successful use of an application password (its `lastUsedAt`). */
  appPasswordUsed?(id: string, now: number): Promise<void>;
  /** True when `password` matches `hash`. Must not log either. */
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * A hash of a random secret made with the same cost parameters as the real ones. Attempts with no
   * real hash to check (unknown user, no password, domain alias) are verified against it, so every
   * attempt costs one hash computation and the reply time does not tell which addresses exist.
   */
  dummyHash(): Promise<string>;
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

/** Longest user name looked up (RFC 5321 §4.5.3.1.3: a path is at most 256 octets). */
const MAX_USERNAME = 256;

/** The login audit's reason for each failure the lockout records (one `bad-credentials` for every wrong secret, as the client was told). */
const AUDIT_REASONS: Record<LoginFailureReason, LoginFailureKind> = {
  "unknown-user": "bad-credentials",
  "no-password": "bad-credentials",
  "alias-domain": "bad-credentials",
  "wrong-password": "bad-credentials",
  "wrong-second-factor": "second-factor",
  "app-password-required": "app-password-required",
  disabled: "disabled",
  "password-expired": "expired-password",
  "role-not-allowed": "role-not-allowed",
};

/** Failures that come after the secret proved right: the audit names the kind of credential. */
const KNOWN_CREDENTIAL: Record<LoginFailureReason, boolean> = {
  "unknown-user": false,
  "no-password": false,
  "alias-domain": false,
  "wrong-password": false,
  "wrong-second-factor": false,
  "app-password-required": true,
  disabled: true,
  "password-expired": true,
  "role-not-allowed": true,
};

/** Every credential failure reads the same, so the reply does not tell which part was wrong. */
const INVALID = reject(535, "5.7.8", "Authentication credentials invalid");

/**
 * Checks one AUTH attempt. Order: TLS required (538 5.7.11) → client locked out (454 4.7.0) → one
 * credential lookup and one hash verification, whatever the name (constant work: an unknown user, a
 * user without a password and a domain-alias login are verified against the dummy hash) → the user's
 * AccessRule for `smtp-submission` (535 5.7.8 whatever the password, not counted) → disabled or
 * expired (only said once the password proved right). Every credential failure counts towards the
 * client's lockout and answers the same 535; the reply never contains the password or hash.
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
  const username = attempt.username.trim().toLowerCase().slice(0, MAX_USERNAME);
  const parts = splitMailbox(username);
  const domain = parts ? deps.snapshot.domains.get(parts.domain) : undefined;
  const policy = domain?.auth ?? DEFAULT_AUTH;
  // A domain alias is not a login name: users log in with their main address.
  const aliasDomain = domain !== undefined && domain.name !== parts?.domain;
  const user = parts && domain && !aliasDomain ? domain.users.get(parts.local) : undefined;
  // The login audit entry of this attempt: attempts at a hosted domain only (its admins read them);
  // the name as typed, whether or not it is a user. Never the password.
  const audit = (
    result: LoginResult,
    reason: LoginFailureKind | null,
    credential: LoginCredential | null,
  ): LoginAttemptInput | undefined =>
    domain && parts
      ? {
          accountId: domain.accountId,
          domain: domain.name,
          address: username,
          userExists: user !== undefined,
          ip: conn.remoteAddress,
          service: "smtp-submission",
          result,
          reason,
          credential,
          at: deps.now,
        }
      : undefined;
  const refused = async (reason: LoginFailureKind): Promise<void> => {
    const entry = audit("failure", reason, null);
    if (entry) await deps.lockout.recordAttempt?.(entry);
  };
  // RFC 4954 §4: a mechanism that sends the password in the clear needs an encrypted channel.
  if (!conn.secure) {
    await refused("tls-required");
    return reject(538, "5.7.11", "Encryption required for requested authentication mechanism");
  }
  if ((await deps.lockout.lockedUntil(conn.remoteAddress, deps.now)) > 0) {
    await refused("locked-out");
    return defer(454, "4.7.0", "Too many failed logins from your address, try again later");
  }

  // The same work on every path from here: one lookup, one verification, then the verdict.
  const credential = await deps.credentials.lookup(user?.address ?? username);
  const real = user && credential ? credential.hash : undefined;
  const matches = await deps.credentials.verify(
    real ?? (await deps.credentials.dummyHash()),
    attempt.password,
  );
  // An application password of this very user with the `smtp` scope (RFC 4954 knows one password;
  // which kind it is the platform's business). Looked up by hash: no per-user iteration.
  const app = deps.credentials.appPassword ? await deps.credentials.appPassword(attempt.password) : undefined;
  const appValid =
    app !== undefined &&
    !app.revoked &&
    app.user === user?.address &&
    app.accountId === user.accountId &&
    app.scopes.includes("smtp");
  const usedKind: LoginCredential = appValid ? "app-password" : "password";
  const fail = async (
    reason: LoginFailureReason,
    counted = true,
  ): Promise<PhaseResult<AuthenticatedUser>> => {
    await deps.lockout.recordFailure({
      attempt: audit("failure", AUDIT_REASONS[reason], KNOWN_CREDENTIAL[reason] ? usedKind : null),
      ip: conn.remoteAddress,
      now: deps.now,
      policy,
      target: domain ? { accountId: domain.accountId, domain: domain.name } : null,
      user: user?.address ?? null,
      reason,
      counted,
    });
    return INVALID;
  };
  // AccessRule (service smtp-submission), after the same work as every attempt and before the
  // password's verdict: the refusal reads like a wrong password (RFC 4954 §6: 535 5.7.8 is permanent,
  // where 454 would invite the client to retry the same credentials), so it tells a client outside
  // the allowed networks nothing about the password. Not counted towards the lockout: the answer does
  // not depend on the password, so guessing from there learns nothing. Unknown names of the domain
  // meet the same rules, so neither the reply nor the lockout tells which users exist.
  const ruleAddress = parts && domain ? `${parts.local}@${domain.name}` : undefined;
  if (ruleAddress && !domain!.access.decide(ruleAddress, "smtp-submission", conn.remoteAddress).allowed) {
    await refused("access-rule");
    return INVALID;
  }
  if (!user) return fail(aliasDomain ? "alias-domain" : "unknown-user");
  if (!credential) return fail("no-password");
  if (!appValid) {
    if (!matches) return fail("wrong-password");
    // The account password of a user with a second factor would skip it: refused, and counted.
    if (credential.appPasswordsOnly) return fail("app-password-required");
  }
  if (!user.enabled) {
    await fail("disabled", false);
    return reject(535, "5.7.8", "Account disabled");
  }
  // The PasswordPolicy's rolePermissions: only said once the password proved right, not counted.
  if (policy.loginRefusedRoles.has(user.role)) {
    await fail("role-not-allowed", false);
    return reject(535, "5.7.8", "Login not allowed for this user's role");
  }
  if (policy.expiryDays !== null) {
    const expiresAt = Date.parse(credential.setAt) + policy.expiryDays * 86_400_000;
    if (!(expiresAt > deps.now)) {
      await fail("password-expired", false);
      return reject(535, "5.7.8", "Password expired, set a new one to log in again");
    }
  }
  if (appValid) await deps.credentials.appPasswordUsed?.(app!.id, deps.now);
  const success = audit("success", null, usedKind);
  if (success) await deps.lockout.recordAttempt?.(success);
  return accept({ address: user.address, accountId: user.accountId, domain: domain!.name });
}
