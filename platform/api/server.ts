/** Starts the control plane: opens the store, bootstraps the first admin token, listens on host:port. */
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { openStore, reportSharedAddresses } from "../store/index.ts";
import type { Store } from "../store/store.ts";
import { newToken } from "./access/auth.ts";
import { type AppOptions, buildApp } from "./app.ts";
import { loadMasterKey } from "./domains/dns.ts";
import { startDomainChecks, verificationToken } from "./domains/domain-ownership.ts";

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions extends Omit<AppOptions, "store"> {
  /** Where the SQLite file and the bootstrap admin token live; created when missing. */
  dataDir: string;
  /** `host:port` (`[::1]:8080` for IPv6); port 0 picks a free one. Default `127.0.0.1:0`. */
  listen?: string;
  /** A `postgres://` URL: use PostgreSQL instead of SQLite. */
  databaseUrl?: string | undefined;
  /** PostgreSQL schema (tests); default "public". */
  databaseSchema?: string;
  /** Use this store instead of opening one (it is then not closed by `close`). */
  store?: Store;
  /**
   * How often pending domain names are looked up again in DNS (see `startDomainChecks`), in ms;
   * default 0: only when asked (`POST /v1/domains/{domain}/verify`). `mailplane serve`: 15 minutes.
   */
  domainCheckIntervalMs?: number;
}

/** A running control plane. */
export interface ControlPlane {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  store: Store;
  app: FastifyInstance;
  /** Path of the bootstrap admin token file when this start created it. */
  adminTokenPath: string | undefined;
  /** Stops listening (in-flight requests finish) and closes the store it opened. */
  close(): Promise<void>;
}

/** The file the first start writes the platform-admin token to. */
export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * Parses `host:port` / `[v6]:port`.
 * @example parseListen("127.0.0.1:8080") // { host: "127.0.0.1", port: 8080 }
 */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65_535) throw new Error(`--listen must be host:port, got ${JSON.stringify(listen)}`);
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/**
 * On a store without tokens, mints a platform-admin token and writes it to `<dataDir>/admin-token`
 * (mode 0600). The secret goes only to that file, never to a log. When several nodes start on one
 * PostgreSQL at once, the store's first-writer-wins setting lets exactly one of them mint it.
 *
 * @returns the file's path when this call created the token
 */
export async function bootstrapAdminToken(store: Store, dataDir: string): Promise<string | undefined> {
  if ((await store.countTokens()) > 0) return undefined;
  const claim = `${hostname()}:${process.pid}:${Date.now()}`;
  if ((await store.initSetting("bootstrap-admin-token", claim)) !== claim) return undefined;
  const minted = newToken();
  await store.createToken(
    {
      id: minted.id,
      accountId: null,
      description: "bootstrap platform admin (mailplane serve)",
      prefix: minted.prefix,
      secretHash: minted.secretHash,
      role: "platform-admin",
      domains: [],
    },
    { actor: "system" },
  );
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  writeFileSync(path, `${minted.secret}\n`, { mode: 0o600 });
  return path;
}

/**
 * Starts the control plane. The programmatic face of `mailplane serve` for tests and other processes.
 *
 * @example
 * const cp = await startControlPlane({ dataDir: tmp, listen: "127.0.0.1:0" });
 * const token = readFileSync(cp.adminTokenPath!, "utf8").trim();
 * await cp.close();
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const ownsStore = !options.store;
  const store =
    options.store ??
    (await openStore({
      dataDir: options.dataDir,
      databaseUrl: options.databaseUrl,
      ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
    }));
  let built: FastifyInstance | undefined;
  try {
    const adminTokenPath = await bootstrapAdminToken(store, options.dataDir);
    const masterKey = options.masterKey ?? loadMasterKey(options.dataDir);
    const app = await buildApp({ ...options, masterKey, store });
    built = app;
    await reportSharedAddresses(store, (message, fields) => app.log.warn(fields, message));
    // Expired Idempotency-Key answers are ignored on read; drop them hourly so the table stays small.
    const purge = setInterval(() => {
      store.purgeIdempotency().catch((error) => app.log.warn({ err: error }, "idempotency purge failed"));
    }, 3_600_000);
    purge.unref();
    app.addHook("onClose", async () => clearInterval(purge));
    if (options.domainCheckIntervalMs) {
      const stopChecks = startDomainChecks({
        store,
        resolver: app.services.resolver,
        token: verificationToken,
        intervalMs: options.domainCheckIntervalMs,
        onError: (error) => app.log.warn({ err: error }, "domain verification round failed"),
      });
      app.addHook("onClose", async () => stopChecks());
    }
    const { host, port } = parseListen(options.listen ?? "127.0.0.1:0");
    await app.listen({ host, port });
    const address = app.server.address();
    const bound = typeof address === "object" && address ? address : { address: host, port };
    // A route to the API itself would have the relay talk SMTP to it.
    app.services.egress.addListener({ host, port: bound.port });
    const shown = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
    if (!options.publicUrl) app.services.publicUrl = `http://${shown}:${bound.port}`;
    return {
      url: `http://${shown}:${bound.port}`,
      store,
      app,
      adminTokenPath,
      async close() {
        await app.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    // A start that failed after building the app (the address is taken, say) leaves nothing running.
    await built?.close();
    if (ownsStore) await store.close();
    throw error;
  }
}
