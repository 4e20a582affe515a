/** Message data per domain lifetime: purges a deleted domain's log, quarantine, queue entries and Maildirs. */
import { readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { MessageLog } from "./message-log/entry.ts";
import { declaredOwner, type Owner, ownedBy, viewsOfMessage } from "./owners.ts";
import type { DeclaredDomain, PolicySnapshot } from "./policy/snapshot.ts";
import type { QuarantineStore } from "./quarantine/store.ts";
import type { Queue } from "./spool/queue.ts";

/** The declared lifetime `owner` belongs to, or undefined when that lifetime is over (or unknown). */
export function currentLifetime(snapshot: PolicySnapshot, owner: Owner): DeclaredDomain | undefined {
  const d = snapshot.declared.get(owner.domain);
  return d && ownedBy(owner, declaredOwner(d)) ? d : undefined;
}

/** Options of {@link DataLifecycle}. */
export interface DataLifecycleOptions {
  snapshot: () => PolicySnapshot;
  log: MessageLog;
  quarantine: QuarantineStore;
  queue: Queue;
  /** The Maildir root (`<dataDir>/mail`). */
  mailRoot: string;
  /** Keep a deleted domain's data on disk, sealed (`--deleted-domain-data keep`): reconcile deletes nothing. Default false. */
  keep?: boolean;
  /** Told what a reconcile removed (tests, logs). */
  onPurged?: (purged: PurgeReport) => void;
}

/** What one reconcile removed. */
export interface PurgeReport {
  logOwners: Owner[];
  quarantined: string[];
  queued: string[];
  maildirs: string[];
}

/**
 * Keeps message data to its domain's lifetime. A lifetime is over when its domain's name is now
 * declared with another generation (deleted and created again, by anyone) or when it was declared
 * in a snapshot this process saw and is gone now (the domain was deleted). Then its message log
 * folder, its quarantined messages, its queued messages and its Maildirs are deleted — unless
 * another live account also sees the message (a mixed-tenant message stays for that account).
 *
 * Data of a name that is declared nowhere at start (deleted while the engine was down) is kept,
 * sealed: nothing serves it (every read names a live lifetime) and it is purged as soon as the name
 * is declared again. An engine started on an empty or wrong store so never deletes anything.
 *
 * @example
 * const lifecycle = new DataLifecycle({ snapshot, log, quarantine, queue, mailRoot });
 * await lifecycle.reconcile(); // after every policy change (subscribe)
 */
export class DataLifecycle {
  readonly #opts: DataLifecycleOptions;
  /** Lifetimes declared in a snapshot this process saw (domain\ngeneration\naccount). */
  readonly #seen = new Set<string>();
  #running: Promise<void> = Promise.resolve();

  constructor(opts: DataLifecycleOptions) {
    this.#opts = opts;
  }

  /** Purges every lifetime that is over; runs are serialised, and the returned promise ends with this one. */
  reconcile(): Promise<void> {
    const run = this.#running.then(() => this.#reconcile());
    this.#running = run.catch(() => {});
    return run;
  }

  async #reconcile(): Promise<void> {
    if (this.#opts.keep) return;
    const snapshot = this.#opts.snapshot();
    for (const d of snapshot.declared.values()) this.#seen.add(seenKey(declaredOwner(d)));
    const ended = (owner: Owner): boolean => {
      if (currentLifetime(snapshot, owner)) return false;
      return snapshot.declared.has(owner.domain) || this.#seenLifetime(owner);
    };
    const report: PurgeReport = { logOwners: [], quarantined: [], queued: [], maildirs: [] };
    for (const owner of this.#opts.log.owners()) {
      if (!ended(owner)) continue;
      await this.#opts.log.purge(owner);
      report.logOwners.push(owner);
    }
    report.quarantined = await this.#opts.quarantine.purgeOwners(ended);
    const queue = this.#opts.queue;
    for (const view of queue.list()) {
      const meta = queue.meta(view.id);
      const views = meta ? viewsOfMessage(meta) : [];
      if (views.length > 0 && views.every((v) => ended(v.owner)) && (await queue.delete(view.id))) {
        report.queued.push(view.id);
      }
    }
    for (const folder of this.#maildirFolders()) {
      // A Maildir folder names no account: its lifetime is over when the domain's generation differs.
      const current = snapshot.declared.get(folder.domain);
      const live = current !== undefined && current.generation === folder.generation;
      const over = !live && (current !== undefined || this.#seenFolder(folder.domain, folder.generation));
      if (!over) continue;
      await rm(folder.path, { recursive: true, force: true });
      report.maildirs.push(folder.path);
    }
    if (
      report.logOwners.length + report.quarantined.length + report.queued.length + report.maildirs.length >
      0
    ) {
      this.#opts.onPurged?.(report);
    }
  }

  #seenLifetime(owner: Owner): boolean {
    if (this.#seen.has(seenKey(owner))) return true;
    // A record from before owners were stamped names no account: any account's lifetime '' matches.
    return owner.accountId === "" && this.#seenFolder(owner.domain, owner.generation);
  }

  #seenFolder(domain: string, generation: string): boolean {
    const prefix = `${domain}\n${generation}\n`;
    for (const key of this.#seen) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** The mail root's lifetime folders (`<domain>` or `<domain>@<generation>`, see maildirOf). */
  #maildirFolders(): { path: string; domain: string; generation: string }[] {
    let names: string[];
    try {
      names = readdirSync(this.#opts.mailRoot);
    } catch {
      return [];
    }
    return names.map((name) => {
      // Domain names and generations hold no '@' (maildir.ts escapes it), so the first one splits.
      const at = name.indexOf("@");
      return {
        path: join(this.#opts.mailRoot, name),
        domain: at < 0 ? name : name.slice(0, at),
        generation: at < 0 ? "" : name.slice(at + 1),
      };
    });
  }
}

const seenKey = (o: Owner) => `${o.domain}\n${o.generation}\n${o.accountId}`;
