/** Platform endpoints: `/healthz`, `/metrics` (Prometheus), `/openapi.json` (schema/openapi.json as generated) and `/v1/whoami`. */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { Endpoint } from "../../../sdk/src/contract/types.ts";
import { HEALTH_STORE_TIMEOUT_MS } from "../../../sdk/src/index.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import { STORE_RETRY_AFTER_SECONDS } from "../../store/faults.ts";
import type { Store } from "../../store/store.ts";
import { serve } from "../http/endpoints.ts";
import { problem } from "../http/problem.ts";

/** The store's answer to a health probe: its latency, or why it did not answer. */
export type StoreHealth = { ok: true; latencyMs: number } | { ok: false; error: string };

/**
 * Probes the store with a one-row read and never waits longer than `timeoutMs`. At most one probe
 * runs at a time: while one is outstanding (a hung database) later calls wait on it rather than
 * start another, so health checks cannot use up the connection pool.
 *
 * @example const health = storeProbe(store); await health() // { ok: true, latencyMs: 1 }
 */
export function storeProbe(store: Store, timeoutMs = HEALTH_STORE_TIMEOUT_MS): () => Promise<StoreHealth> {
  let inFlight: Promise<number> | undefined;
  return async () => {
    if (!inFlight) {
      const started = performance.now();
      const probe = store.revision().then(() => performance.now() - started);
      const clear = () => {
        if (inFlight === probe) inFlight = undefined;
      };
      probe.then(clear, clear);
      inFlight = probe;
    }
    const probe = inFlight;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const outcome = await Promise.race([probe, timeout]);
      if (outcome === "timeout") return { ok: false, error: `no answer within ${timeoutMs} ms` };
      return { ok: true, latencyMs: Math.round(outcome) };
    } catch (error) {
      // Only the classified reason: never a driver message (it may hold SQL or a host name).
      return { ok: false, error: isStoreError(error, "unavailable") ? error.message : "the store failed" };
    } finally {
      clearTimeout(timer);
    }
  };
}

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
