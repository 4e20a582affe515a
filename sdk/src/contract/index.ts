/** The HTTP API's route table: every endpoint of every contract module, looked up by operationId. */
import * as admin from "./admin.ts";
import * as dkim from "./dkim.ts";
import * as operations from "./operations.ts";
import * as tenancy from "./tenancy.ts";
import type { Endpoint } from "./types.ts";

export { HEALTH_STORE_TIMEOUT_MS, Health, WhoAmI } from "./admin.ts";
export { DkimActivation, type DkimActivationInput, DkimRotation, type DkimRotationInput } from "./dkim.ts";
export * from "./json-schema.ts";
export * from "./openapi.ts";
export { DEFAULTS_ETAG, pathParams } from "./tenancy.ts";
export * from "./types.ts";

/**
 * The contract modules, one per area. To add an area (e.g. `operations.ts`: quarantine, queue,
 * log search, statistics), write a module exporting `endpoints: readonly Endpoint[]` and list it here.
 */
export const contractModules: readonly { readonly endpoints: readonly Endpoint[] }[] = [
  admin,
  tenancy,
  dkim,
  operations,
];

/** Every endpoint of the API. */
export const endpoints: readonly Endpoint[] = contractModules.flatMap((m) => m.endpoints);

/**
 * Looks an endpoint up by operationId. @throws Error for an unknown operationId.
 * @example endpoint("getRoute").path // "/v1/domains/:domain/routes/:route"
 */
export function endpoint(operationId: string): Endpoint {
  const found = endpoints.find((e) => e.operationId === operationId);
  if (!found) throw new Error(`unknown operationId ${operationId}`);
  return found;
}
