/** Operations on a running engine for the control plane: delivery queue, quarantine, message log, statistics — each scoped to one owner. */
import { applyEdits } from "./content/headers.ts";
import type { RspamdScorer } from "./content/rspamd.ts";
import type { RecipientCallout } from "./delivery/callout.ts";
import { composeNotice, type Notice } from "./delivery/notice.ts";
import type { Inject } from "./delivery/worker.ts";
import type { DomainStatistics, LogEntry, LogQuery, MessageLog } from "./message-log/entry.ts";
import { type MessageView, type Owner, viewOf, viewsOfMessage } from "./owners.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import { createQuarantineOperations, type QuarantineOperations } from "./quarantine/operations.ts";
import type { QuarantineStore } from "./quarantine/store.ts";
import type { Queue, QueueView } from "./spool/queue.ts";

/** rspamd did not learn a report (refused, unreachable): the API's 503; nothing else was done. */
export class LearningFailedError extends Error {
  readonly code = "MP_UNAVAILABLE";
}

/** Training refused because no rspamd with a controller scores this engine's mail (the API's 422). */
export class LearningUnavailableError extends Error {
  readonly code = "MP_FILTER_TRAINING_UNAVAILABLE";
}

/**
 * What became of a queued message reported as spam ({@link SmtpOperations.reportQueuedSpam}):
 * `deleted` — learned and removed; `unknown` — not queued (delivered, bounced, deleted) or not the
 * owner's; `delivering` — an attempt runs now, nothing done; `shared` — it also goes to another
 * account's recipients, nothing done (one tenant may not take another's mail out of the queue).
 */
export type QueuedSpamReport = "deleted" | "unknown" | "delivering" | "shared";

/** True when a message with `views` also goes to (or comes from) another account than `owner`'s. */
function sharedWithOthers(views: readonly MessageView[], owner: Owner): boolean {
  return views.some((v) => v.owner.accountId !== owner.accountId);
}

/**
 * What the operations API calls. Every read takes the owner — account, domain and the domain's
 * generation (see owners.ts) — and answers only with that owner's part: a message another account
 * also sees shows here with this owner's recipients only, and a deleted domain's records never
 * show for a later Domain of the same name. The API resolves the owner from the store.
 */
export interface SmtpOperations extends QuarantineOperations {
  listQueue(owner: Owner): QueueView[];
  /** The queued message as `owner` sees it; undefined when unknown or not the owner's. */
  getQueued(id: string, owner: Owner): QueueView | undefined;
  /** The queued message as it will be delivered (check {@link getQueued} first). */
  queuedMessage(id: string): Promise<Buffer | undefined>;
  retryQueued(id: string): boolean;
  retryAllQueued(owner: Owner): number;
  /**
   * Removes a queued message of `owner` without delivering it (synced before it resolves): `deleted`;
   * `unknown` when it is not queued or not the owner's; `shared` — nothing done — when it also goes
   * to another account's recipients (one tenant may not take another's mail out of the queue).
   */
  deleteQueued(id: string, owner: Owner): Promise<"deleted" | "unknown" | "shared">;
  /**
   * "Delete and report as spam": teaches rspamd that the queued message is spam, then removes it
   * from the queue (synced: a power cut does not bring it back). Learning comes first so a failure
   * leaves the message queued and the report can be sent again (rspamd takes a message it already
   * learned as learned). Counted in the owner's statistics as a spam report.
   * @throws LearningUnavailableError without rspamd; Error when rspamd refuses (the message stays queued)
   */
  reportQueuedSpam(id: string, owner: Owner): Promise<QueuedSpamReport>;

  searchLog(owner: Owner, query: LogQuery): Promise<LogEntry[]>;
  /** Counts over [from, to), with days split at midnight of `timezone` (the domain's). */
  statistics(
    owner: Owner,
    range: { from?: string; to?: string },
    timezone: string,
  ): Promise<DomainStatistics>;

  /** True when reports reach a spam filter that learns (rspamd with its controller). */
  canLearn(): boolean;
  /**
   * Teaches rspamd's Bayes classifier that `raw` (a whole RFC 5322 message) is spam or ham, and
   * counts the report in `owner`'s statistics (`spamReports` / `hamReports`).
   * @throws LearningUnavailableError without rspamd; Error when rspamd refuses (nothing counted)
   */
  learn(kind: "spam" | "ham", raw: Buffer, owner: Owner): Promise<void>;

  /** Forgets the recipient callout answers cached for `domain`; returns how many (0 without callouts). */
  clearCalloutCache(domain: string): number;

  /**
   * Queues a notice to a person (login alert, expiry warning, digest, report, reset link) From: the
   * hosted domain's `notificationFrom`, signed with its DKIM key, with the null reverse-path. Resolves
   * to the queue ID once the message is durable; undefined when the recipient refuses it (logged in
   * the domain's message log like a refused auto-reply).
   * @throws Error when `notice.domain` is not hosted here
   */
  sendNotice(notice: Notice): Promise<string | undefined>;
}

/** Builds the operations of an engine's parts. */
export function createOperations(deps: {
  queue: Queue;
  quarantine: QuarantineStore;
  log: MessageLog;
  now: () => number;
  /** The policy in force, for releases. */
  snapshot: () => PolicySnapshot;
  /** The engine's recipient callouts, when enabled. */
  callout?: RecipientCallout;
  /** The engine's rspamd, when mail is scored by one: reports train its Bayes classifier. */
  rspamd?: RspamdScorer;
  /** Queues a message the engine wrote (see {@link Inject}). */
  inject: Inject;
  /** The engine's host name (Message-ID of notices). */
  hostname: string;
}): SmtpOperations {
  const { queue, quarantine, log } = deps;
  /** The queue view as `owner` sees it: its own recipients only. */
  const queuedFor = (view: QueueView, owner: Owner): QueueView | undefined => {
    const meta = queue.meta(view.id);
    const mine = meta ? viewOf(viewsOfMessage(meta), owner) : undefined;
    if (!mine) return undefined;
    return {
      ...view,
      domain: owner.domain,
      recipients: view.recipients.filter((r) => mine.recipients.includes(r)),
    };
  };
  /** The queued message as it will be delivered (header edits applied). */
  const queuedMessage = async (id: string) => {
    const held = await queue.content(id);
    return held ? applyEdits(held.body, held.meta.edits) : undefined;
  };

  const canLearn = () => deps.rspamd?.controllerUrl !== undefined;
  const learn = async (kind: "spam" | "ham", raw: Buffer, owner: Owner) => {
    if (!canLearn()) {
      throw new LearningUnavailableError(
        "spam reports train rspamd's Bayes classifier, and this engine scores mail without rspamd (start it with rspamd installed, or --rspamd-url with --rspamd-controller-url)",
      );
    }
    await deps.rspamd!.learn(kind, [raw]).catch((err: Error) => {
      throw new LearningFailedError(`rspamd did not learn the message: ${err.message}`);
    });
    log.report(owner, kind, new Date(deps.now()).toISOString());
  };
  /** Reports in flight, by queued message ID. */
  const reporting = new Map<string, Promise<void>>();
  /** See {@link SmtpOperations.reportQueuedSpam}. */
  async function reportQueuedSpamOnce(id: string, owner: Owner): Promise<QueuedSpamReport> {
    const meta = queue.meta(id);
    const views = meta ? viewsOfMessage(meta) : [];
    if (!meta || !viewOf(views, owner)) return "unknown";
    if (sharedWithOthers(views, owner)) return "shared";
    if (queue.running(id)) return "delivering";
    const raw = await queuedMessage(id);
    if (!raw) return "unknown";
    await learn("spam", raw, owner);
    const outcome = await queue.deleteIdle(id);
    if (outcome === "deleted") {
      log.update(id, views, "deleted", "reported as spam and deleted from the delivery queue by an operator");
    }
    return outcome;
  }

  return {
    ...createQuarantineOperations({ queue, quarantine, log, now: deps.now, snapshot: deps.snapshot, learn }),
    canLearn,
    learn,
    async reportQueuedSpam(id, owner) {
      // One report per queued message at a time: a second one (a double click, two operators)
      // waits for the first and then finds the message gone (404), not learned or counted twice.
      for (let running = reporting.get(id); running; running = reporting.get(id)) await running;
      const report = reportQueuedSpamOnce(id, owner);
      const settled = report.then(
        () => {},
        () => {},
      );
      reporting.set(id, settled);
      try {
        return await report;
      } finally {
        if (reporting.get(id) === settled) reporting.delete(id);
      }
    },
    clearCalloutCache: (domain) => deps.callout?.clear(domain) ?? 0,
    async sendNotice(notice) {
      const home = deps.snapshot().domains.get(notice.domain);
      if (!home) throw new Error(`a notice is sent for a hosted domain, and ${notice.domain} is not one`);
      const date = new Date(deps.now());
      const body = await composeNotice(notice, {
        from: home.notificationFrom,
        hostname: deps.hostname,
        date,
      });
      return await deps.inject({
        origin: "notice",
        to: notice.to,
        body,
        domain: home.name,
        subject: notice.subject,
      });
    },
    listQueue: (owner) => queue.list().flatMap((v) => queuedFor(v, owner) ?? []),
    getQueued(id, owner) {
      const view = queue.get(id);
      return view ? queuedFor(view, owner) : undefined;
    },
    queuedMessage,
    retryQueued: (id) => queue.retry(id),
    retryAllQueued(owner) {
      let n = 0;
      for (const v of queue.list()) if (queuedFor(v, owner) && queue.retry(v.id)) n++;
      return n;
    },
    async deleteQueued(id, owner) {
      const meta = queue.meta(id);
      const views = meta ? viewsOfMessage(meta) : [];
      if (!meta || !viewOf(views, owner)) return "unknown";
      if (sharedWithOthers(views, owner)) return "shared";
      if (!(await queue.delete(id))) return "unknown";
      log.update(id, views, "deleted", "deleted from the delivery queue by an operator");
      return "deleted";
    },
    searchLog: (owner, query) => log.search(owner, query),
    statistics: (owner, range, timezone) => log.statistics(owner, range, timezone),
  };
}
