/** Platform endpoints: `/healthz`, `/openapi.json` (schema/openapi.json as generated) and `/v1/whoami`. */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { serve } from "../lib/http.ts";
import { problem } from "../problem.ts";

/**
 * The platform route plugin.
 *
 * @example app.register(platformRoutes)
 */
export async function platformRoutes(app: FastifyInstance): Promise<void> {
  const { store, version, openapiPath } = app.services;
  let openapi: string | undefined;

  serve(app, "getHealth", async () => {
    try {
      await store.revision();
      return { status: "ok", version };
    } catch {
      return { status: "degraded", version };
    }
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

  serve(app, "getWhoAmI", async (request) => {
    const auth = request.auth!;
    return { tokenId: auth.token.id, account: auth.accountId, role: auth.role, domains: auth.domains ?? [] };
  });
}
