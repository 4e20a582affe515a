/** The embedded store: node:sqlite on one file in the data directory (WAL), or `:memory:` for unit tests. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { SqlDriver, SqlExecutor, SqlValue } from "./sql.ts";
import { SqlStore, type StoreOptions } from "./sql-store.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** The database file, or ":memory:". */
  path: string;
  /** How often other processes' commits are looked for, in ms; default 150. */
  pollIntervalMs?: number;
  /** How long a writer waits for another process's write lock, in ms; default 5000. */
  busyTimeoutMs?: number;
}

/** `$1…$n` → `?1…?n`: the statements are written once, in PostgreSQL's placeholder style. */
function toSqlite(sql: string): string {
  return sql.replace(/\$(\d+)/g, "?$1");
}

class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite" as const;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly pollIntervalMs: number;
  private readonly wakers = new Set<() => void>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly exec: SqlExecutor;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    this.db = new DatabaseSync(options.path);
    this.pollIntervalMs = options.pollIntervalMs ?? 150;
    this.db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // WAL: readers in other processes (a second `mailplane serve`, the SMTP engine) never block the writer.
    this.db.exec("PRAGMA journal_mode = WAL");
    // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a 2xx from the
    // API (which Pulumi then records in its state) must mean the change is on disk.
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec("PRAGMA foreign_keys = ON");
    const prepare = (sql: string) => {
      let statement = this.statements.get(sql);
      if (!statement) {
        statement = this.db.prepare(toSqlite(sql));
        this.statements.set(sql, statement);
      }
      return statement;
    };
    this.exec = {
      all: async <T>(sql: string, params: SqlValue[] = []) =>
        prepare(sql).all(...(params as SQLInputValue[])) as unknown as T[],
      run: async (sql: string, params: SqlValue[] = []) => {
        // DDL is not cached: a prepared CREATE would go stale once the schema changes.
        if (/^\s*(CREATE|DROP|ALTER)\b/i.test(sql)) {
          this.db.exec(toSqlite(sql));
          return 0;
        }
        return Number(prepare(sql).run(...(params as SQLInputValue[])).changes);
      },
    };
  }

  /**
   * Serialises every use of the one connection. Transaction bodies only await the (synchronous)
   * executor, so holding the turn costs microseconds; without it a read could observe another request's
   * uncommitted writes on the shared connection.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  read<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(() => fn(this.exec));
  }

  readConsistent<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec("BEGIN");
      try {
        return await fn(this.exec);
      } finally {
        this.db.exec("COMMIT");
      }
    });
  }

  transaction<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading a read lock.
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this.exec);
        this.db.exec("COMMIT");
        return result;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  async lockWriters(): Promise<number> {
    // BEGIN IMMEDIATE already holds SQLite's single write lock.
    return 0;
  }

  async announce(): Promise<void> {}

  committed(): void {
    for (const wake of this.wakers) queueMicrotask(wake);
  }

  subscribe(onWake: () => void): () => void {
    this.wakers.add(onWake);
    // Other processes' commits: poll the revision (one indexed row) a few times a second.
    const timer = setInterval(onWake, this.pollIntervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.wakers.delete(onWake);
    };
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      this.statements.clear();
      if (this.db.isOpen) this.db.close();
    });
  }
}

/**
 * Opens (creating and migrating when needed) a SQLite store.
 *
 * @example
 * const store = await openSqliteStore({ path: ".data/mailplane.db" });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlStore> {
  const store = new SqlStore(new SqliteDriver(options), options);
  await store.init();
  return store;
}
