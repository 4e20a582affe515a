/** Mail users' sessions beside admin tokens: issuing opaque session secrets, idle and absolute expiry, stages, and who the session acts for. */
import { createHash, randomBytes } from "node:crypto";
import type { FastifyRequest } from "fastify";
import {
  defaultPasswordPolicy,
  type Endpoint,
  type PasswordPolicySpec,
  SECOND_FACTOR_MINUTES,
  SESSION_ABSOLUTE_MINUTES,
  type Session,
  type SessionStage,
} from "../../sdk/src/index.ts";
import type { StoredObject } from "../store/contract/object-store.ts";
import type { UserSessionRecord } from "../store/contract/user-auth-store.ts";
import type { WriteContext } from "../store/contract/write-context.ts";
import type { Store } from "../store/store.ts";
import { hashAppPassword } from "./passwords.ts";
import { problem } from "./problem.ts";
import { ROLE_REFUSED, refuseByAccessRule, roleMayLogIn } from "./sign-in.ts";

/** The visible start of every session secret (admin tokens start `mp_`), so the auth hook tells them apart. */
export const SESSION_PREFIX = "mps_";

/** Sessions are marked used at most this often (ms): each mark is a write. Far below the 5-minute minimum timeout. */
const TOUCH_INTERVAL_MS = 15_000;

/** The signed-in user a session acts for; `request.userSession` on `user` endpoints. */
export interface UserSessionContext {
  session: UserSessionRecord;
  accountId: string;
  address: string;
  domain: string;
  user: StoredObject;
  /** The user's effective PasswordPolicy (the domain's, else the account's, else the defaults). */
  policy: PasswordPolicySpec;
  idleTimeoutMinutes: number;
  /** When the session ends whatever its use (RFC 3339). */
  expiresAt: string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook for a mail user's session; null for admin tokens and public routes. */
    userSession: UserSessionContext | null;
  }
}

/** sha256 of a session secret, hex: all the store keeps. */
export function hashSessionSecret(secret: string): string {
  return createHash("sha256").update(`session:${secret}`, "utf8").digest("hex");
}

/**
 * The PasswordPolicy that governs a user: the domain's, else the account's, else the defaults.
 * @example (await userPolicy(store, "acme", "example.com")).sessionTimeoutMinutes // 120
 */
export async function userPolicy(
  store: Store,
  accountId: string,
  domain: string,
): Promise<PasswordPolicySpec> {
  const own = await store.getObject(accountId, "PasswordPolicy", `${domain}/password-policy`);
  const stored = own ?? (await store.getObject(accountId, "PasswordPolicy", "account/password-policy"));
  // Policies stored before a field existed lack it: the defaults fill in.
  const defaults = defaultPasswordPolicy("account");
  return stored ? ({ ...defaults, ...stored.spec } as unknown as PasswordPolicySpec) : defaults;
}

/**
 * When a session ends whatever its use: 12 hours after sign-in ({@link SESSION_ABSOLUTE_MINUTES}),
 * or 5 minutes for one waiting for its second factor.
 */
export function absoluteExpiry(session: Pick<UserSessionRecord, "createdAt" | "stage">): number {
  const minutes = session.stage === "second-factor" ? SECOND_FACTOR_MINUTES : SESSION_ABSOLUTE_MINUTES;
  return Date.parse(session.createdAt) + minutes * 60_000;
}

/**
 * True when the user's password is past the policy's `expiry.days` at `now` (ms).
 * @example passwordExpired(policy, "2026-01-01T00:00:00Z", Date.now())
 */
export function passwordExpired(policy: PasswordPolicySpec, setAt: string | null, now: number): boolean {
  if (policy.expiry.days === null || setAt === null) return false;
  return !(Date.parse(setAt) + policy.expiry.days * 86_400_000 > now);
}

/**
 * Issues a session: a 32-byte random secret (`mps_…`, shown once), of which the store keeps the
 * sha256; audited `sign-in` (or `sign-in-step` when it replaces a pending session).
 *
 * @example const session = await issueSession(store, { accountId, user, stage: "active", ip, now, policy, ctx });
 */
export async function issueSession(
  store: Store,
  input: {
    accountId: string;
    address: string;
    stage: SessionStage;
    ip: string;
    now: Date;
    policy: PasswordPolicySpec;
    ctx: WriteContext;
    replaces?: string;
  },
): Promise<Session> {
  const secret = `${SESSION_PREFIX}${randomBytes(32).toString("base64url")}`;
  const id = `ses_${randomBytes(12).toString("hex")}`;
  const at = input.now.toISOString();
  await store.createUserSession(
    {
      id,
      secretHash: hashSessionSecret(secret),
      accountId: input.accountId,
      userId: input.address,
      stage: input.stage,
      ip: input.ip,
      at,
      ...(input.replaces ? { replaces: input.replaces } : {}),
    },
    { ...input.ctx, actor: id },
  );
  return {
    id,
    token: secret,
    address: input.address,
    stage: input.stage,
    idleTimeoutMinutes: input.policy.sessionTimeoutMinutes,
    expiresAt: new Date(absoluteExpiry({ createdAt: at, stage: input.stage })).toISOString(),
  };
}

/**
 * Authenticates a session secret for `endpoint`: 401 when unknown, revoked, idle past the policy's
 * `sessionTimeoutMinutes` (read at each request, so a tightened policy applies at once), past its
 * absolute expiry, or when its user was disabled or deleted; 403 MP_FORBIDDEN on any endpoint not
 * meant for mail users (admin endpoints); 403 MP_SESSION_STEP_REQUIRED while the session must finish
 * a sign-in step the endpoint is not part of. Marks the session used.
 */
export async function authenticateSession(
  store: Store,
  now: Date,
  secret: string,
  endpoint: Endpoint,
): Promise<UserSessionContext> {
  const session = await store.findUserSession(hashSessionSecret(secret));
  if (!session) throw problem("MP_UNAUTHORIZED", "unknown session");
  if (session.revokedAt) throw problem("MP_UNAUTHORIZED", "the session ended (signed out or replaced)");
  const ms = now.getTime();
  const expiresAt = absoluteExpiry(session);
  if (expiresAt <= ms) throw problem("MP_UNAUTHORIZED", "the session expired; sign in again");

  const user = await store.getObject(session.accountId, "User", session.userId);
  if (!user?.enabled) throw problem("MP_UNAUTHORIZED", "the session's user may not sign in");
  const domain = user.domain ?? "";
  const policy = await userPolicy(store, session.accountId, domain);
  // A role refused after sign-in loses its open sessions at once (the policy is read per request).
  if (!roleMayLogIn(policy, user)) throw problem("MP_LOGIN_NOT_ALLOWED", ROLE_REFUSED);
  const idleMs = policy.sessionTimeoutMinutes * 60_000;
  if (Date.parse(session.lastSeenAt) + idleMs <= ms) {
    throw problem(
      "MP_UNAUTHORIZED",
      `the session was idle for ${policy.sessionTimeoutMinutes} minutes; sign in again`,
    );
  }

  if (endpoint.access !== "user") {
    throw problem("MP_FORBIDDEN", "a mail user's session may only use /v1/me and /v1/sessions endpoints");
  }
  // A password that expires while the session lives allows only its change from then on.
  const stage =
    session.stage === "active" && passwordExpired(policy, user.secretSetAt, ms)
      ? "password-change"
      : session.stage;
  if (stage !== "active" && !endpoint.stages?.includes(stage)) {
    throw problem("MP_SESSION_STEP_REQUIRED", `the session must finish the ${stage} step first`);
  }
  if (ms - Date.parse(session.lastSeenAt) >= TOUCH_INTERVAL_MS) {
    await store.touchUserSession(session.id, now.toISOString());
  }
  return {
    session: { ...session, stage },
    accountId: session.accountId,
    address: session.userId,
    domain,
    user,
    policy,
    idleTimeoutMinutes: policy.sessionTimeoutMinutes,
    expiresAt: new Date(expiresAt).toISOString(),
  };
}

/**
 * Authenticates an application password (`mpa_…`) used as the bearer: 401 unless it exists, is not
 * revoked, has scope `api`, and its user may sign in with an unexpired password; 403 on any
 * endpoint that does not take application passwords (everything but reading and releasing the
 * user's own mail: credentials and settings need a signed-in session). Records its use.
 */
export async function authenticateAppPassword(
  store: Store,
  now: Date,
  secret: string,
  endpoint: Endpoint,
  ip: string,
): Promise<UserSessionContext> {
  const found = await store.findAppPassword(hashAppPassword(secret));
  if (!found || found.revokedAt !== null || !found.scopes.includes("api")) {
    throw problem("MP_UNAUTHORIZED", "unknown, revoked or not an api-scoped application password");
  }
  const user = await store.getObject(found.accountId, "User", found.userId);
  if (!user?.enabled) throw problem("MP_UNAUTHORIZED", "the application password's user may not sign in");
  // An application password is a sign-in of its own on every request: the user's api rules apply.
  await refuseByAccessRule(store, { accountId: found.accountId, address: found.userId, service: "api", ip });
  const domain = user.domain ?? "";
  const policy = await userPolicy(store, found.accountId, domain);
  if (!roleMayLogIn(policy, user)) throw problem("MP_LOGIN_NOT_ALLOWED", ROLE_REFUSED);
  const credential = await store.getCredential(found.userId, found.accountId);
  if (passwordExpired(policy, credential?.setAt ?? null, now.getTime())) {
    throw problem("MP_UNAUTHORIZED", "the user's password expired; sign in to change it");
  }
  if (endpoint.access !== "user" || !endpoint.appPasswords) {
    throw problem("MP_FORBIDDEN", "an application password may only read and release the user's own mail");
  }
  await store.touchAppPassword(found.id, now.toISOString());
  const at = now.toISOString();
  return {
    // No session: the application password stands in for one, so audit entries name it.
    session: {
      id: found.id,
      accountId: found.accountId,
      userId: found.userId,
      stage: "active",
      ip: "",
      createdAt: at,
      lastSeenAt: at,
      revokedAt: null,
    },
    accountId: found.accountId,
    address: found.userId,
    domain,
    user,
    policy,
    idleTimeoutMinutes: policy.sessionTimeoutMinutes,
    expiresAt: at,
  };
}

/** The request's user session; throws when the route is not a `user` route (a programming error). */
export function requireUserSession(request: FastifyRequest): UserSessionContext {
  const ctx = request.userSession;
  if (!ctx) throw new Error("route has no user session");
  return ctx;
}

/** The audit attribution of a user's request: their session and role. */
export function sessionWriteContext(request: FastifyRequest): WriteContext {
  const ctx = request.userSession;
  const role = (ctx?.user.spec as { role?: string } | undefined)?.role ?? "email-user";
  return { actor: ctx?.session.id ?? "system", role, requestId: request.id };
}
