/** The embedded store: node:sqlite on one file in the data directory (WAL), or `:memory:` for unit tests. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { classifyFaults, sqliteUnavailableReason } from "./faults.ts";
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

/** A write transaction waiting for the next group commit. */
interface PendingTransaction {
  fn: (q: SqlExecutor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** An executor over one connection, with its prepared statements cached by SQL text. */
function executor(db: DatabaseSync): SqlExecutor {
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(toSqlite(sql));
      statements.set(sql, statement);
    }
    return statement;
  };
  return {
    all: async <T>(sql: string, params: SqlValue[] = []) =>
      prepare(sql).all(...(params as SQLInputValue[])) as unknown as T[],
    run: async (sql: string, params: SqlValue[] = []) => {
      // DDL is not cached: a prepared CREATE would go stale once the schema changes.
      if (/^\s*(CREATE|DROP|ALTER)\b/i.test(sql)) {
        db.exec(toSqlite(sql));
        return 0;
      }
      return Number(prepare(sql).run(...(params as SQLInputValue[])).changes);
    },
  };
}

class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite" as const;
  private readonly db: DatabaseSync;
  private readonly pollIntervalMs: number;
  private readonly wakers = new Set<() => void>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly exec: SqlExecutor;
  private readonly reader: DatabaseSync | undefined;
  private readonly readExec: SqlExecutor | undefined;
  private readonly dataVersion: (() => number) | undefined;
  /** Commits on this connection (all there is for ":memory:", which no other connection can open). */
  private commits = 0;
  private readonly pending: PendingTransaction[] = [];
  private flushScheduled = false;
  /** The revision the running transaction of a batch logs its changes at, and its next change's seq. */
  private transactionRevision: { revision: number; seq: number } | undefined;

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
    this.exec = executor(this.db);
    if (options.path !== ":memory:") {
      // A second connection for plain reads: in WAL mode it sees every committed change and never an
      // uncommitted one, so reads need not queue behind the writer's turn.
      this.reader = new DatabaseSync(options.path);
      this.reader.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      this.reader.exec("PRAGMA query_only = ON");
      this.readExec = executor(this.reader);
      const version = this.reader.prepare("PRAGMA data_version");
      this.dataVersion = () => Number((version.get() as { data_version: number }).data_version);
    }
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
    return this.readExec ? fn(this.readExec) : this.exclusive(() => fn(this.exec));
  }

  /**
   * Changes whenever the database may have changed: PRAGMA data_version on the reader moves with every
   * commit by any other connection — our writer and other processes alike (about 1 µs to ask).
   */
  generation(): number {
    return this.dataVersion ? this.dataVersion() : this.commits;
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

  /**
   * Group commit: write transactions that arrive together (within one turn of the event loop) run one
   * after another inside a single BEGIN IMMEDIATE … COMMIT, each in its own SAVEPOINT, so a failing one
   * rolls back alone while the others share one fsync. Every caller is answered only after the COMMIT
   * that made its change durable; if that COMMIT fails, every transaction of the batch fails.
   */
  // BEGIN IMMEDIATE holds SQLite's single write lock, so every transaction already locks writers.
  transaction<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve, reject } as PendingTransaction);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          void this.exclusive(() => this.flush());
        });
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    try {
      // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading a read lock.
      this.db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      for (const t of batch) t.reject(error);
      return;
    }
    const outcomes: { t: PendingTransaction; ok: boolean; value: unknown }[] = [];
    for (const t of batch) {
      // Each transaction of the batch is a revision of its own (a rolled-back one leaves none).
      this.transactionRevision = undefined;
      this.db.exec("SAVEPOINT mailplane_tx");
      try {
        const value = await t.fn(this.exec);
        this.db.exec("RELEASE mailplane_tx");
        outcomes.push({ t, ok: true, value });
      } catch (error) {
        this.db.exec("ROLLBACK TO mailplane_tx");
        this.db.exec("RELEASE mailplane_tx");
        outcomes.push({ t, ok: false, value: error });
      }
    }
    try {
      this.db.exec("COMMIT");
      this.commits++;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      for (const o of outcomes) o.t.reject(o.ok ? error : o.value);
      return;
    }
    for (const o of outcomes) (o.ok ? o.t.resolve : o.t.reject)(o.value);
  }

  async bump(
    q: SqlExecutor,
    change: { accountId: string; kind: string; id: string; op: string },
  ): Promise<number> {
    let current = this.transactionRevision;
    if (current === undefined) {
      const rows = await q.all<{ revision: number }>(
        "UPDATE tenancy_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
      );
      current = { revision: Number(rows[0]?.revision), seq: 0 };
      this.transactionRevision = current;
    }
    await q.run(
      "INSERT INTO change_log (revision, seq, account_id, kind, object_id, op) VALUES ($1, $2, $3, $4, $5, $6)",
      [current.revision, current.seq++, change.accountId, change.kind, change.id, change.op],
    );
    return current.revision;
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
      if (this.reader?.isOpen) this.reader.close();
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
  const store = new SqlStore(classifyFaults(new SqliteDriver(options), sqliteUnavailableReason), options);
  await store.init();
  return store;
}
