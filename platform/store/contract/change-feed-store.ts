/** The store's change feed: the tenancy revision, the change log, a consistent snapshot and the watcher the SMTP engine follows. */
import type { AccountRecord } from "./account-store.ts";
import type { StoredObject } from "./object-store.ts";

/** One committed tenancy change, in commit order. */
export interface Change {
  revision: number;
  accountId: string;
  kind: string;
  id: string;
  op: "put" | "delete";
}

/**
 * What `watch` listeners receive. `changes` lists every change after the previous event's revision;
 * it is `null` when the change log no longer reaches back that far (rebuild from `snapshot()`).
 */
export interface ChangeEvent {
  revision: number;
  changes: Change[] | null;
}

/** Everything the SMTP engine's in-memory policy needs, read at one consistent revision. */
export interface Snapshot {
  revision: number;
  accounts: AccountRecord[];
  objects: StoredObject[];
}

/**
 * The change feed: every committed tenancy change bumps the revision and is logged, in commit order.
 *
 * @example
 * const stop = store.watch((ev) => {
 *   if (ev.changes) apply(ev.changes);
 *   else void store.snapshot().then(rebuild); // the change log no longer reaches back that far
 * });
 */
export interface ChangeFeedStore {
  /** The current tenancy revision (bumped by every committed tenancy change). */
  revision(): Promise<number>;
  /** Changes after `revision` in commit order, or null when the change log no longer reaches back. */
  changesSince(revision: number): Promise<Change[] | null>;
  /** Every account and tenancy object (optionally only enabled ones) at one consistent revision. */
  snapshot(opts?: { enabledOnly?: boolean }): Promise<Snapshot>;
  /**
   * Calls `listener` within a second of any committed tenancy change made by any process sharing the
   * store (PostgreSQL LISTEN/NOTIFY; SQLite polls its revision counter every 150 ms). Returns unsubscribe.
   */
  watch(listener: (event: ChangeEvent) => void): () => void;
}
