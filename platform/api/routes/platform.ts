/** Platform endpoints: `/healthz`, `/metrics` (Prometheus), `/openapi.json` (schema/openapi.json as generated) and `/v1/whoami`. */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { Endpoint } from "../../../sdk/src/contract/types.ts";
import { STORE_RETRY_AFTER_SECONDS } from "../../store/faults.ts";
import { storeProbe } from "../../store/health-probe.ts";
import { serve } from "../http/endpoints.ts";
import { problem } from "../http/problem.ts";

/**
 * `GET /metrics`: Prometheus's text format, not JSON, so outside the JSON contract (OpenAPI, the SDK
 * client) like the domain report; docs/operations.md lists the metrics. Platform admins only: the
 * counts are platform-wide.
 */
const METRICS_ENDPOINT: Endpoint = {
  operationId: "getMetrics",
  method: "GET",
  path: "/metrics",
  summary: "Read the platform's metrics.",
  tag: "Platform",
  access: "platform-admin",
  response: null,
  successStatuses: [200],
  headers: { ifMatch: "none", idempotencyKey: "none", account: "none" },
  etag: false,
  errors: [],
};

/**
 * The platform route plugin.
 *
 * @example app.register(platformRoutes)
 */
export async function platformRoutes(app: FastifyInstance): Promise<void> {
  const { store, version, openapiPath, metrics } = app.services;
  let openapi: string | undefined;

  const probe = storeProbe(store);
  serve(app, "getHealth", async () => {
    const health = await probe();
    if (!health.ok) {
      throw problem("MP_UNAVAILABLE", `degraded: the store is not answering (${health.error})`, {
        retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
      });
    }
    return { status: "ok", version, store: health };
  });

  serve(app, "getOpenApi", async (_request, reply) => {
    try {
      openapi ??= await readFile(openapiPath, "utf8");
    } catch {
      throw problem("MP_UNAVAILABLE", "the OpenAPI document has not been generated (npm run schema)");
    }
    // Served as stored: the generated file is the contract, byte for byte.
    return reply.type("application/json").send(openapi);
  });

  app.get(METRICS_ENDPOINT.path, { config: { endpoint: METRICS_ENDPOINT } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.text()),
  );

  serve(app, "getWhoAmI", async (request) => {
    const auth = request.auth!;
    const account = auth.accountId ? await store.getAccount(auth.accountId) : undefined;
    return {
      tokenId: auth.token.id,
      account: auth.accountId,
      role: auth.role,
      domains: auth.domains ?? [],
      limits: account ? ((account.spec as { limits?: object }).limits ?? {}) : null,
      usage: account ? await store.accountUsage(account.id) : null,
    };
  });
}
