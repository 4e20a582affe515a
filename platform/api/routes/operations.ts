/** The SMTP engine's operations under /v1/domains/:domain/…: quarantine, delivery queue, message log, statistics. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  DeleteQuarantinedQuery,
  DeleteQueuedQuery,
  MessageLogQuery,
  QuarantineQuery,
  ReleaseQuery,
  StatisticsQuery,
} from "../../../sdk/src/contract/operations.ts";
import type { SmtpOperations } from "../../smtp/operations.ts";
import type { Owner } from "../../smtp/owners.ts";
import { writeContext } from "../access/audit.ts";
import { mayTouchDomain, requireAuth } from "../access/auth.ts";
import { ifMatch, normalisedParams, serve } from "../http/endpoints.ts";
import { problem } from "../http/problem.ts";
import { parseWith } from "../http/validation.ts";

/** Options of {@link operationsRoutes}. */
export interface OperationsRoutesOptions {
  /** The engine running in this process, if any (a getter: the engine starts after the API). */
  smtp?: (() => SmtpOperations | undefined) | undefined;
}

/**
 * The operations route plugin. Every endpoint is scoped to a domain of the acting account (another
 * tenant's domain, or one outside a domain admin's list, is 404) and reads only that domain
 * lifetime's data — the owner is the account, the domain and the stored Domain's generation, so a
 * domain deleted and created again (by anyone) starts empty, and a message another account also
 * sees shows with this account's recipients only. Without an engine in this process the endpoints
 * answer 503.
 *
 * @example app.register(operationsRoutes, { smtp: () => engine?.operations })
 */
export async function operationsRoutes(app: FastifyInstance, opts: OperationsRoutesOptions): Promise<void> {
  const { store } = app.services;
  const engine = (): SmtpOperations => {
    const ops = opts.smtp?.();
    if (!ops) {
      throw problem(
        "MP_UNAVAILABLE",
        "no SMTP engine runs in this process: ask the one running the engine (`mailplane serve` with --smtp-listen or --submission-listen, or `mailplane smtp --api-listen`)",
      );
    }
    return ops;
  };
  const domainOf = async (
    request: FastifyRequest,
  ): Promise<{ domain: string; owner: Owner; timezone: string; message: string | undefined }> => {
    const auth = requireAuth(request);
    const { domain, message } = normalisedParams(request);
    const stored =
      domain && mayTouchDomain(auth, domain)
        ? await store.getObject(auth.accountId, "Domain", domain)
        : undefined;
    if (!domain || !stored) {
      throw problem("MP_NOT_FOUND", `no domain ${JSON.stringify(domain)}`);
    }
    const timezone = (stored.spec as { timezone?: string }).timezone ?? "UTC";
    return {
      domain,
      owner: { accountId: auth.accountId, domain, generation: stored.generation },
      timezone,
      message,
    };
  };
  const notFound = (message: string | undefined) =>
    problem("MP_NOT_FOUND", `no message ${JSON.stringify(message)}`);
  /** The engine and the quarantined message the path names, which must belong to the path's domain. */
  const quarantined = async (request: FastifyRequest) => {
    const { owner, message } = await domainOf(request);
    const ops = engine();
    const entry = ops.getQuarantined(message ?? "", owner);
    if (!entry) throw notFound(message);
    return { ops, entry, message, owner };
  };
  /** The engine and the queued message the path names, which must belong to the path's domain. */
  const queued = async (request: FastifyRequest) => {
    const { owner, message } = await domainOf(request);
    const ops = engine();
    const view = ops.getQueued(message ?? "", owner);
    if (!view) throw notFound(message);
    return { ops, view, message, owner };
  };
  /** RFC 9110 §13.1.1 on immutable messages: their entity tag is their ID. */
  const checkIfMatch = (request: FastifyRequest, id: string) => {
    const tags = ifMatch(request);
    if (tags === undefined || tags === "*") return;
    if (!(Array.isArray(tags) ? tags : [tags]).includes(id)) {
      throw problem("MP_PRECONDITION_FAILED", `If-Match does not name message ${id}`);
    }
  };

  serve(app, "listQuarantine", async (request) => {
    const { owner } = await domainOf(request);
    const q = parseWith(QuarantineQuery, request.query, "query");
    const items = engine().listQuarantine({
      owner,
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.sender ? { sender: q.sender } : {}),
      ...(q.recipient ? { recipient: q.recipient } : {}),
      ...(q.since ? { from: new Date(q.since).toISOString() } : {}),
      ...(q.until ? { to: new Date(q.until).toISOString() } : {}),
    });
    return { items: items.slice(0, q.limit), nextCursor: null };
  });

  serve(app, "getQuarantinedMessage", async (request) => {
    const { ops, entry, message } = await quarantined(request);
    const raw = await ops.quarantinedMessage(entry.id);
    if (!raw) throw notFound(message);
    return { ...entry, raw: raw.toString("utf8") };
  });

  /** 422 before anything is done when a report cannot reach a learning filter. */
  const mustLearn = (ops: SmtpOperations) => {
    if (!ops.canLearn()) {
      throw problem(
        "MP_FILTER_TRAINING_UNAVAILABLE",
        "reports train rspamd's Bayes classifier, and this engine has no rspamd controller to teach (install rspamd and redis-server for a supervised one, or give --rspamd-controller-url with --rspamd-url)",
      );
    }
  };
  /** rspamd refused or did not answer (LearningFailedError): the platform's dependency is unavailable. */
  const unlearned = (err: Error & { code?: string }) =>
    err.code === "MP_UNAVAILABLE" || err.code === "MP_FILTER_TRAINING_UNAVAILABLE"
      ? problem(err.code, err.message)
      : err;
  const learn = async (ops: SmtpOperations, kind: "spam" | "ham", raw: Buffer, owner: Owner) => {
    await ops.learn(kind, raw, owner).catch((err: Error) => {
      throw unlearned(err);
    });
  };
  const audit = (request: FastifyRequest, owner: Owner, action: string, objectId: string, after: object) =>
    store.recordAudit(
      { accountId: owner.accountId, action, kind: "Domain", objectId, after },
      writeContext(request),
    );

  serve(app, "releaseQuarantinedMessage", async (request) => {
    const { report } = parseWith(ReleaseQuery, request.query, "query");
    const { ops, entry, message, owner } = await quarantined(request);
    const failed = (err: Error & { code?: string }): never => {
      // Every recipient refuses it now (disabled, deleted): it stays held.
      if (err.code === "MP_CONFLICT") throw problem("MP_CONFLICT", err.message);
      // rspamd did not learn it: nothing was released.
      throw unlearned(err);
    };
    let queueId: string | undefined;
    if (report === "ham") {
      mustLearn(ops);
      // Learned and released once however many ask at once: the others share the answer.
      const released = await ops.releaseAsHam(entry.id, owner).catch(failed);
      if (released.learned) {
        await audit(request, owner, "report-ham", owner.domain, {
          message: entry.id,
          size: released.learned.size,
        });
      }
      queueId = released.queueId;
    } else {
      queueId = await ops.releaseQuarantined(entry.id).catch(failed);
    }
    if (!queueId) throw notFound(message);
    return { id: entry.id, queueId };
  });

  serve(app, "deleteQuarantinedMessage", async (request, reply) => {
    const { report } = parseWith(DeleteQuarantinedQuery, request.query, "query");
    const { ops, entry, message, owner } = await quarantined(request);
    checkIfMatch(request, entry.id);
    if (report !== "spam") {
      if (!(await ops.deleteQuarantined(entry.id))) throw notFound(message);
      return reply.code(204).send();
    }
    mustLearn(ops);
    // Learned and deleted once however many ask at once: the others find it gone (404).
    const learned = await ops.deleteQuarantinedAsSpam(entry.id, owner).catch((err: Error) => {
      throw unlearned(err);
    });
    if (!learned) throw notFound(message);
    await audit(request, owner, "report-spam", owner.domain, {
      message: entry.id,
      size: learned.size,
      deleted: "quarantine",
    });
    return reply.code(204).send();
  });

  serve(app, "purgeQuarantine", async (request) => {
    const { owner } = await domainOf(request);
    const ops = engine();
    const now = app.services.now().toISOString();
    const expired = ops.listQuarantine({ owner }).filter((e) => e.expiresAt <= now);
    for (const e of expired) await ops.deleteQuarantined(e.id);
    return { purged: expired.map((e) => e.id) };
  });

  serve(app, "listQueue", async (request) => {
    const { owner } = await domainOf(request);
    const q = parseWith(MessageLogQuery.pick({ limit: true }), request.query, "query");
    return { items: engine().listQueue(owner).slice(0, q.limit), nextCursor: null };
  });

  serve(app, "getQueuedMessage", async (request) => {
    const { ops, view, message } = await queued(request);
    const raw = await ops.queuedMessage(view.id);
    if (!raw) throw notFound(message);
    return { ...view, raw: raw.toString("utf8") };
  });

  serve(app, "retryQueuedMessage", async (request) => {
    const { ops, view, message } = await queued(request);
    if (!ops.retryQueued(view.id)) throw notFound(message);
    return { retried: 1 };
  });

  serve(app, "retryQueue", async (request) => {
    const { owner } = await domainOf(request);
    return { retried: engine().retryAllQueued(owner) };
  });

  serve(app, "deleteQueuedMessage", async (request, reply) => {
    const { report } = parseWith(DeleteQueuedQuery, request.query, "query");
    const { ops, view, message, owner } = await queued(request);
    checkIfMatch(request, view.id);
    /** 409 for a message that also goes to another account: deleting it would take that tenant's mail. */
    const shared = () =>
      problem(
        "MP_CONFLICT",
        `message ${view.id} also goes to recipients of another account (or comes from one); deleting it would take their mail, so nothing was done${report === "spam" ? " (report its .eml with POST …/report/spam instead)" : ""}`,
      );
    if (report !== "spam") {
      const outcome = await ops.deleteQueued(view.id, owner);
      if (outcome === "unknown") throw notFound(message);
      if (outcome === "shared") throw shared();
      return reply.code(204).send();
    }
    mustLearn(ops);
    const outcome = await ops.reportQueuedSpam(view.id, owner).catch((err: Error) => {
      throw unlearned(err);
    });
    if (outcome === "unknown") throw notFound(message);
    if (outcome === "delivering") {
      throw problem(
        "MP_CONFLICT",
        `message ${view.id} is being delivered right now; nothing was deleted (ask again once the attempt ended: it is gone if it was delivered)`,
      );
    }
    if (outcome === "shared") throw shared();
    await audit(request, owner, "report-spam", owner.domain, {
      message: view.id,
      size: view.size,
      deleted: "queue",
    });
    return reply.code(204).send();
  });

  for (const kind of ["spam", "ham"] as const) {
    serve(app, kind === "spam" ? "reportSpam" : "reportHam", async (request) => {
      const { domain, owner } = await domainOf(request);
      const raw = request.body;
      if (!Buffer.isBuffer(raw)) {
        throw problem("MP_UNSUPPORTED_MEDIA_TYPE", "send the message as Content-Type: message/rfc822");
      }
      if (raw.length === 0)
        throw problem("MP_BAD_REQUEST", "the body is empty; send the whole message (.eml)");
      const ops = engine();
      mustLearn(ops);
      await learn(ops, kind, raw, owner);
      await audit(request, owner, `report-${kind}`, domain, { size: raw.length });
      return { learned: kind, size: raw.length };
    });
  }

  serve(app, "clearCalloutCache", async (request) => {
    const { domain, owner } = await domainOf(request);
    const ops = engine();
    const cleared = ops.clearCalloutCache(domain);
    await store.recordAudit(
      {
        accountId: owner.accountId,
        action: "clear-callout-cache",
        kind: "Domain",
        objectId: domain,
        after: { cleared },
      },
      writeContext(request),
    );
    return { cleared };
  });

  serve(app, "searchMessageLog", async (request) => {
    const { owner } = await domainOf(request);
    const q = parseWith(MessageLogQuery, request.query, "query");
    const items = await engine().searchLog(owner, {
      limit: q.limit,
      ...(q.since ? { from: new Date(q.since).toISOString() } : {}),
      ...(q.until ? { to: new Date(q.until).toISOString() } : {}),
      ...(q.sender ? { sender: q.sender } : {}),
      ...(q.recipient ? { recipient: q.recipient } : {}),
      ...(q.subject ? { subject: q.subject } : {}),
      ...(q.classification ? { classification: q.classification } : {}),
    });
    return { items, nextCursor: null };
  });

  serve(app, "getDomainStatistics", async (request) => {
    const { owner, timezone } = await domainOf(request);
    const q = parseWith(StatisticsQuery, request.query, "query");
    const since = q.since ? new Date(q.since).toISOString() : undefined;
    const until = q.until ? new Date(q.until).toISOString() : undefined;
    const range = { ...(since ? { from: since } : {}), ...(until ? { to: until } : {}) };
    const { from, to, ...counts } = await engine().statistics(owner, range, timezone);
    return { ...counts, since: from, until: to };
  });
}
