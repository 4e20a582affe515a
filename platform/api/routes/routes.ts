/** Routes (destination servers of a domain): `/v1/domains/:domain/routes[/:route]`, `:route` being `host:port`. */
import type { FastifyInstance } from "fastify";
import { type KindDescriptor, parseRouteName, routeKind } from "../../../sdk/src/index.ts";
import { registerKind } from "../lib/tenancy.ts";

/**
 * The Route route plugin.
 *
 * @example app.register(routeRoutes)
 */
export async function routeRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: routeKind as unknown as KindDescriptor,
    keyFromParams: (p) => {
      const parsed = parseRouteName(p.route ?? "");
      return parsed ? { domain: p.domain, ...parsed } : undefined;
    },
  });
}
