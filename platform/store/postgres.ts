/** The shared store: PostgreSQL through a pg Pool, with LISTEN/NOTIFY as the change feed between nodes. */
import pg from "pg";
import { classifyFaults, postgresUnavailableReason } from "./faults.ts";
import type { SqlDriver, SqlExecutor, SqlValue } from "./sql.ts";
import { SqlStore, type StoreOptions } from "./sql-store.ts";

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions extends StoreOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** The schema to use (created when missing); default "public". Tests give each file its own. */
  schema?: string;
  /** Pool size; default 10. */
  poolSize?: number;
  /** Fallback poll for changes whose NOTIFY was missed while reconnecting, in ms; default 2000. */
  fallbackPollMs?: number;
  /**
   * Longest wait for a connection (a free pool slot, or a new connection to the server), in ms;
   * default 5000. Past it the operation fails as `unavailable` (the API answers 503).
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait for one statement's answer, in ms; default 10000. A server that stops answering
   * (hung, paused, partitioned) fails the operation as `unavailable` and its connection is dropped.
   */
  queryTimeoutMs?: number;
}

/** Default of {@link PostgresStoreOptions.connectTimeoutMs}. */
export const DEFAULT_PG_CONNECT_TIMEOUT_MS = 5_000;
/** Default of {@link PostgresStoreOptions.queryTimeoutMs}. */
export const DEFAULT_PG_QUERY_TIMEOUT_MS = 10_000;

function executor(client: pg.PoolClient | pg.Pool): SqlExecutor {
  return {
    all: async <T>(sql: string, params: SqlValue[] = []) => (await client.query(sql, params)).rows as T[],
    run: async (sql: string, params: SqlValue[] = []) => (await client.query(sql, params)).rowCount ?? 0,
  };
}

class PostgresDriver implements SqlDriver {
  readonly dialect = "postgres" as const;
  private readonly pool: pg.Pool;
  private readonly config: pg.ClientConfig;
  private readonly channel: string;
  /** Each open write transaction's revision and next seq, by its executor (one per transaction). */
  private readonly transactionRevisions = new WeakMap<SqlExecutor, { revision: number; seq: number }>();
  private readonly fallbackPollMs: number;
  private readonly onError: (error: unknown) => void;
  private listener: pg.Client | undefined;
  private readonly wakers = new Set<() => void>();
  private closed = false;
  /** True while the LISTEN connection is up (the read cache is used only then). */
  private listening = false;
  /** Notifications received, own commits and listener (re)connections: the read cache's generation. */
  private events = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? "public";
    this.config = { connectionString: options.url, options: `-c search_path=${schema}` };
    this.pool = new pg.Pool({
      ...this.config,
      max: options.poolSize ?? 10,
      // Bounded waits: without them a stopped or hung server (or a full pool) makes requests wait
      // forever instead of failing fast as `unavailable` (503 with Retry-After).
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_PG_CONNECT_TIMEOUT_MS,
      query_timeout: options.queryTimeoutMs ?? DEFAULT_PG_QUERY_TIMEOUT_MS,
      // TCP keep-alive notices a peer that vanished (a partition) on idle pooled connections.
      keepAlive: true,
    });
    // An idle client losing its connection must not crash the process; the pool drops it and the
    // next query opens a new one, so the pool recovers by itself when the server is back.
    this.pool.on("error", (error) => options.onWatchError?.(error));
    // NOTIFY channels are per database; schemas sharing a database get their own channel.
    this.channel = schema === "public" ? "mailplane_changes" : `mailplane_changes_${schema}`.slice(0, 63);
    this.fallbackPollMs = options.fallbackPollMs ?? 2000;
    this.onError = options.onWatchError ?? (() => {});
  }

  async ensureSchema(schema: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.connectionString });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await client.end();
    }
  }

  read<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    return fn(executor(this.pool));
  }

  readConsistent<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn);
  }

  async transaction<T>(
    fn: (q: SqlExecutor) => Promise<T>,
    options: { lockWriters?: boolean } = {},
  ): Promise<T> {
    // Writers serialise on the revision row from their first statement, so revisions follow commit
    // order and every later read (READ COMMITTED, per statement) sees all that committed before.
    // One round trip: the lock holder's time is what bounds write throughput.
    const result = await this.inTransaction(
      options.lockWriters ? "BEGIN; SELECT revision FROM tenancy_revision WHERE id = 1 FOR UPDATE" : "BEGIN",
      fn,
    );
    // Our own commit: this node's cached reads are stale now, before our NOTIFY even comes back.
    this.events++;
    return result;
  }

  /** Runs `fn` on one pooled connection between `begin` and COMMIT; any failure rolls back. */
  private async inTransaction<T>(begin: string, fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await fn(executor(client));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      if (postgresUnavailableReason(error) !== undefined) {
        // A lost or unanswering connection: a ROLLBACK would only wait out another timeout, and the
        // connection must not go back to the pool (a timed-out statement may still be running on it).
        // The server rolls back a transaction whose connection closes.
        broken = error instanceof Error ? error : new Error(String(error));
      } else {
        await client.query("ROLLBACK").catch(() => {});
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async bump(
    q: SqlExecutor,
    change: { accountId: string; kind: string; id: string; op: string },
  ): Promise<number> {
    const current = this.transactionRevisions.get(q);
    if (current !== undefined) {
      // A later change of the same transaction: logged at its revision (the NOTIFY is already queued).
      await q.run(
        "INSERT INTO change_log (revision, seq, account_id, kind, object_id, op) VALUES ($1, $2, $3, $4, $5, $6)",
        [current.revision, current.seq++, change.accountId, change.kind, change.id, change.op],
      );
      return current.revision;
    }
    // The first: one statement bumps, logs the change and NOTIFYs (delivered at commit, never on rollback).
    const rows = await q.all<{ revision: string }>(
      `WITH r AS (UPDATE tenancy_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision),
            c AS (INSERT INTO change_log (revision, seq, account_id, kind, object_id, op)
                  SELECT revision, 0, $1, $2, $3, $4 FROM r)
       SELECT revision, pg_notify($5, revision::text) FROM r`,
      [change.accountId, change.kind, change.id, change.op, this.channel],
    );
    const revision = Number(rows[0]?.revision);
    this.transactionRevisions.set(q, { revision, seq: 1 });
    return revision;
  }

  async announce(q: SqlExecutor, revision: number): Promise<void> {
    // Delivered by PostgreSQL at commit, never for a rolled-back transaction.
    await q.all("SELECT pg_notify($1, $2)", [this.channel, String(revision)]);
  }

  committed(): void {
    // Our own NOTIFY comes back through the LISTEN connection like everyone else's.
  }

  /**
   * Changes with every NOTIFY from any node, every own commit, every (re)connection of the listener
   * and every second. Reads are cached only while the listener is connected: then another node's
   * commit reaches this node's reads as soon as its NOTIFY arrives (at its COMMIT, typically well
   * under a millisecond here), and in any case within a second.
   */
  generation(): number | undefined {
    if (!this.listening) return undefined;
    return this.events * 2 ** 20 + (Math.floor(Date.now() / 1000) & 0xfffff);
  }

  /** Listens from the start: the read cache depends on it, not only `watch`. */
  startListening(): void {
    if (!this.listener && !this.reconnectTimer && !this.closed) void this.listen();
  }

  subscribe(onWake: () => void): () => void {
    this.wakers.add(onWake);
    this.startListening();
    const timer = setInterval(onWake, this.fallbackPollMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.wakers.delete(onWake);
    };
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.config);
    this.listener = client;
    client.on("notification", () => {
      this.events++;
      for (const wake of this.wakers) wake();
    });
    client.on("error", (error) => {
      this.onError(error);
      this.retryListen(client);
    });
    client.on("end", () => this.retryListen(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
      if (this.listener !== client) return;
      // Changes committed while we were not listening are picked up now.
      this.events++;
      this.listening = true;
      for (const wake of this.wakers) wake();
    } catch (error) {
      this.onError(error);
      this.retryListen(client);
    }
  }

  private retryListen(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.listening = false;
    client.end().catch(() => {});
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) void this.listen();
    }, 1000);
    this.reconnectTimer.unref();
  }

  private stopListening(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.listener;
    this.listener = undefined;
    this.listening = false;
    client?.end().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakers.clear();
    this.stopListening();
    await this.pool.end();
  }
}

/**
 * Opens (creating the schema and migrating when needed) a PostgreSQL store.
 *
 * @example
 * const store = await openPostgresStore({ url: "postgres://mailplane@127.0.0.1:5432/mailplane" });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlStore> {
  const schema = options.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  const driver = new PostgresDriver(options);
  await driver.ensureSchema(schema);
  const store = new SqlStore(classifyFaults(driver, postgresUnavailableReason), options);
  try {
    await store.init();
    driver.startListening();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
