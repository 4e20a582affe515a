/** Bulk tenancy: `/v1/domains/:domain/tenancy` — get, plan, apply (one transaction) and delete a domain's whole tenancy. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { DomainTenancyDocument, type TenancyPlan } from "../../../sdk/src/index.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import type { ApplyTenancyResult } from "../../store/contract/tenancy-store.ts";
import { writeContext } from "../access/audit.ts";
import { requireAuth } from "../access/auth.ts";
import { createOnly, ifMatch, normalisedParams, serve, setEtag } from "../http/endpoints.ts";
import { findReplay, idempotencyInput, idempotencyPlan } from "../http/idempotency.ts";
import { problem } from "../http/problem.ts";
import { parseWith } from "../http/validation.ts";
import { documentConflict, planChanges, prepareTenancy, renderTenancy } from "../tenancy/bulk-apply.ts";
import { stampOf } from "../tenancy/managed-by.ts";
import { userSuccessor } from "./users.ts";

/** A document's every problem at once: the zod model checks the whole body (ajv's subset is skipped). */
const BY_MODEL = { bodyByModel: true };

/** How often an apply without If-Match is prepared again when another write came between read and write. */
const APPLY_ATTEMPTS = 3;

/**
 * The bulk tenancy route plugin. An apply reads the tenancy, prepares every object (validation of the
 * whole document first, every problem at once; passwords hashed only when new), and writes the
 * difference in one store transaction on the etag it read, so it is all or nothing and never mixes
 * with a concurrent write.
 *
 * @example app.register(domainTenancyRoutes)
 */
export async function domainTenancyRoutes(app: FastifyInstance): Promise<void> {
  const s = app.services;

  const target = (request: FastifyRequest) => {
    const auth = requireAuth(request);
    return { auth, domain: normalisedParams(request).domain! };
  };

  serve(app, "getDomainTenancy", async (request, reply) => {
    const { auth, domain } = target(request);
    const { objects, etag } = await s.store.tenancyObjects(auth.accountId, domain);
    if (etag === null) throw problem("MP_NOT_FOUND", `domain ${domain} does not exist`);
    setEtag(reply, etag);
    return renderTenancy(objects, etag);
  });

  serve(
    app,
    "planDomainTenancy",
    async (request): Promise<TenancyPlan> => {
      const { auth, domain } = target(request);
      const document = parseWith(DomainTenancyDocument, request.body, "body");
      const { objects, etag } = await s.store.tenancyObjects(auth.accountId, domain);
      const writes = await prepareTenancy({
        services: s,
        request,
        accountId: auth.accountId,
        domain,
        document,
        current: objects,
        planOnly: true,
      });
      return { domain, etag, applied: false, changes: planChanges(objects, writes) };
    },
    BY_MODEL,
  );

  serve(
    app,
    "applyDomainTenancy",
    async (request, reply): Promise<TenancyPlan> => {
      const { auth, domain } = target(request);
      const document = parseWith(DomainTenancyDocument, request.body, "body");
      const condition = ifMatch(request);
      // Every object the apply writes is stamped with the caller's stack (the provider sends it).
      const stamp = stampOf(request);
      const onlyCreate = createOnly(request);
      const idempotency = idempotencyPlan(request, auth.accountId, s.now(), s.idempotencyTtlMs);
      /** The answer stored under this Idempotency-Key, if a request with it was applied before. */
      const replay = async () => {
        const found = idempotency ? await findReplay(s.store, idempotency) : undefined;
        if (!found) return undefined;
        setEtag(reply, (found.body as TenancyPlan).etag!);
        reply.header("idempotent-replayed", "true").status(found.status);
        return found.body as TenancyPlan;
      };
      for (let attempt = 1; ; attempt++) {
        const { objects, etag } = await s.store.tenancyObjects(auth.accountId, domain);
        if (etag !== null && idempotency) {
          // Maybe this very request created it, and its answer was lost: answer what it answered.
          const replayed = await replay();
          if (replayed) return replayed;
        }
        // RFC 9110 §13.1.2: If-None-Match: * is a create that never takes over a domain that exists.
        // Checked again in the transaction: `expectEtag` (null here) fails when one came meanwhile.
        if (onlyCreate && etag !== null) {
          throw problem("MP_PRECONDITION_FAILED", `domain ${domain} already exists`);
        }
        const writes = await prepareTenancy({
          services: s,
          request,
          accountId: auth.accountId,
          domain,
          document,
          current: objects,
          planOnly: false,
        });
        const planned = planChanges(objects, writes);
        // The store wrote exactly what was planned against the same version; keep the plan's fields.
        const answer = (result: ApplyTenancyResult): TenancyPlan => {
          const fields = new Map(planned.map((c) => [`${c.kind} ${c.id}`, c.fields]));
          const changes = result.changes.map((c) => ({
            ...c,
            fields: fields.get(`${c.kind} ${c.id}`) ?? [],
          }));
          return { domain, etag: result.etag, applied: true, changes };
        };
        try {
          const result = await s.store.applyTenancy(
            {
              accountId: auth.accountId,
              domain,
              objects: writes,
              expectEtag: etag,
              // A user the document drops leaves its forward on delete, as a delete by hand does.
              successor: userSuccessor,
              ...stamp,
              ...(condition === undefined ? {} : { ifMatch: condition }),
              ...(idempotency
                ? {
                    idempotency: idempotencyInput<ApplyTenancyResult>(idempotency, (r) => ({
                      status: 200,
                      body: answer(r),
                    })),
                  }
                : {}),
            },
            writeContext(request),
          );
          setEtag(reply, result.etag!);
          return answer(result);
        } catch (error) {
          // Another request with the same key committed first: answer what it answered.
          if (isStoreError(error, "idempotency_exists")) {
            const again = await replay();
            if (again) return again;
          }
          // Without If-Match, a write that came between our read and our transaction means: prepare again.
          const retry =
            condition === undefined && attempt < APPLY_ATTEMPTS && isStoreError(error, "precondition_failed");
          // The store's own address check (a write that came after the document's): the document's field.
          if (!retry) throw documentConflict(error, document, request.body) ?? error;
        }
      }
    },
    BY_MODEL,
  );

  serve(app, "deleteDomainTenancy", async (request, reply) => {
    const { auth, domain } = target(request);
    const condition = ifMatch(request);
    await s.store.applyTenancy(
      {
        accountId: auth.accountId,
        domain,
        objects: [],
        ...(condition === undefined ? {} : { ifMatch: condition }),
      },
      writeContext(request),
    );
    return reply.status(204).send();
  });
}
