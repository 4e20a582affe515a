/** The audit log of the acting account: `GET /v1/audit`, newest first, with filters. */
import type { FastifyInstance } from "fastify";
import { AuditQuery } from "../../../sdk/src/index.ts";
import { toApiAuditEntry } from "../audit.ts";
import { requireAuth } from "../auth.ts";
import { serve } from "../lib/http.ts";
import { parseWith } from "../validation.ts";

/**
 * The audit route plugin (account admins and platform admins).
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
}
