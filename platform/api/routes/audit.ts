/** The audit logs: `GET /v1/audit` (the acting account's changes) and the login audit, per domain (`GET /v1/domains/:domain/login-audit`) and of the signed-in user (`GET /v1/me/login-audit`). */
import type { FastifyInstance } from "fastify";
import { AuditQuery, LoginAuditQuery, MyLoginAuditQuery, normaliseAddress } from "../../../sdk/src/index.ts";
import type { ListLoginAuditInput } from "../../store/contract/login-audit-store.ts";
import { toApiAuditEntry } from "../audit.ts";
import { mayTouchDomain, requireAuth } from "../auth.ts";
import { normalisedParams, serve } from "../lib/http.ts";
import { problem } from "../problem.ts";
import { requireUserSession } from "../user-sessions.ts";
import { parseWith } from "../validation.ts";

/** The filters both login audit endpoints share, as the store takes them. */
function loginAuditFilters(q: {
  result?: ListLoginAuditInput["result"] | undefined;
  service?: ListLoginAuditInput["service"] | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}): Omit<ListLoginAuditInput, "accountId"> {
  return {
    ...(q.result ? { result: q.result } : {}),
    ...(q.service ? { service: q.service } : {}),
    ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
    ...(q.until ? { until: new Date(q.until).toISOString() } : {}),
    limit: q.limit,
    ...(q.cursor ? { cursor: q.cursor } : {}),
  };
}

/**
 * The audit route plugin. The account audit log is for account admins and platform admins; a
 * domain's login audit for any token that may read the domain (another account's domain, or one
 * outside a domain admin's list, is 404 and shows nothing: entries are read by the acting account's
 * ID and the domain both); the user's own for their session.
 *
 * @example app.register(auditRoutes)
 */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  serve(app, "listAudit", async (request) => {
    const auth = requireAuth(request);
    const q = parseWith(AuditQuery, request.query, "query");
    const page = await store.listAudit({
      accountId: auth.accountId,
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.objectId ? { objectId: q.objectId } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
      ...(q.until ? { until: new Date(q.until).toISOString() } : {}),
      limit: q.limit,
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(toApiAuditEntry), nextCursor: page.nextCursor };
  });

  serve(app, "listLoginAudit", async (request) => {
    const auth = requireAuth(request);
    const { domain } = normalisedParams(request);
    const stored =
      domain && mayTouchDomain(auth, domain)
        ? await store.getObject(auth.accountId, "Domain", domain)
        : undefined;
    if (!domain || !stored) {
      throw problem("MP_NOT_FOUND", `no domain ${JSON.stringify(domain)}`);
    }
    const q = parseWith(LoginAuditQuery, request.query, "query");
    return store.listLoginAudit({
      accountId: auth.accountId,
      domain,
      ...(q.user ? { address: normaliseAddress(q.user) } : {}),
      ...loginAuditFilters(q),
    });
  });

  serve(app, "listMyLoginAudit", async (request) => {
    const ctx = requireUserSession(request);
    const q = parseWith(MyLoginAuditQuery, request.query, "query");
    return store.listLoginAudit({ accountId: ctx.accountId, address: ctx.address, ...loginAuditFilters(q) });
  });
}
