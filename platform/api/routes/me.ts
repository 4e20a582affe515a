/** A signed-in mail user's own data under `/v1/me`: password, TOTP, application passwords, their quarantine and message log. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  DeleteQuarantinedQuery,
  MessageLogQuery,
  QuarantineQuery,
  ReleaseQuery,
} from "../../../sdk/src/contract/operations.ts";
import {
  AppPasswordSpec,
  OneTimeCode,
  PasswordChange,
  type Session,
  type SessionStage,
} from "../../../sdk/src/index.ts";
import type { SmtpOperations } from "../../smtp/operations.ts";
import type { Owner } from "../../smtp/owners.ts";
import type { LoginFailureReason } from "../../store/contract/login-lockout-store.ts";
import type { AppPasswordRecord } from "../../store/contract/user-auth-store.ts";
import type { Store } from "../../store/store.ts";
import { serve } from "../lib/http.ts";
import { APP_PASSWORD_PREFIX, hashAppPassword } from "../passwords.ts";
import { problem } from "../problem.ts";
import { sealText } from "../sealing.ts";
import { checkAccountPassword, checkSecondFactor, refuseLockedOut, signInFailed } from "../sign-in.ts";
import { base32Encode, newRecoveryCodes, newTotpSecret, otpauthUri, recoveryCodeHash } from "../totp.ts";
import {
  issueSession,
  requireUserSession,
  sessionWriteContext,
  type UserSessionContext,
} from "../user-sessions.ts";
import { parseWith } from "../validation.ts";
import { nextStage } from "./sessions.ts";
import { beforeUserWrite } from "./users.ts";

/** The issuer shown in authenticator apps. */
const TOTP_ISSUER = "mailplane";

/** Log entries scanned per search of one user's entries (the log is searched per domain, then filtered). */
const LOG_SCAN = 1000;

/** Options of {@link meRoutes}. */
export interface MeRoutesOptions {
  /** The engine running in this process, if any (a getter: the engine starts after the API). */
  smtp?: (() => SmtpOperations | undefined) | undefined;
}

/** The user's own addresses: the main one and its extra `addresses` (mail to them is theirs). */
function ownAddresses(address: string, spec: Record<string, unknown>): (a: string) => boolean {
  const extra = Array.isArray(spec.addresses) ? (spec.addresses as string[]) : [];
  const set = new Set([address, ...extra].map((a) => a.toLowerCase()));
  return (a: string) => set.has(a.toLowerCase());
}

const listed = (r: AppPasswordRecord) => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes,
  prefix: r.prefix,
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
  revokedAt: r.revokedAt,
});

/**
 * A wrong current password or code from the signed-in user: counted against the client's lockout key
 * and audited like a failed sign-in (401), so a stolen session cannot guess the password or TOTP.
 */
function checkFailed(
  store: Store,
  request: FastifyRequest,
  ctx: UserSessionContext,
  now: Date,
  reason: LoginFailureReason,
): Promise<never> {
  return signInFailed(store, {
    ip: request.ip,
    now,
    policy: ctx.policy,
    target: { accountId: ctx.accountId, domain: ctx.domain },
    user: ctx.address,
    reason,
  });
}

/**
 * The session after the user passed a step: the next stage when the session was waiting for that
 * step (`waitedFor`), the same stage otherwise; it replaces the current session.
 */
async function sessionAfterStep(
  store: Store,
  request: FastifyRequest,
  ctx: UserSessionContext,
  now: Date,
  waitedFor: SessionStage,
): Promise<Session> {
  const stage =
    ctx.session.stage === waitedFor
      ? await nextStage(store, { ...ctx, now, passed: "second-factor" })
      : ctx.session.stage;
  return issueSession(store, {
    accountId: ctx.accountId,
    address: ctx.address,
    stage,
    ip: request.ip,
    now,
    policy: ctx.policy,
    ctx: sessionWriteContext(request),
    replaces: ctx.session.id,
  });
}

/**
 * The `/v1/me` route plugin. Every endpoint acts on the session's own user only: nothing here takes a
 * user or domain from the request, so another user's objects cannot even be named. Quarantine and
 * log entries are those whose recipients include one of the user's addresses (its main one and its
 * extra `addresses`; log: or whose sender is one), shown with only the user's own recipients.
 *
 * @example app.register(meRoutes, { smtp: () => engine?.operations })
 */
export async function meRoutes(app: FastifyInstance, opts: MeRoutesOptions): Promise<void> {
  const services = app.services;
  const { store } = services;
  const engine = (): SmtpOperations => {
    const ops = opts.smtp?.();
    if (!ops) throw problem("MP_UNAVAILABLE", "no SMTP engine runs in this process");
    return ops;
  };
  /** The owner of the user's domain lifetime: quarantine and log reads are scoped to it. */
  const ownerOf = async (
    request: FastifyRequest,
  ): Promise<{ owner: Owner; address: string; own: (a: string) => boolean }> => {
    const ctx = requireUserSession(request);
    const domain = await store.getObject(ctx.accountId, "Domain", ctx.domain);
    if (!domain) throw problem("MP_NOT_FOUND", "the user's domain does not exist");
    return {
      owner: { accountId: ctx.accountId, domain: ctx.domain, generation: domain.generation },
      address: ctx.address,
      own: ownAddresses(ctx.address, ctx.user.spec),
    };
  };
  const notFound = (id: string) => problem("MP_NOT_FOUND", `no message ${JSON.stringify(id)}`);
  /** The held message if it is addressed to the user; else 404 (another user's looks like none). */
  const mine = async (request: FastifyRequest) => {
    const { owner, own } = await ownerOf(request);
    const id = (request.params as { message: string }).message;
    const ops = engine();
    const entry = ops.getQuarantined(id, owner);
    if (!entry?.recipients.some(own)) throw notFound(id);
    return { ops, entry, own, owner };
  };

  serve(app, "getMe", async (request) => {
    const ctx = requireUserSession(request);
    const totp = await store.getUserTotp(ctx.accountId, ctx.address);
    const spec = ctx.user.spec as { firstName?: string; lastName?: string };
    return {
      address: ctx.address,
      domain: ctx.domain,
      firstName: spec.firstName ?? "",
      lastName: spec.lastName ?? "",
      passwordChangedAt: ctx.user.secretSetAt,
      twoFactor: !totp ? "off" : totp.confirmedAt ? "on" : "pending",
      recoveryCodesLeft: totp?.confirmedAt ? totp.recoveryCodesLeft : 0,
      session: {
        id: ctx.session.id,
        stage: ctx.session.stage,
        idleTimeoutMinutes: ctx.idleTimeoutMinutes,
        expiresAt: ctx.expiresAt,
      },
    };
  });

  serve(app, "changeMyPassword", async (request, reply) => {
    const now = services.now();
    const ctx = requireUserSession(request);
    const body = parseWith(PasswordChange, request.body, "body");
    await refuseLockedOut(store, reply, request.ip, now);
    const credential = await store.getCredential(ctx.address, ctx.accountId);
    if (!(await checkAccountPassword(services, credential?.hash, body.currentPassword))) {
      return checkFailed(store, request, ctx, now, "wrong-password");
    }
    if (body.newPassword === body.currentPassword) {
      throw problem("MP_PASSWORD_POLICY_VIOLATION", "the new password must differ from the current one");
    }
    // The same policy and reuse checks as an administrator's write of the User.
    const prepared = await beforeUserWrite({
      services,
      request,
      accountId: ctx.accountId,
      id: ctx.address,
      domain: ctx.domain,
      spec: { ...ctx.user.spec, password: body.newPassword },
      current: ctx.user,
    });
    await store.putObject(
      {
        accountId: ctx.accountId,
        kind: "User",
        id: ctx.address,
        domain: ctx.domain,
        spec: ctx.user.spec,
        enabled: ctx.user.enabled,
        ifMatch: ctx.user.etag,
        ...(prepared.credential ? { credential: prepared.credential } : {}),
      },
      sessionWriteContext(request),
    );
    // Whoever knew the old password is signed out everywhere else.
    await store.revokeUserSessions(ctx.accountId, ctx.address, now.toISOString(), ctx.session.id);
    return sessionAfterStep(store, request, ctx, now, "password-change");
  });

  serve(app, "enrolTotp", async (request, reply) => {
    const ctx = requireUserSession(request);
    const secret = newTotpSecret();
    const recoveryCodes = newRecoveryCodes();
    const sealed = sealText(services.masterKey, secret.toString("base64"));
    const started = await store.enrolUserTotp(
      {
        accountId: ctx.accountId,
        userId: ctx.address,
        sealedSecret: JSON.stringify(sealed),
        recoveryHashes: recoveryCodes.map(recoveryCodeHash),
        at: services.now().toISOString(),
      },
      sessionWriteContext(request),
    );
    if (!started) throw problem("MP_CONFLICT", "TOTP is already on; turn it off first (DELETE /v1/me/totp)");
    return reply.code(201).send({
      otpauthUri: otpauthUri(secret, ctx.address, TOTP_ISSUER),
      secret: base32Encode(secret),
      recoveryCodes,
    });
  });

  serve(app, "confirmTotp", async (request, reply) => {
    const now = services.now();
    const ctx = requireUserSession(request);
    const { code } = parseWith(OneTimeCode, request.body, "body");
    await refuseLockedOut(store, reply, request.ip, now);
    const totp = await store.getUserTotp(ctx.accountId, ctx.address);
    if (!totp || totp.confirmedAt !== null) {
      throw problem("MP_CONFLICT", "no pending TOTP enrolment; start one with POST /v1/me/totp");
    }
    const ok = await checkSecondFactor(services, {
      accountId: ctx.accountId,
      userId: ctx.address,
      code,
      now,
      confirm: true,
      ctx: sessionWriteContext(request),
    });
    if (!ok) {
      return checkFailed(store, request, ctx, now, "wrong-second-factor");
    }
    return sessionAfterStep(store, request, ctx, now, "two-factor-enrolment");
  });

  serve(app, "removeTotp", async (request, reply) => {
    const now = services.now();
    const ctx = requireUserSession(request);
    const { code } = parseWith(OneTimeCode, request.body, "body");
    if (ctx.policy.requireTwoFactor) {
      throw problem("MP_CONFLICT", "the password policy requires a second factor; TOTP stays on");
    }
    await refuseLockedOut(store, reply, request.ip, now);
    const totp = await store.getUserTotp(ctx.accountId, ctx.address);
    if (!totp) throw problem("MP_NOT_FOUND", "TOTP is off");
    const ok =
      totp.confirmedAt === null ||
      (await checkSecondFactor(services, {
        accountId: ctx.accountId,
        userId: ctx.address,
        code,
        now,
        confirm: false,
        ctx: sessionWriteContext(request),
      }));
    if (!ok) {
      return checkFailed(store, request, ctx, now, "wrong-second-factor");
    }
    await store.removeUserTotp(ctx.accountId, ctx.address, sessionWriteContext(request));
    return reply.code(204).send();
  });

  serve(app, "listAppPasswords", async (request) => {
    const ctx = requireUserSession(request);
    const items = await store.listAppPasswords(ctx.accountId, ctx.address);
    return { items: items.map(listed), nextCursor: null };
  });

  serve(app, "createAppPassword", async (request, reply) => {
    const ctx = requireUserSession(request);
    const spec = parseWith(AppPasswordSpec, request.body, "body");
    // 15 random bytes (120 bits) in lower-case base32: easy to paste into a mail client.
    const secret = `${APP_PASSWORD_PREFIX}${base32Encode(randomBytes(15)).toLowerCase()}`;
    const record = {
      id: `app_${randomBytes(8).toString("hex")}`,
      accountId: ctx.accountId,
      userId: ctx.address,
      name: spec.name,
      scopes: spec.scopes,
      prefix: secret.slice(0, 8),
      createdAt: services.now().toISOString(),
    };
    await store.createAppPassword(
      { ...record, secretHash: hashAppPassword(secret) },
      sessionWriteContext(request),
    );
    return reply
      .code(201)
      .send({ ...listed({ ...record, lastUsedAt: null, revokedAt: null }), password: secret });
  });

  serve(app, "revokeAppPassword", async (request, reply) => {
    const ctx = requireUserSession(request);
    const id = (request.params as { appPassword: string }).appPassword;
    const revoked = await store.revokeAppPassword(
      { accountId: ctx.accountId, userId: ctx.address, id, at: services.now().toISOString() },
      sessionWriteContext(request),
    );
    if (!revoked) throw problem("MP_NOT_FOUND", `no application password ${JSON.stringify(id)}`);
    return reply.code(204).send();
  });

  serve(app, "listMyQuarantine", async (request) => {
    const { owner, own } = await ownerOf(request);
    const q = parseWith(QuarantineQuery, request.query, "query");
    const items = engine()
      .listQuarantine({
        owner,
        ...(q.subject ? { subject: q.subject } : {}),
        ...(q.sender ? { sender: q.sender } : {}),
        ...(q.since ? { from: new Date(q.since).toISOString() } : {}),
        ...(q.until ? { to: new Date(q.until).toISOString() } : {}),
      })
      .filter((e) => e.recipients.some(own))
      .map((e) => ({ ...e, recipients: e.recipients.filter(own) }));
    return { items: items.slice(0, q.limit), nextCursor: null };
  });

  serve(app, "getMyQuarantinedMessage", async (request) => {
    const { ops, entry, own } = await mine(request);
    const raw = await ops.quarantinedMessage(entry.id);
    if (!raw) throw notFound(entry.id);
    return { ...entry, recipients: entry.recipients.filter(own), raw: raw.toString("utf8") };
  });

  /**
   * The engine's refusals as API problems: 409 (no address of the user accepts it now), 422 (no
   * learning spam filter: said for the user, who did not set up the platform), 503 (rspamd did not
   * learn). In each case nothing was changed.
   */
  const refused = (err: Error & { code?: string }): never => {
    if (err.code === "MP_FILTER_TRAINING_UNAVAILABLE") {
      throw problem(
        err.code,
        "reporting spam or not spam teaches the spam filter, and this mail service has no filter that learns; nothing was changed (release or delete the message without reporting it)",
      );
    }
    if (err.code === "MP_CONFLICT" || err.code === "MP_UNAVAILABLE") throw problem(err.code, err.message);
    throw err;
  };
  /** The audit entry of a user's action on their held copy (the user is the object; the message in `after`). */
  const audit = (request: FastifyRequest, action: string, after: object) => {
    const ctx = requireUserSession(request);
    return store.recordAudit(
      { accountId: ctx.accountId, action, kind: "User", objectId: ctx.address, after },
      sessionWriteContext(request),
    );
  };

  serve(app, "releaseMyQuarantinedMessage", async (request) => {
    const { report } = parseWith(ReleaseQuery, request.query, "query");
    const { ops, entry, own, owner } = await mine(request);
    if (report === "ham") {
      // Learned, then released to the user's own addresses, in one turn: a double click finds nothing
      // held for them (404) and is neither learned nor counted again.
      const released = await ops.releaseAsHamTo(entry.id, owner, entry.recipients.filter(own)).catch(refused);
      if (!released) throw notFound(entry.id);
      await audit(request, "report-ham", {
        message: entry.id,
        queueId: released.queueId,
        size: released.size,
      });
      return { id: entry.id, queueId: released.queueId };
    }
    // One user may not decide for the other recipients: a message held for them too is released to
    // the user's own addresses only (each copy durable in the queue before the held one shrinks).
    let queueId: string | undefined;
    if (entry.recipients.every(own)) {
      queueId = await ops.releaseQuarantined(entry.id).catch(refused);
    } else {
      for (const recipient of entry.recipients.filter(own)) {
        queueId = (await ops.releaseQuarantinedTo(entry.id, owner, recipient).catch(refused)) ?? queueId;
      }
    }
    if (!queueId) throw notFound(entry.id);
    await audit(request, "release", { message: entry.id, queueId });
    return { id: entry.id, queueId };
  });

  serve(app, "deleteMyQuarantinedMessage", async (request, reply) => {
    const { report } = parseWith(DeleteQuarantinedQuery, request.query, "query");
    const { ops, entry, own, owner } = await mine(request);
    if (report === "spam") {
      const reported = await ops
        .deleteAsSpamFor(entry.id, owner, entry.recipients.filter(own))
        .catch(refused);
      if (!reported) throw notFound(entry.id);
      await audit(request, "report-spam", { message: entry.id, size: reported.size, deleted: "quarantine" });
      return reply.code(204).send();
    }
    const deleted = await ops.deleteQuarantinedFor(entry.id, owner, entry.recipients.filter(own));
    if (!deleted) throw notFound(entry.id);
    await audit(request, "quarantine-delete", { message: entry.id });
    return reply.code(204).send();
  });

  serve(app, "searchMyMessageLog", async (request) => {
    const { owner, own } = await ownerOf(request);
    const q = parseWith(MessageLogQuery, request.query, "query");
    const entries = await engine().searchLog(owner, {
      limit: LOG_SCAN,
      ...(q.since ? { from: new Date(q.since).toISOString() } : {}),
      ...(q.until ? { to: new Date(q.until).toISOString() } : {}),
      ...(q.sender ? { sender: q.sender } : {}),
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.classification ? { classification: q.classification } : {}),
    });
    const items = entries
      .filter((e) => own(e.sender) || e.recipients.some(own))
      // Mail the user sent shows its recipients; mail to them shows only their own addresses.
      .map((e) => (own(e.sender) ? e : { ...e, recipients: e.recipients.filter(own) }))
      .slice(0, q.limit);
    return { items, nextCursor: null };
  });
}
