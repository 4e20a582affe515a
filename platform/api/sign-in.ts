/** The checks of a mail user's sign-in: per-IP lockout (shared with SMTP AUTH), access rules, constant-work password check, TOTP and recovery codes. */
import { randomBytes } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  type AccessRuleSpec,
  type AccessService,
  type ErrorCode,
  type PasswordPolicySpec,
  rolePermits,
} from "../../sdk/src/index.ts";
import { accessScopes, compileAccessRule, decideAccess } from "../access-rules.ts";
import { lockoutKeyOf } from "../smtp/lockout.ts";
import type { CidrSet } from "../smtp/policy/matchers.ts";
import type { LoginAttemptInput } from "../store/contract/login-audit-store.ts";
import type { LoginFailureReason } from "../store/contract/login-lockout-store.ts";
import type { WriteContext } from "../store/contract/write-context.ts";
import type { Store } from "../store/store.ts";
import type { ApiServices } from "./lib/services.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { problem } from "./problem.ts";
import { openText, type SealedText } from "./sealing.ts";
import { matchingStep, recoveryCodeHash } from "./totp.ts";

/** Every credential failure reads the same: the answer does not tell which part was wrong. */
const FAILED = "the address, password or code is not right";

/** A dummy hash per cost, so an unknown address costs one argon2id verification like a real one. */
const dummies = new Map<string, Promise<string>>();

function dummyHash(services: ApiServices): Promise<string> {
  const key = JSON.stringify(services.argon2);
  let made = dummies.get(key);
  if (!made) {
    made = hashPassword(randomBytes(24).toString("base64url"), services.argon2);
    dummies.set(key, made);
  }
  return made;
}

/** 429 MP_LOGIN_LOCKED with Retry-After while the client's IP (IPv6: /64) is locked out. */
export async function refuseLockedOut(
  store: Store,
  reply: FastifyReply,
  ip: string,
  now: Date,
): Promise<void> {
  const until = await store.loginLockedUntil(lockoutKeyOf(ip), now.getTime());
  if (until > now.getTime()) {
    const seconds = Math.max(1, Math.ceil((until - now.getTime()) / 1000));
    reply.header("retry-after", String(seconds));
    throw problem(
      "MP_LOGIN_LOCKED",
      `too many failed sign-ins from your address; try again in ${seconds} s`,
      {
        retryAfterSeconds: seconds,
      },
    );
  }
}

/**
 * Counts a failed sign-in against the client's lockout key with the attempted domain's lockout rules
 * (as SMTP AUTH does), audited `login-failed`, and answers 401 MP_SIGN_IN_FAILED.
 */
export async function signInFailed(
  store: Store,
  input: {
    ip: string;
    now: Date;
    policy: PasswordPolicySpec;
    target: { accountId: string; domain: string } | null;
    user: string | null;
    reason: LoginFailureReason;
    counted?: boolean;
    /** The answer when it is not the usual 401 (a refusal said only once the password proved right). */
    answer?: { code: "MP_LOGIN_NOT_ALLOWED"; detail: string };
    /** The login audit entry of this failure (same transaction); none for names no account hosts. */
    attempt?: LoginAttemptInput | undefined;
  },
): Promise<never> {
  await store.recordLoginFailure({
    key: lockoutKeyOf(input.ip),
    ip: input.ip,
    at: input.now.getTime(),
    policy: {
      failures: input.policy.lockout.failures,
      windowMs: input.policy.lockout.windowMinutes * 60_000,
      durationMs: input.policy.lockout.durationMinutes * 60_000,
    },
    target: input.target,
    user: input.user,
    reason: input.reason,
    counted: input.counted ?? true,
    ...(input.attempt ? { attempt: input.attempt } : {}),
  });
  if (input.answer) throw problem(input.answer.code, input.answer.detail);
  throw problem("MP_SIGN_IN_FAILED", FAILED);
}

/** The detail of MP_LOGIN_NOT_ALLOWED (the same for the API and a session's later requests). */
export const ROLE_REFUSED = "your role may not log in here; ask an administrator";

/**
 * Whether the user object's role may log in under `policy` (PasswordPolicy `rolePermissions`).
 * @example roleMayLogIn(policy, user) // true
 */
export function roleMayLogIn(policy: PasswordPolicySpec, user: { spec: Record<string, unknown> }): boolean {
  const role = typeof user.spec.role === "string" ? user.spec.role : undefined;
  return rolePermits(policy, role, "loginAllowed");
}

/**
 * Checks `password` against the user's argon2id hash, or against a dummy hash when there is none (so
 * the time taken does not tell which addresses exist). Application passwords never match here.
 */
export async function checkAccountPassword(
  services: ApiServices,
  hash: string | undefined,
  password: string,
): Promise<boolean> {
  const matches = await verifyPassword(password, hash ?? (await dummyHash(services)));
  return hash !== undefined && matches;
}

/**
 * Checks a second factor: a 6-digit TOTP code within ±1 step whose step is newer than the last one
 * used (RFC 6238 §5.2: each code once), or else an unused recovery code (consumed). With `confirm`,
 * only a TOTP code of a pending enrolment counts, and it confirms it.
 */
export async function checkSecondFactor(
  services: ApiServices,
  input: {
    accountId: string;
    userId: string;
    code: string;
    now: Date;
    confirm: boolean;
    ctx: WriteContext;
  },
): Promise<boolean> {
  const { store, masterKey } = services;
  const totp = await store.getUserTotp(input.accountId, input.userId);
  if (!totp || (totp.confirmedAt === null) !== input.confirm) return false;
  const code = input.code.replace(/\s+/g, "");
  if (/^\d{6}$/.test(code)) {
    const secret = Buffer.from(openText(masterKey, JSON.parse(totp.sealedSecret) as SealedText), "base64");
    const step = matchingStep(secret, code, input.now.getTime());
    if (step === undefined) return false;
    return store.useTotpStep(
      {
        accountId: input.accountId,
        userId: input.userId,
        step,
        at: input.now.toISOString(),
        confirm: input.confirm,
      },
      input.ctx,
    );
  }
  if (input.confirm) return false;
  return store.useRecoveryCode(input.accountId, input.userId, recoveryCodeHash(code), input.ctx);
}

/**
 * 403 MP_ACCESS_DENIED when the AccessRules of `address` (the user's, else its domain's, else the
 * account's; see platform/access-rules.ts) keep `ip` from signing in to `service`. Read from the store
 * at each sign-in (three reads by ID), so a rule applies from the moment it is written.
 *
 * @example await refuseByAccessRule(store, { accountId: "acme", address: "ana@example.com", service: "api", ip: "192.0.2.7" })
 */
export async function refuseByAccessRule(
  store: Store,
  input: { accountId: string; address: string; service: AccessService; ip: string },
): Promise<void> {
  const rules = await Promise.all(
    accessScopes(input.address).map(async (scope) => {
      const stored = await store.getObject(input.accountId, "AccessRule", `${scope}/${input.service}`);
      return stored ? compileAccessRule(stored.spec as unknown as AccessRuleSpec) : undefined;
    }),
  );
  const verdict = decideAccess(rules, input.ip);
  if (!verdict.allowed) {
    throw problem(
      "MP_ACCESS_DENIED",
      `an access rule does not let your network (${input.ip}) sign in to ${input.service} as this user`,
    );
  }
}

/** Who an API sign-in attempt concerns, for the login audit: the hosted domain of the address, if any. */
export interface SignInSubject {
  accountId: string;
  domain: string;
  address: string;
  userExists: boolean;
}

/**
 * The login audit entry of an API sign-in step, or undefined when the address is at no hosted domain
 * (those attempts count towards the lockout only: no tenant could read them).
 *
 * @example signInAttempt(subject, { ip, now, result: "failure", reason: "locked-out", credential: null })
 */
export function signInAttempt(
  subject: SignInSubject | null,
  input: Pick<LoginAttemptInput, "ip" | "result" | "reason" | "credential"> & { now: Date },
): LoginAttemptInput | undefined {
  if (!subject) return undefined;
  return {
    accountId: subject.accountId,
    domain: subject.domain,
    address: subject.address,
    userExists: subject.userExists,
    ip: input.ip,
    service: "api",
    result: input.result,
    reason: input.reason,
    credential: input.credential,
    at: input.now.getTime(),
  };
}

/** Records a sign-in step in the login audit (nothing for an address at no hosted domain). */
export async function recordSignIn(store: Store, attempt: LoginAttemptInput | undefined): Promise<void> {
  if (attempt) await store.recordLoginAttempt(attempt);
}

/**
 * A `.catch` handler that records a refusal in the login audit when the error is the `code` problem
 * (a refusal, not a failing store), then rethrows whatever it was.
 *
 * @example await refuseLockedOut(store, reply, ip, now).catch(auditRefusal(store, "MP_LOGIN_LOCKED", attempt));
 */
export function auditRefusal(
  store: Store,
  code: ErrorCode,
  attempt: LoginAttemptInput | undefined,
): (e: unknown) => Promise<never> {
  return async (e: unknown) => {
    if ((e as { code?: unknown } | null)?.code === code) await recordSignIn(store, attempt);
    throw e;
  };
}

/**
 * True when the request reached the control plane over TLS: its own socket is a TLS socket, or it
 * comes straight from a trusted proxy (`--trusted-proxies`) whose last `X-Forwarded-Proto` is
 * `https`. The header from anyone else is ignored: a client could send it over plain HTTP.
 *
 * @example if (policy.requireTlsForSignIn && !cameOverTls(request, services.trustedProxies)) …
 */
export function cameOverTls(request: FastifyRequest, trustedProxies: CidrSet): boolean {
  if ((request.raw.socket as TLSSocket).encrypted === true) return true;
  const peer = (request.raw.socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (trustedProxies.size === 0 || !peer || !trustedProxies.has(peer)) return false;
  const header = request.headers["x-forwarded-proto"];
  const values = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",");
  return values.at(-1)?.trim().toLowerCase() === "https";
}
