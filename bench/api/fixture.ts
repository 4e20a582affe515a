/**
 * The control-plane benchmark's shared fixture: a seeded control plane (SQLite in a temp dir, or
 * PostgreSQL) and, for the ratio, a bare fastify server answering the same JSON with no work.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { request } from "undici";
import { startControlPlane } from "../../platform/api/server.ts";
import type { Load } from "./wrk.ts";

/** What every scenario may address. */
export interface Fixture {
  url: string;
  token: string;
  domain: string;
  /** Routes seeded under `domain`: `mx<i>.bench.example:25`, i < routes. */
  routes: number;
  /** Aliases seeded under `domain`. */
  aliases: number;
  store: "sqlite" | "postgres";
  close(): Promise<void>;
}

/** A server that answers one fixed JSON body per path and method, as fast as fastify can. */
export interface Bare {
  url: string;
  close(): Promise<void>;
}

/** Sizes of the seeded tenancy. */
export const SEED = { routes: 200, aliases: 50 } as const;

async function call(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  account?: string,
) {
  const res = await request(`${url}${path}`, {
    method: method as never,
    headers: {
      authorization: `Bearer ${token}`,
      ...(account ? { "mailplane-account": account } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Starts a control plane (rate limit off: the bench measures throughput, not the limiter) and seeds
 * one account with a domain, its routes and aliases.
 */
export async function startFixture(options: { databaseUrl?: string | undefined } = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), "mailplane-bench-api-"));
  const cp = await startControlPlane({
    dataDir,
    listen: "127.0.0.1:0",
    rateLimit: false,
    ...(options.databaseUrl
      ? { databaseUrl: options.databaseUrl, databaseSchema: `bench_${Date.now().toString(36)}` }
      : {}),
  });
  const admin = readFileSync(cp.adminTokenPath!, "utf8").trim();
  await call(cp.url, "PUT", "/v1/accounts/bench", admin, { id: "bench", name: "Bench" });
  const created = await call(cp.url, "POST", "/v1/tokens", admin, { role: "account-admin" }, "bench");
  const token = created.token as string;
  const domain = "bench.example";
  await call(cp.url, "PUT", `/v1/domains/${domain}`, token, {
    name: domain,
    aliases: ["bench-alias.example"],
  });
  for (let i = 0; i < SEED.routes; i++) {
    await call(cp.url, "PUT", `/v1/domains/${domain}/routes/mx${i}.bench.example:25`, token, {
      domain,
      host: `mx${i}.bench.example`,
      priority: 10,
    });
  }
  for (let i = 0; i < SEED.aliases; i++) {
    await call(cp.url, "PUT", `/v1/domains/${domain}/aliases/a${i}@${domain}`, token, {
      address: `a${i}@${domain}`,
      action: { type: "forward", to: [`u${i}@${domain}`] },
    });
  }
  return {
    url: cp.url,
    token,
    domain,
    routes: SEED.routes,
    aliases: SEED.aliases,
    store: cp.store.dialect,
    async close() {
      await cp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts bare fastify with one route per (method, path pattern) answering `bodies` — the JSON the
 * control plane answers for the same request — parsing the request body for writes and nothing else.
 */
export async function startBare(
  routes: { method: "GET" | "PUT" | "PATCH"; url: string; body: unknown }[],
): Promise<Bare> {
  const app: FastifyInstance = Fastify({ logger: false, routerOptions: { maxParamLength: 512 } });
  for (const r of routes) {
    app.route({ method: r.method, url: r.url, handler: async () => r.body });
  }
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** Fetches what the control plane answers, to give bare fastify the very same body. */
export async function sample(f: Fixture, method: string, path: string, body?: unknown): Promise<unknown> {
  return call(f.url, method, path, f.token, body);
}

/** One named load: what the control plane is asked, and what bare fastify answers for the same requests. */
export interface Scenario {
  name: string;
  kind: "read" | "write";
  /** One line for the results table. */
  description: string;
  /** The requests wrk sends (round robin) to the control plane. */
  load(f: Fixture): Load;
  /** Bare fastify's routes (answering the control plane's JSON) and the same requests for it. */
  bare(
    f: Fixture,
  ): Promise<{ routes: { method: "GET" | "PUT" | "PATCH"; url: string; body: unknown }[]; load: Load }>;
}

/** Headers every control-plane request carries. */
export function authHeaders(f: Fixture, write = false): Record<string, string> {
  return { Authorization: `Bearer ${f.token}`, ...(write ? { "Content-Type": "application/json" } : {}) };
}
