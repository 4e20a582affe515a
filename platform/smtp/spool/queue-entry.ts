/** A message as the queue holds it, and the entries a previous run left in deferred/ and the journal. */
import type { DeferredFolder } from "./deferred-folder.ts";
import type { Journal, JournalRef, RecoveredRecord } from "./journal.ts";
import { initialTargets, type QueuedMessage, type TargetState } from "./queued-message.ts";

/** A message as the queue holds it: where its bytes are, what is still to deliver, when it is due. */
export interface QueueEntry {
  meta: QueuedMessage;
  ref: JournalRef | null;
  /** Set when the message moved out of the journal into deferred/. */
  deferredPath: string | null;
  /**
   * The journal record a deferred message left (done-marked without a sync): a delete that must
   * survive a power cut syncs that mark too, or recovery would find the record without its
   * deferred copy and deliver the message after all.
   */
  leftRef?: JournalRef;
  body: Buffer | null;
  pending: TargetState[];
  nextAttemptAt: number;
  running: boolean;
  deleted: boolean;
  /** When it became due (performance.now()): during a burst, delivery waits for the oldest. */
  dueSince: number;
}

/**
 * The entries a previous run left, in the order found: messages in deferred/, then the journal's
 * live records. A record whose message is in deferred/ too was moved there before a crash (its done
 * mark was lost): the deferred copy wins, and the record is marked done again. `known` holds the id
 * of every message found, so their body files are not taken for leftovers.
 * @example
 * const { journal, recovered } = await Journal.open(join(dir, "journal"));
 * const { entries, known } = recoverEntries(deferred, journal, recovered);
 */
export function recoverEntries(
  deferred: DeferredFolder,
  journal: Journal,
  recovered: RecoveredRecord[],
): { entries: QueueEntry[]; known: Set<string> } {
  const entries: QueueEntry[] = [];
  const byId = new Map<string, QueueEntry>();
  const add = (e: QueueEntry) => {
    entries.push(e);
    byId.set(e.meta.id, e);
  };
  const known = new Set<string>();
  for (const { meta, path, state } of deferred.recover()) {
    known.add(meta.id);
    add({
      meta,
      ref: null,
      deferredPath: path,
      body: null,
      pending: state?.pending ?? initialTargets(meta),
      nextAttemptAt: state?.nextAttemptAt ?? 0,
      running: false,
      deleted: false,
      dueSince: 0,
    });
  }
  for (const r of recovered) {
    const meta = r.meta as QueuedMessage;
    // Already moved to deferred/ before the crash (its done mark was lost): the deferred copy wins.
    if (known.has(meta.id)) {
      journal.markDone(r.ref);
      const e = byId.get(meta.id);
      if (e) e.leftRef = r.ref;
      continue;
    }
    known.add(meta.id);
    add({
      meta,
      ref: r.ref,
      deferredPath: null,
      body: null,
      pending: initialTargets(meta),
      nextAttemptAt: 0,
      running: false,
      deleted: false,
      dueSince: 0,
    });
  }
  return { entries, known };
}
