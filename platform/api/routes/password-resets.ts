/** Lost passwords: `GET /v1/sessions/lost-password` (instructions), `POST /v1/password-resets` (mail a signed link), `POST /v1/password-resets/{token}` (set the new password). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  LostPasswordQuery,
  normaliseAddress,
  type PasswordPolicySpec,
  PasswordResetCompletion,
  PasswordResetRequest,
  rolePermits,
} from "../../../sdk/src/index.ts";
import { lockoutKeyOf } from "../../smtp/lockout.ts";
import type { SmtpOperations } from "../../smtp/operations.ts";
import type { StoredObject } from "../../store/contract/object-store.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import { serve } from "../lib/http.ts";
import {
  RESET_LINK_MINUTES,
  readResetClaims,
  resetPageLink,
  signResetToken,
  verifyResetToken,
} from "../password-resets.ts";
import { problem } from "../problem.ts";
import { RateLimiter } from "../rate-limit.ts";
import { cameOverTls } from "../sign-in.ts";
import { userPolicy } from "../user-sessions.ts";
import { parseWith } from "../validation.ts";
import { beforeUserWrite } from "./users.ts";

/** Options of {@link passwordResetRoutes}. */
export interface PasswordResetRoutesOptions {
  /** The SMTP engine in this process, which mails the links; without one no link is sent (logged). */
  smtp?: (() => SmtpOperations | undefined) | undefined;
}

/** Reset links per address: 3 at once, then one per 20 minutes. Over it: still 202, nothing sent. */
export const RESET_PER_ADDRESS = { burst: 3, perSecond: 1 / 1200 } as const;

/** Lost-password requests (all three endpoints) per client IPv4 or IPv6 /64: 10 at once, then one per 6 minutes; over it 429. */
export const RESET_PER_IP = { burst: 10, perSecond: 1 / 360 } as const;

/** Everything about an address the flow needs, read the same way whether or not it is a user. */
interface ResetTarget {
  address: string;
  domain: string;
  /** The account hosting the domain; undefined for a domain no account hosts. */
  accountId: string | undefined;
  user: StoredObject | undefined;
  policy: PasswordPolicySpec;
}

const roleOf = (user: StoredObject): string | undefined =>
  typeof user.spec.role === "string" ? user.spec.role : undefined;

/**
 * The lost-password route plugin. Nothing here tells a caller whether an address is a user: the
 * request answers 202 after the same reads for every address in a hosted domain, and the link (when
 * one is due) is composed, queued and audited after the answer.
 *
 * @example app.register(passwordResetRoutes, { smtp: () => engine?.operations })
 */
export async function passwordResetRoutes(
  app: FastifyInstance,
  opts: PasswordResetRoutesOptions,
): Promise<void> {
  const services = app.services;
  const { store } = services;
  const perAddress = new RateLimiter(RESET_PER_ADDRESS);
  const perIp = new RateLimiter(RESET_PER_IP);
  const invalid = () =>
    problem(
      "MP_RESET_LINK_INVALID",
      "the reset link is altered, expired, already used or no longer allowed; ask for a new one",
    );

  const limitIp = (request: FastifyRequest, reply: FastifyReply) => {
    const wait = perIp.take(lockoutKeyOf(request.ip));
    if (wait > 0) {
      reply.header("retry-after", String(wait));
      throw problem(
        "MP_RATE_LIMITED",
        `too many lost-password requests from your network; retry in ${wait} s`,
        {
          retryAfterSeconds: wait,
        },
      );
    }
  };

  /** The same four reads for every address of a hosted domain: its account, the user, the policy. */
  const targetOf = async (given: string): Promise<ResetTarget> => {
    const address = normaliseAddress(given);
    const domain = address.slice(address.lastIndexOf("@") + 1);
    const accountId = (await store.domainNames([domain]))[0]?.accountId;
    const user = await store.getObject(accountId ?? "", "User", address);
    const policy = await userPolicy(store, accountId ?? "", domain);
    return { address, domain, accountId, user: user?.kind === "User" ? user : undefined, policy };
  };

  /** Composes, queues and audits one link; runs after the answer, so its cost tells nothing. */
  const sendLink = async (target: ResetTarget, to: string, requestId: string) => {
    const user = target.user!;
    const now = services.now();
    const ops = opts.smtp?.();
    if (!ops) {
      app.log.warn({ requestId }, "password reset link not sent: no SMTP engine runs in this process");
      return;
    }
    const credential = await store.getCredential(target.address, user.accountId);
    const expiresAt = now.getTime() + RESET_LINK_MINUTES * 60_000;
    const token = signResetToken(
      services.masterKey,
      { address: target.address, expiresAt },
      credential?.hash,
    );
    // The console's reset page; the token rides in the fragment, which browsers never send to a server
    // (not in the request, not in a Referer), and the page takes it out of the address bar.
    const link = resetPageLink(services.publicUrl, token);
    const queueId = await ops.sendNotice({
      domain: user.domain ?? target.domain,
      to,
      subject: "Reset your password",
      text: [
        `Someone (hopefully you) asked to reset the password of ${target.address}.`,
        "",
        "To choose a new password, open this link within the next",
        `${RESET_LINK_MINUTES} minutes (it works once):`,
        "",
        link,
        "",
        "Setting the new password signs you out everywhere. If you did not ask for this,",
        "ignore this message: your password stays as it is.",
      ].join("\n"),
    });
    await store.recordAudit(
      {
        accountId: user.accountId,
        action: "password-reset-sent",
        kind: "User",
        objectId: target.address,
        after: { to, expiresAt: new Date(expiresAt).toISOString(), queued: queueId !== undefined },
      },
      { actor: "system", role: null, requestId },
    );
  };

  serve(app, "getLostPasswordHelp", async (request, reply) => {
    limitIp(request, reply);
    const query = parseWith(LostPasswordQuery, request.query, "query");
    const target = await targetOf(query.address);
    if (target.accountId === undefined) return { instructions: null, selfServiceReset: false };
    // Instructions: the user's own, else the domain policy's, else the account policy's. A user
    // without their own gets exactly what an unknown address of the domain gets.
    const own = (target.user?.spec as { lostPasswordInstructions?: string | null } | undefined)
      ?.lostPasswordInstructions;
    const domainPolicy = await store.getObject(
      target.accountId,
      "PasswordPolicy",
      `${target.domain}/password-policy`,
    );
    const accountPolicy = await store.getObject(
      target.accountId,
      "PasswordPolicy",
      "account/password-policy",
    );
    const text = (o: StoredObject | undefined) =>
      (o?.spec as { lostPasswordInstructions?: string | null } | undefined)?.lostPasswordInstructions ?? null;
    return {
      instructions: own ?? text(domainPolicy) ?? text(accountPolicy),
      // Per domain (the role of its mail users), never per user: the answer must not tell who exists.
      selfServiceReset: rolePermits(target.policy, "email-user", "passwordRecoveryAllowed"),
    };
  });

  serve(app, "requestPasswordReset", async (request, reply) => {
    limitIp(request, reply);
    const body = parseWith(PasswordResetRequest, request.body, "body");
    const target = await targetOf(body.address);
    const user = target.user;
    const to = (user?.spec as { externalAddress?: string | null } | undefined)?.externalAddress ?? null;
    const due =
      user?.enabled === true &&
      to !== null &&
      rolePermits(target.policy, roleOf(user), "passwordRecoveryAllowed");
    // Counted for every address asked about, user or not, so the limit tells nothing either.
    const withinLimit = perAddress.take(target.address) === 0;
    if (due && withinLimit) {
      services.background.run(sendLink(target, to, request.id), (error) =>
        app.log.error(
          { requestId: request.id, err: { message: error.message } },
          "password reset link not sent",
        ),
      );
    }
    return reply.code(202).send({ linkValidMinutes: RESET_LINK_MINUTES });
  });

  serve(app, "completePasswordReset", async (request, reply) => {
    limitIp(request, reply);
    const now = services.now();
    const { token } = request.params as { token: string };
    const body = parseWith(PasswordResetCompletion, request.body, "body");
    const claims = readResetClaims(token);
    if (!claims) throw invalid();
    const target = await targetOf(claims.address);
    const user = target.user;
    if (!user) throw invalid();
    const credential = await store.getCredential(target.address, user.accountId);
    // Bound to the password version: a used link (the password changed) or a changed password fails here.
    if (verifyResetToken(services.masterKey, token, credential?.hash, now.getTime()) !== "valid")
      throw invalid();
    // What may have changed since the link was sent: the user disabled, the role's permission withdrawn.
    if (!user.enabled || !rolePermits(target.policy, roleOf(user), "passwordRecoveryAllowed"))
      throw invalid();
    // A new password is a sign-in secret: where sign-in needs HTTPS, so does setting one. The link is
    // not used up, so the user can set another password over HTTPS.
    if (target.policy.requireTlsForSignIn && !cameOverTls(request, services.trustedProxies)) {
      throw problem(
        "MP_TLS_REQUIRED",
        "setting a password for this domain needs HTTPS; nothing was changed, and the password sent in the clear should not be used",
      );
    }
    const ctx = { actor: "password-reset", role: roleOf(user) ?? "email-user", requestId: request.id };
    // The PasswordPolicy and reuse rules, as for every other way of setting a password.
    const prepared = await beforeUserWrite({
      services,
      request,
      accountId: user.accountId,
      id: target.address,
      domain: user.domain,
      spec: { ...user.spec, password: body.password },
      current: user,
    });
    try {
      await store.putObject(
        {
          accountId: user.accountId,
          kind: "User",
          id: target.address,
          domain: user.domain,
          spec: user.spec,
          enabled: user.enabled,
          // Two uses of one link at once: the second finds the user changed and fails.
          ifMatch: user.etag,
          ...(prepared.credential ? { credential: prepared.credential } : {}),
        },
        ctx,
      );
    } catch (error) {
      if (isStoreError(error, "precondition_failed")) throw invalid();
      throw error;
    }
    // Whoever knew the old password is signed out everywhere.
    await store.revokeUserSessions(user.accountId, target.address, now.toISOString());
    return reply.code(204).send();
  });
}
