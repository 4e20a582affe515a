/** The store's change feed: the tenancy revision, the change log since a revision, snapshots, and watching for changes. */
import { toAccount } from "./accounts.ts";
import type { Change, ChangeEvent, Snapshot } from "./contract/change-feed-store.ts";
import { withVerification } from "./domain-names.ts";
import { OBJECT_COLUMNS, toObject } from "./object-rows.ts";
import { type SqlExecutor, str } from "./sql.ts";

/** The current tenancy revision. */
export async function selectRevision(q: SqlExecutor): Promise<number> {
  const rows = await q.all<{ revision: number | string }>(
    "SELECT revision FROM tenancy_revision WHERE id = 1",
  );
  return Number(rows[0]?.revision ?? 0);
}

/** Inside a write: drops change-log rows at or below `upTo` (history kept for `changesSince` only). */
export async function pruneChangeLog(q: SqlExecutor, upTo: number): Promise<void> {
  await q.run("DELETE FROM change_log WHERE revision <= $1", [upTo]);
}

/** The changes after `revision` in order, or null when the log no longer reaches back that far. */
export async function changesSince(q: SqlExecutor, revision: number): Promise<Change[] | null> {
  const current = await selectRevision(q);
  const rows = await q.all(
    "SELECT revision, account_id, kind, object_id, op FROM change_log WHERE revision > $1 ORDER BY revision, seq",
    [revision],
  );
  // Revisions are contiguous (one per committed write transaction, each with at least one change), so
  // fewer distinct revisions than the span means pruned history.
  if (new Set(rows.map((r) => Number(r.revision))).size !== Math.max(0, current - revision)) return null;
  return rows.map((r) => ({
    revision: Number(r.revision),
    accountId: str(r.account_id),
    kind: str(r.kind),
    id: str(r.object_id),
    op: str(r.op) === "delete" ? ("delete" as const) : ("put" as const),
  }));
}

/** Every account and object (only enabled ones with `enabledOnly`) at one revision; run in a consistent read. */
export async function snapshot(q: SqlExecutor, opts: { enabledOnly?: boolean }): Promise<Snapshot> {
  const revision = await selectRevision(q);
  const accounts = await q.all("SELECT * FROM accounts ORDER BY id");
  const objects = await q.all(
    `SELECT ${OBJECT_COLUMNS} FROM objects ${opts.enabledOnly ? "WHERE enabled = 1" : ""} ORDER BY account_id, kind, id`,
  );
  return {
    revision,
    accounts: accounts.map(toAccount),
    objects: await withVerification(q, objects.map(toObject)),
  };
}

/** What a ChangeWatcher reads through: the store's own revision and change-log reads, and the driver's wake-ups. */
export interface ChangeSource {
  revision: () => Promise<number>;
  changesSince: (revision: number) => Promise<Change[] | null>;
  /** Starts waking `onWake` on (possible) changes by any process; returns a stop function. */
  subscribe: (onWake: () => void) => () => void;
  /** Told about failures (of a read or a listener); the next wake-up retries. */
  onError: (error: unknown) => void;
}

/**
 * Tells listeners what changed since it last looked, on every wake-up of the source; it subscribes
 * while it has listeners and never runs two looks at once.
 *
 * @example
 * const watcher = new ChangeWatcher(source);
 * const stop = watcher.watch((event) => console.log(event.revision));
 */
export class ChangeWatcher {
  private readonly source: ChangeSource;
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private stopWakeups: (() => void) | undefined;
  private watchedRevision: number | undefined;
  private checking = false;
  private recheck = false;

  constructor(source: ChangeSource) {
    this.source = source;
  }

  /** Adds a listener (the first starts the wake-ups); returns its remover (the last stops them). */
  watch(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.stopWakeups) {
      this.watchedRevision = undefined;
      void this.check();
      this.stopWakeups = this.source.subscribe(() => void this.check());
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.stopWakeups) {
        this.stopWakeups();
        this.stopWakeups = undefined;
      }
    };
  }

  /** Drops every listener and stops the wake-ups. */
  close(): void {
    this.listeners.clear();
    this.stopWakeups?.();
    this.stopWakeups = undefined;
  }

  /** Reads the revision and tells listeners about what changed since the last look; never overlaps itself. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.recheck = false;
        const revision = await this.source.revision();
        if (this.watchedRevision === undefined) {
          this.watchedRevision = revision;
        } else if (revision > this.watchedRevision) {
          const changes = await this.source.changesSince(this.watchedRevision);
          this.watchedRevision = revision;
          const event: ChangeEvent = {
            revision,
            changes: changes?.filter((c) => c.revision <= revision) ?? null,
          };
          for (const listener of [...this.listeners]) {
            try {
              listener(event);
            } catch (error) {
              this.source.onError(error);
            }
          }
        }
      } while (this.recheck && this.listeners.size > 0);
    } catch (error) {
      this.source.onError(error);
    } finally {
      this.checking = false;
    }
  }
}
