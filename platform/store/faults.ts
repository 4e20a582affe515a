/** Store faults: which driver errors mean "the database is unavailable", classified once for both adapters. */

import { isStoreError, StoreError } from "./contract/store-error.ts";
import type { SqlDriver } from "./sql.ts";

/**
 * How long a client is told to wait (Retry-After, seconds) when the store is unavailable: short,
 * because a restarting PostgreSQL or a released SQLite lock answers again within seconds, and the
 * SDK backs off further on each retry.
 */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** Socket-level codes (Node's `err.code`) that mean the database cannot be reached or the link broke. */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection lost",
  ECONNABORTED: "connection lost",
  EPIPE: "connection lost",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  EHOSTDOWN: "host unreachable",
  ENETUNREACH: "host unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
};

/**
 * PostgreSQL SQLSTATEs (Appendix A of its manual) that say "try again later" rather than "this request
 * is wrong": a whole class (two characters) or one code.
 */
const SQLSTATES: Record<string, string> = {
  "08": "connection lost", // connection exception
  "53": "out of resources", // insufficient resources: disk full, out of memory, too many connections
  "53300": "too many connections",
  "57P01": "shutting down", // admin_shutdown
  "57P02": "shutting down", // crash_shutdown
  "57P03": "starting up or shutting down", // cannot_connect_now
  "57014": "timed out", // query_canceled (statement_timeout)
  "58030": "I/O error", // io_error
  "40001": "busy, retry", // serialization_failure
  "40P01": "busy, retry", // deadlock_detected
};

/** node-postgres errors without a code, by message (its own wording, stable across 8.x). */
const PG_MESSAGES: [RegExp, string][] = [
  [/timeout exceeded when trying to connect/i, "timed out waiting for a connection"],
  [/Connection terminated due to connection timeout|timeout expired/i, "timed out connecting"],
  [/Query read timeout/i, "timed out"],
  [/Connection terminated/i, "connection lost"],
  [/not queryable|Client was closed/i, "connection lost"],
  [/Cannot use a pool after calling end/i, "closing"],
];

/**
 * Why a PostgreSQL (node-postgres) error means the database is unavailable, in a few safe words; or
 * undefined when the error is about the request itself. The words never contain the connection
 * string, the SQL or the server's message.
 *
 * @example postgresUnavailableReason(Object.assign(new Error("…"), { code: "ECONNREFUSED" })) // "connection refused"
 * @example postgresUnavailableReason(Object.assign(new Error("…"), { code: "23505" })) // undefined
 */
export function postgresUnavailableReason(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    const byNetwork = NETWORK_CODES[code];
    if (byNetwork) return byNetwork;
    if (/^[0-9A-Z]{5}$/.test(code)) return SQLSTATES[code] ?? SQLSTATES[code.slice(0, 2)];
  }
  const message = error instanceof Error ? error.message : "";
  for (const [pattern, reason] of PG_MESSAGES) if (pattern.test(message)) return reason;
  return undefined;
}

/** SQLite primary result codes (https://sqlite.org/rescode.html) that pass once the file or lock frees. */
const SQLITE_CODES: Record<number, string> = {
  5: "busy: another writer holds the lock", // SQLITE_BUSY
  6: "locked", // SQLITE_LOCKED
  10: "I/O error", // SQLITE_IOERR (and its extended codes)
  13: "disk full", // SQLITE_FULL
  14: "cannot open the database file", // SQLITE_CANTOPEN
  15: "locking protocol error", // SQLITE_PROTOCOL
};

/**
 * Why a `node:sqlite` error means the database is unavailable, or undefined. Corruption
 * (SQLITE_CORRUPT) and constraint errors are not "unavailable": retrying cannot help.
 *
 * @example sqliteUnavailableReason(Object.assign(new Error("database is locked"), { errcode: 5 })) // "busy: another writer holds the lock"
 */
export function sqliteUnavailableReason(error: unknown): string | undefined {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode === "number") return SQLITE_CODES[errcode & 0xff];
  // A store closed under a request (shutdown) throws Node's "database is not open".
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ERR_INVALID_STATE" && /not open/i.test(String((error as Error).message))) return "closing";
  return undefined;
}

/**
 * The store error for an unavailable database: code `unavailable`, a message fit for API clients,
 * the driver's error kept as `cause` for the log only.
 */
export function storeUnavailable(reason: string, cause: unknown): StoreError {
  return new StoreError("unavailable", `the database is unavailable (${reason})`, undefined, { cause });
}

/**
 * Wraps a driver so that every read and transaction fails with StoreError `unavailable` when the
 * database is unreachable, using `reasonOf` to recognise such errors. Store errors and errors about
 * the request pass through unchanged.
 *
 * @example const driver = classifyFaults(new PostgresDriver(options), postgresUnavailableReason);
 */
export function classifyFaults(
  driver: SqlDriver,
  reasonOf: (error: unknown) => string | undefined,
): SqlDriver {
  const classify = (error: unknown): never => {
    if (isStoreError(error)) throw error;
    const reason = reasonOf(error);
    throw reason === undefined ? error : storeUnavailable(reason, error);
  };
  // Explicit delegation: every other method runs on the driver itself (its state lives there).
  const wrapped: SqlDriver = {
    dialect: driver.dialect,
    read: (fn) => driver.read(fn).catch(classify),
    readConsistent: (fn) => driver.readConsistent(fn).catch(classify),
    transaction: (fn, options) => driver.transaction(fn, options).catch(classify),
    bump: (q, change) => driver.bump(q, change),
    announce: (q, revision) => driver.announce(q, revision),
    committed: () => driver.committed(),
    subscribe: (onWake) => driver.subscribe(onWake),
    close: () => driver.close(),
  };
  if (driver.generation) wrapped.generation = () => driver.generation!();
  return wrapped;
}
