/** The `routes` group of MailplaneClient: the mail servers a domain's clean mail goes to, one route per `host:port`. */
import { routeKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import { type Route, type RoutePatch, type RouteSpecInput, routeName } from "../../models/route.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.routes`: the routes of a domain; a route is named `host:port`.
 * @example await client.routes.get("example.com", "mx1.example.net:25")
 */
export function routesApi(api: ContractCaller) {
  return {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<Route>> =>
      api.call("listRoutes", { domain }, { ...options, query }),
    get: (domain: string, route: string, options?: RequestOptions): Promise<Route> =>
      api.call("getRoute", { domain, route }, options),
    put: (spec: RouteSpecInput, options?: RequestOptions): Promise<Route> => {
      const body = api.spec(routeKind, spec);
      return api.call("putRoute", { domain: body.domain, route: routeName(body) }, { ...options, body });
    },
    patch: (domain: string, route: string, patch: RoutePatch, options?: RequestOptions): Promise<Route> =>
      api.call("patchRoute", { domain, route }, { ...options, body: patch }),
    delete: (domain: string, route: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteRoute", { domain, route }, options),
  };
}

/** The type of `client.routes`. */
export type RoutesApi = ReturnType<typeof routesApi>;
