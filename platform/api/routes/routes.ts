/** Routes (destination servers of a domain): `/v1/domains/:domain/routes[/:route]`, `:route` being `host:port`. */
import type { FastifyInstance } from "fastify";
import {
  type KindDescriptor,
  parseRouteName,
  routeKind,
  validationErrorFromFields,
} from "../../../sdk/src/index.ts";
import type { WriteHookInput, WriteHookResult } from "../tenancy/object-lifecycle.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The egress policy at write time: a route whose host is (or always resolves to) a loopback,
 * private, link-local, multicast or other special-purpose address, or one of the platform's own
 * listeners, is refused with 422 naming `host`, unless the platform admin allowed its block
 * (`--allow-route-cidr`). Names are checked again, by what they resolve to, before every delivery.
 */
export async function checkRouteReach({ services, spec }: WriteHookInput): Promise<WriteHookResult> {
  const host = String(spec.host);
  const port = Number(spec.port ?? 25);
  const why = services.egress.routeRefusal(host, port);
  if (why !== undefined) {
    throw validationErrorFromFields([
      {
        path: ["host"],
        code: "custom",
        message: `${why}; routes may not reach it unless the platform admin allows it (--allow-route-cidr)`,
        in: "body",
      },
    ]);
  }
  return { spec };
}

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
    beforeWrite: checkRouteReach,
  });
}
