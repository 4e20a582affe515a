/** Aliases: `/v1/domains/:domain/aliases[/:alias]` (forward, reject with a text, auto-reply; `*@domain` is the catch-all). */
import type { FastifyInstance } from "fastify";
import { aliasKind, type KindDescriptor } from "../../../sdk/src/index.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The Alias route plugin; an alias at another domain than the path's is not found.
 *
 * @example app.register(aliasRoutes)
 */
export async function aliasRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: aliasKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ address: p.alias }),
    render: (o, base) => ({ ...base, domain: o.domain }),
  });
}
