/** Groups: `/v1/domains/:domain/groups[/:group]` (a group address delivering to its members). */
import type { FastifyInstance } from "fastify";
import { groupKind, type KindDescriptor } from "../../../sdk/src/index.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The Group route plugin; a group at another domain than the path's is not found.
 *
 * @example app.register(groupRoutes)
 */
export async function groupRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: groupKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ address: p.group }),
    render: (o, base) => ({ ...base, domain: o.domain }),
  });
}
