/** Filter settings (a singleton per scope): `/v1/filter-settings` and `/v1/domains/:domain/filter-settings`. */
import type { FastifyInstance } from "fastify";
import { defaultFilterSettings, filterSettingsKind, type KindDescriptor } from "../../../sdk/src/index.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The FilterSettings route plugin: GET answers the defaults until set, PUT sets, DELETE resets.
 *
 * @example app.register(filterSettingsRoutes)
 */
export async function filterSettingsRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: filterSettingsKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ scope: p.domain ?? "account" }),
    defaults: (scope) => defaultFilterSettings(scope),
  });
}
