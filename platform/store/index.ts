/** Opens the store a process is configured for: PostgreSQL given a URL, else SQLite in the data directory. */
import { join } from "node:path";
import { openPostgresStore } from "./postgres.ts";
import type { StoreOptions } from "./sql-store.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

export type * from "./contract/account-store.ts";
export type * from "./contract/audit-store.ts";
export type * from "./contract/change-feed-store.ts";
export type * from "./contract/credential-store.ts";
export type * from "./contract/domain-name-store.ts";
export type * from "./contract/idempotency-store.ts";
export type * from "./contract/login-audit-store.ts";
export type * from "./contract/login-lockout-store.ts";
export type * from "./contract/notice-outbox-store.ts";
export * from "./contract/object-store.ts";
export type * from "./contract/page.ts";
export type * from "./contract/report-send-store.ts";
export type * from "./contract/setting-store.ts";
export * from "./contract/store-error.ts";
export type * from "./contract/tenancy-store.ts";
export type * from "./contract/token-store.ts";
export type * from "./contract/user-auth-store.ts";
export * from "./contract/write-context.ts";
export { MIGRATIONS } from "./migrations.ts";
export { openPostgresStore, type PostgresStoreOptions } from "./postgres.ts";
export {
  reportSharedAddresses,
  type SharedAddress,
  type SharedAddressWarning,
} from "./recipient-addresses.ts";
export { REDACTED, redactSecrets } from "./sql.ts";
export type { StoreOptions } from "./sql-store.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite.ts";
export type * from "./store.ts";

/** The SQLite file's name inside the data directory. */
export const SQLITE_FILE = "mailplane.db";

/**
 * Opens PostgreSQL when `databaseUrl` is given, otherwise `<dataDir>/mailplane.db`.
 *
 * @example
 * const store = await openStore({ dataDir: ".data", databaseUrl: process.env.MAILPLANE_DATABASE_URL });
 */
export async function openStore(
  options: { dataDir: string; databaseUrl?: string | undefined; schema?: string } & StoreOptions,
): Promise<Store> {
  if (options.databaseUrl) {
    return openPostgresStore({ ...options, url: options.databaseUrl });
  }
  return openSqliteStore({ ...options, path: join(options.dataDir, SQLITE_FILE) });
}
