/** The small SQL seam both adapters implement, plus helpers shared by the store (cursors, pages, column values, canonical JSON, redaction). */
import type { Page } from "./contract/page.ts";
import { StoreError } from "./contract/store-error.ts";

/** A parameter value both drivers bind natively. */
export type SqlValue = string | number | null;

/**
 * Runs statements written once for both dialects: `$1…$n` placeholders (the SQLite adapter rewrites
 * them to `?1…?n`), text and integer columns only, JSON kept as text.
 */
export interface SqlExecutor {
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
}

/** What an adapter gives the shared store logic: transactions, consistent reads and change wake-ups. */
export interface SqlDriver {
  readonly dialect: "sqlite" | "postgres";
  /** One-shot reads that need no consistency across statements; they see committed data only. */
  read<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * When present: a cheap number that changes whenever committed data may have changed (any
   * connection, any process). The store caches reads while it stays the same.
   */
  generation?(): number | undefined;
  /** Several reads that must see one committed state (snapshot). */
  readConsistent<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * One read-write transaction; a thrown error rolls it back. `fn` must only await the executor: the
   * SQLite adapter serialises transactions on its single connection. With `lockWriters` every write
   * serialises on the revision row from its first statement (SQLite: BEGIN IMMEDIATE does that).
   */
  transaction<T>(fn: (q: SqlExecutor) => Promise<T>, options?: { lockWriters?: boolean }): Promise<T>;
  /**
   * Inside a writing transaction: logs the change at the transaction's revision and announces it to
   * other processes (PostgreSQL: NOTIFY, delivered at commit). The first change of a transaction bumps
   * the revision; its later changes share it (a revision is one committed transaction, so a tenancy
   * apply of many objects is one). Returns that revision.
   */
  bump(q: SqlExecutor, change: { accountId: string; kind: string; id: string; op: string }): Promise<number>;
  /** Inside a writing transaction: tells other processes something changed without a new revision. */
  announce(q: SqlExecutor, revision: number): Promise<void>;
  /** Called after a transaction that bumped the revision committed (SQLite: wake local watchers now). */
  committed(): void;
  /** Starts waking `onWake` on (possible) changes by any process; returns a stop function. */
  subscribe(onWake: () => void): () => void;
  close(): Promise<void>;
}

/** Encodes a list position as an opaque, URL-safe cursor. */
export function encodeCursor(position: (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

/** Decodes a cursor made by {@link encodeCursor}; anything else is `invalid_cursor`. */
export function decodeCursor(cursor: string, shape: ("string" | "number")[]): (string | number)[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new StoreError("invalid_cursor", "the cursor is not one this server issued");
  }
  if (!Array.isArray(value) || value.length !== shape.length || value.some((v, i) => typeof v !== shape[i])) {
    throw new StoreError("invalid_cursor", "the cursor is not one this server issued");
  }
  return value as (string | number)[];
}

/** A page of `rows` fetched with `limit + 1`: the extra row only says there is more, and the cursor marks the last kept. */
export function pageOf<T>(rows: T[], limit: number, position: (row: T) => (string | number)[]): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(position(items[items.length - 1] as T)) };
}

/** A column's value as a string. */
export function str(v: unknown): string {
  return String(v);
}

/** A nullable column's value as a string or null. */
export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** JSON with object keys sorted, so equal specs compare equal as strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Keys whose values never reach the audit log, whatever object they sit in. */
const SECRET_KEYS = new Set([
  "password",
  "secret",
  "secrethash",
  "secret_hash",
  "token",
  "hash",
  "passwordhash",
]);

/** The marker written in place of a secret value. */
export const REDACTED = "[REDACTED]";

/** A deep copy of `value` with every secret-named key's value replaced by {@link REDACTED}. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactSecrets(v);
    }
    return out;
  }
  return value;
}
