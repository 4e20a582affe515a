/** Mail users' sign-in: `POST /v1/sessions` (address + password), `POST /v1/sessions/second-factor` (TOTP), `DELETE /v1/sessions/current`. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  type LoginCredential,
  type LoginFailureKind,
  normaliseAddress,
  OneTimeCode,
  type PasswordPolicySpec,
  type SessionStage,
  SignIn,
} from "../../../sdk/src/index.ts";
import type { Store } from "../../store/store.ts";
import {
  auditRefusal,
  cameOverTls,
  checkAccountPassword,
  checkSecondFactor,
  ROLE_REFUSED,
  recordSignIn,
  refuseByAccessRule,
  refuseLockedOut,
  roleMayLogIn,
  type SignInSubject,
  signInAttempt,
  signInFailed,
} from "../access/sign-in.ts";
import {
  issueSession,
  passwordExpired,
  requireUserSession,
  sessionWriteContext,
  userPolicy,
} from "../access/user-sessions.ts";
import { serve } from "../http/endpoints.ts";
import { problem } from "../http/problem.ts";
import { parseWith } from "../http/validation.ts";

/**
 * The stage a session starts in once the factors so far passed: a second factor when TOTP is on and
 * only the password was checked; an enrolment when the policy requires two factors and there is none;
 * a password change when the password expired; else active.
 */
export async function nextStage(
  store: Store,
  input: {
    accountId: string;
    address: string;
    policy: PasswordPolicySpec;
    now: Date;
    passed: "password" | "second-factor";
  },
): Promise<SessionStage> {
  const totp = await store.getUserTotp(input.accountId, input.address);
  const twoFactorOn = totp !== undefined && totp.confirmedAt !== null;
  if (input.passed === "password" && twoFactorOn) return "second-factor";
  if (input.policy.requireTwoFactor && !twoFactorOn) return "two-factor-enrolment";
  const credential = await store.getCredential(input.address, input.accountId);
  if (passwordExpired(input.policy, credential?.setAt ?? null, input.now.getTime())) return "password-change";
  return "active";
}

/**
 * The sign-in route plugin. Failures answer one 401 whatever was wrong and count towards the lockout
 * of the client's IP with the attempted domain's PasswordPolicy rules, in the store SMTP AUTH uses.
 *
 * @example app.register(sessionRoutes)
 */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const services = app.services;
  const { store } = services;
  const attribution = (request: FastifyRequest) => ({ actor: "system", role: null, requestId: request.id });

  serve(app, "createSession", async (request, reply) => {
    const now = services.now();
    const body = parseWith(SignIn, request.body, "body");
    const address = normaliseAddress(body.address);
    // User IDs are unique across accounts (a domain belongs to one), so the address finds the account.
    const credential = await store.getCredential(address);
    const user = credential ? await store.getObject(credential.accountId, "User", address) : undefined;
    // The login audit's subject: the hosted domain of the address, whether or not it is a user (an
    // unknown address of a hosted domain is recorded for its admins; the client is told nothing).
    const hold = user ? undefined : (await store.domainNames([address.split("@")[1] ?? ""]))[0];
    const subject: SignInSubject | null = user
      ? { accountId: user.accountId, domain: user.domain ?? "", address, userExists: true }
      : hold
        ? { accountId: hold.accountId, domain: hold.domain, address, userExists: false }
        : null;
    const ip = request.ip;
    const refused = (reason: LoginFailureKind) =>
      signInAttempt(subject, { ip, now, result: "failure", reason, credential: null });
    await refuseLockedOut(store, reply, ip, now).catch(
      auditRefusal(store, "MP_LOGIN_LOCKED", refused("locked-out")),
    );
    // AccessRule (service api), before the password is looked at: a refused network learns nothing
    // about it, and the refusal is not a failed sign-in (not counted). An unknown address of a hosted
    // domain meets its domain's and account's rules too, so 403 does not tell which users exist.
    if (subject) {
      await refuseByAccessRule(store, { accountId: subject.accountId, address, service: "api", ip }).catch(
        auditRefusal(store, "MP_ACCESS_DENIED", refused("access-rule")),
      );
    }
    const domain = user?.domain ?? address.split("@")[1] ?? "";
    // The domain's policy for an unknown address of a hosted domain too, so the TLS refusal does
    // not tell which users exist.
    const policy = await userPolicy(store, subject?.accountId ?? "", subject?.domain ?? domain);
    // Before the password is checked and not counted: the answer does not depend on it.
    if (policy.requireTlsForSignIn && !cameOverTls(request, services.trustedProxies)) {
      await recordSignIn(store, refused("tls-required"));
      throw problem(
        "MP_TLS_REQUIRED",
        "signing in to this domain needs HTTPS; the password crossed the network in the clear, so change it",
      );
    }
    const matches = await checkAccountPassword(services, user ? credential?.hash : undefined, body.password);
    const target = user ? { accountId: user.accountId, domain } : null;
    const failure = { ip, now, policy, target, user: user ? address : null };
    const attempt = (reason: LoginFailureKind, kind: LoginCredential | null) =>
      signInAttempt(subject, { ip, now, result: "failure", reason, credential: kind });
    if (!user || !credential) {
      return signInFailed(store, {
        ...failure,
        reason: "unknown-user",
        attempt: attempt("bad-credentials", null),
      });
    }
    if (!matches) {
      return signInFailed(store, {
        ...failure,
        reason: "wrong-password",
        attempt: attempt("bad-credentials", null),
      });
    }
    // The password was right, so this is said only now, and not counted.
    if (!user.enabled) {
      return signInFailed(store, {
        ...failure,
        reason: "disabled",
        counted: false,
        attempt: attempt("disabled", "password"),
      });
    }
    // The PasswordPolicy's rolePermissions; said plainly, as the password was right. Audited, not counted.
    if (!roleMayLogIn(policy, user)) {
      return signInFailed(store, {
        ...failure,
        reason: "role-not-allowed",
        counted: false,
        attempt: attempt("role-not-allowed", "password"),
        answer: { code: "MP_LOGIN_NOT_ALLOWED", detail: ROLE_REFUSED },
      });
    }

    const stage = await nextStage(store, {
      accountId: user.accountId,
      address,
      policy,
      now,
      passed: "password",
    });
    await recordSignIn(
      store,
      signInAttempt(subject, { ip, now, result: "success", reason: null, credential: "password" }),
    );
    const session = await issueSession(store, {
      accountId: user.accountId,
      address,
      stage,
      ip,
      now,
      policy,
      ctx: attribution(request),
    });
    return reply.code(201).send(session);
  });

  serve(app, "completeSecondFactor", async (request, reply) => {
    const now = services.now();
    const ctx = requireUserSession(request);
    const { code } = parseWith(OneTimeCode, request.body, "body");
    const subject: SignInSubject = {
      accountId: ctx.accountId,
      domain: ctx.domain,
      address: ctx.address,
      userExists: true,
    };
    const ip = request.ip;
    // A 6-digit code is a TOTP code; anything else is tried as a recovery code (see checkSecondFactor).
    const kind: LoginCredential = /^\d{6}$/.test(code.replace(/\s+/g, "")) ? "totp" : "recovery-code";
    await refuseLockedOut(store, reply, ip, now).catch(
      auditRefusal(
        store,
        "MP_LOGIN_LOCKED",
        signInAttempt(subject, { ip, now, result: "failure", reason: "locked-out", credential: null }),
      ),
    );
    const ok = await checkSecondFactor(services, {
      accountId: ctx.accountId,
      userId: ctx.address,
      code,
      now,
      confirm: false,
      ctx: sessionWriteContext(request),
    });
    if (!ok) {
      return signInFailed(store, {
        ip: request.ip,
        now,
        policy: ctx.policy,
        target: { accountId: ctx.accountId, domain: ctx.domain },
        user: ctx.address,
        reason: "wrong-second-factor",
        attempt: signInAttempt(subject, {
          ip,
          now,
          result: "failure",
          reason: "second-factor",
          credential: kind,
        }),
      });
    }
    await recordSignIn(
      store,
      signInAttempt(subject, { ip, now, result: "success", reason: null, credential: kind }),
    );
    const stage = await nextStage(store, {
      accountId: ctx.accountId,
      address: ctx.address,
      policy: ctx.policy,
      now,
      passed: "second-factor",
    });
    // A new secret for the stronger session: the pending one (seen by fewer checks) ends here.
    const session = await issueSession(store, {
      accountId: ctx.accountId,
      address: ctx.address,
      stage,
      ip: request.ip,
      now,
      policy: ctx.policy,
      ctx: sessionWriteContext(request),
      replaces: ctx.session.id,
    });
    return reply.code(201).send(session);
  });

  serve(app, "deleteSession", async (request, reply) => {
    const ctx = requireUserSession(request);
    await store.endUserSession(ctx.session.id, services.now().toISOString(), sessionWriteContext(request));
    return reply.code(204).send();
  });
}
