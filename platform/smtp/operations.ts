/** Operations on a running engine for the control plane: delivery queue, quarantine, message log, statistics. */
import { applyEdits } from "./content/headers.ts";
import type { DomainStatistics, LogEntry, LogQuery, MessageLog } from "./log.ts";
import type { QuarantineEntry, QuarantineQuery, QuarantineStore } from "./quarantine.ts";
import { newQueueId } from "./receive.ts";
import type { Queue, QueueView } from "./spool/queue.ts";

/**
 * What the operations API calls. Domain scoping (an account sees only its domains) is the API's
 * job: every list takes a domain filter and every entry names its domain.
 */
export interface SmtpOperations {
  listQueue(filter?: { domain?: string }): QueueView[];
  getQueued(id: string): QueueView | undefined;
  /** The queued message as it will be delivered. */
  queuedMessage(id: string): Promise<Buffer | undefined>;
  retryQueued(id: string): boolean;
  retryAllQueued(filter?: { domain?: string }): number;
  deleteQueued(id: string): Promise<boolean>;

  listQuarantine(query?: QuarantineQuery): QuarantineEntry[];
  getQuarantined(id: string): QuarantineEntry | undefined;
  quarantinedMessage(id: string): Promise<Buffer | undefined>;
  /** Delivers a held message to its recipients; resolves to the new queue ID, or undefined when unknown. */
  releaseQuarantined(id: string): Promise<string | undefined>;
  deleteQuarantined(id: string): Promise<boolean>;
  /** Deletes held messages past their quarantine days; returns their IDs. */
  purgeQuarantine(): Promise<string[]>;

  searchLog(query: LogQuery): LogEntry[];
  statistics(domain: string, from?: string, to?: string): DomainStatistics;
}

/** Builds the operations of an engine's parts. */
export function createOperations(deps: {
  queue: Queue;
  quarantine: QuarantineStore;
  log: MessageLog;
  now: () => number;
}): SmtpOperations {
  const { queue, quarantine, log } = deps;
  return {
    listQueue: (filter) => queue.list().filter((v) => !filter?.domain || v.domain === filter.domain),
    getQueued: (id) => queue.get(id),
    async queuedMessage(id) {
      const held = await queue.content(id);
      return held ? applyEdits(held.body, held.meta.edits) : undefined;
    },
    retryQueued: (id) => queue.retry(id),
    retryAllQueued(filter) {
      let n = 0;
      for (const v of queue.list())
        if ((!filter?.domain || v.domain === filter.domain) && queue.retry(v.id)) n++;
      return n;
    },
    async deleteQueued(id) {
      const ok = await queue.delete(id);
      if (ok) log.update(id, "deleted", "deleted from the delivery queue by an operator");
      return ok;
    },
    listQuarantine: (query) => quarantine.list(query),
    getQuarantined: (id) => quarantine.get(id),
    quarantinedMessage: (id) => quarantine.raw(id),
    async releaseQuarantined(id) {
      const held = await quarantine.read(id);
      if (!held) return undefined;
      const newId = newQueueId(deps.now());
      // Released mail is delivered as it was held, verdict headers included, to the original targets.
      await queue.accept(
        { ...held.message, id: newId, disposition: "deliver", origin: "release" },
        held.body,
      );
      await quarantine.delete(id);
      log.update(id, "released", `released as ${newId}`);
      return newId;
    },
    async deleteQuarantined(id) {
      const ok = await quarantine.delete(id);
      if (ok) log.update(id, "deleted", "deleted from the quarantine by an operator");
      return ok;
    },
    async purgeQuarantine() {
      const ids = await quarantine.purge(new Date(deps.now()));
      for (const id of ids) log.update(id, "deleted", "purged after quarantine days");
      return ids;
    },
    searchLog: (query) => log.search(query),
    statistics: (domain, from, to) => log.statistics(domain, from, to),
  };
}
