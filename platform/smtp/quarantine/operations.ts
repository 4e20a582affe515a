/** The held messages' operations (quarantine): release, delete, and both as reports to the spam filter, each in its message's turn and for one owner's copies. */
import type { MessageLog } from "../message-log/entry.ts";
import { narrowViews, type Owner, viewOf, viewsOfMessage } from "../owners.ts";
import { rcptTo } from "../phases/rcpt-to.ts";
import { replyLine } from "../phases/result.ts";
import type { PolicySnapshot } from "../policy/snapshot.ts";
import { newQueueId } from "../receive.ts";
import { type ConnectionContext, newTransaction } from "../session.ts";
import type { Queue, QueuedMessage } from "../spool/queue.ts";
import type { QuarantineEntry, QuarantineQuery, QuarantineStore } from "./store.ts";

/** A release refused because no recipient of the held message accepts mail any more (the API's 409). */
export class ReleaseRefusedError extends Error {
  readonly code = "MP_CONFLICT";
}

/** Those of `recipients` a held message is still held for in `owner`'s view (one account never acts on another's copy). */
function heldFor(message: QueuedMessage, owner: Owner, recipients: readonly string[]): string[] {
  const wanted = new Set(recipients.map((r) => r.toLowerCase()));
  return viewOf(viewsOfMessage(message), owner)?.recipients.filter((r) => wanted.has(r.toLowerCase())) ?? [];
}

/**
 * Resolves a held message's recipients again, as RCPT TO would now, for the client that sent it:
 * users disabled or deleted, aliases changed or removed since it was held are honoured. Returns the
 * recipients that still accept it and the refusal lines of the others.
 * @example resolveRecipientsAgain(snapshot, held.message) // { recipients: [...], refused: ["<bob@…>: 550 5.2.1 …"] }
 */
export function resolveRecipientsAgain(
  snapshot: PolicySnapshot,
  message: QueuedMessage,
): { recipients: QueuedMessage["recipients"]; refused: string[] } {
  const c = message.client;
  const conn: ConnectionContext = {
    id: `release-${message.id}`,
    listener: c.listener === "internal" ? "submission" : c.listener,
    remoteAddress: c.ip,
    helo: c.helo,
    secure: c.tls,
    user: c.user ? { address: c.user, accountId: "", domain: c.user.split("@")[1] ?? "" } : null,
  };
  const tx = newTransaction(message.sender, null);
  const recipients: QueuedMessage["recipients"] = [];
  const refused: string[] = [];
  for (const r of message.recipients) {
    const verdict = rcptTo(snapshot, conn, tx, r.rcpt);
    if (verdict.action === "accept") {
      recipients.push({ rcpt: r.rcpt, address: verdict.value.address, targets: verdict.value.targets });
    } else if (verdict.action === "reject") {
      refused.push(`<${r.rcpt}>: ${replyLine(verdict)}`);
    } else {
      // A temporary answer (the transaction grouping's 452) does not apply to one held message.
      recipients.push(r);
    }
  }
  return { recipients, refused };
}

/** What the operations API calls on held messages; part of {@link SmtpOperations} (operations.ts). */
export interface QuarantineOperations {
  listQuarantine(query: QuarantineQuery & { owner: Owner }): QuarantineEntry[];
  getQuarantined(id: string, owner: Owner): QuarantineEntry | undefined;
  quarantinedMessage(id: string): Promise<Buffer | undefined>;
  /**
   * Delivers a held message to the recipients that accept it now (RCPT TO resolved again); resolves to
   * the new queue ID, or undefined when unknown. The message is durable in the queue before its
   * quarantine copy is deleted.
   * @throws ReleaseRefusedError when no recipient accepts it any more (it stays held).
   */
  releaseQuarantined(id: string): Promise<string | undefined>;
  /**
   * Releases a held message of `owner` to one of its recipients only (a digest's release link): the
   * other recipients' copy stays held. Resolves to the new queue ID, or undefined when the message is
   * not held for `recipient` (unknown, not the owner's, already released to them): a second call
   * delivers nothing. Runs one at a time with every other release of the same message.
   * @throws ReleaseRefusedError when the recipient does not accept the message now (it stays held).
   */
  releaseQuarantinedTo(id: string, owner: Owner, recipient: string): Promise<string | undefined>;
  /**
   * "Release as ham": teaches rspamd that the held message is ham (counted in `owner`'s statistics),
   * then releases it as {@link releaseQuarantined} does. A release of the message already in flight
   * is shared, without learning or counting again: `learned` is then null.
   * @throws LearningUnavailableError without rspamd, LearningFailedError when rspamd refuses (still
   *   held), ReleaseRefusedError when no recipient accepts it (nothing learned, still held)
   */
  releaseAsHam(
    id: string,
    owner: Owner,
  ): Promise<{ queueId: string | undefined; learned: { size: number } | null }>;
  deleteQuarantined(id: string): Promise<boolean>;
  /**
   * Deletes `owner`'s copies of a held message for `recipients` only (a mail user's own addresses):
   * the message stays held for its other recipients, and goes when none is left. Durable before it
   * resolves; waits for a release of the message in flight. False when nothing of it was held for them.
   */
  deleteQuarantinedFor(id: string, owner: Owner, recipients: readonly string[]): Promise<boolean>;
  /**
   * A mail user's "release and report as not spam": teaches rspamd that the held message is ham
   * (counted once in `owner`'s statistics), then releases it to those of `recipients` (the user's own
   * addresses) held in `owner`'s view — the whole message when they are all its recipients, else
   * their copies only, the others' staying held. Learned before anything changes, in turn with every
   * other release and delete of the message: a second call (a double click) finds nothing held for
   * them and resolves to undefined without learning again.
   * @throws LearningUnavailableError without rspamd, LearningFailedError when rspamd refuses (still
   *   held), ReleaseRefusedError when none of `recipients` accepts it now (nothing learned, still held)
   */
  releaseAsHamTo(
    id: string,
    owner: Owner,
    recipients: readonly string[],
  ): Promise<{ queueId: string; size: number } | undefined>;
  /**
   * A mail user's "delete and report as spam": teaches rspamd that the held message is spam (counted
   * once in `owner`'s statistics), then deletes it for `recipients` as {@link deleteQuarantinedFor}
   * does. Learned first, in turn with the message's other releases and deletes; undefined (nothing
   * learned) when nothing of it is held for them.
   * @throws LearningUnavailableError without rspamd, LearningFailedError when rspamd refuses (still held)
   */
  deleteAsSpamFor(
    id: string,
    owner: Owner,
    recipients: readonly string[],
  ): Promise<{ size: number } | undefined>;
  /**
   * An operator's "delete and report as spam": teaches rspamd that the held message is spam (counted
   * in `owner`'s statistics), then deletes it, in the message's turn. Resolves to the learned size,
   * or undefined (nothing learned) when the message is not held; a second call waiting for the first
   * finds it gone.
   * @throws LearningUnavailableError without rspamd, Error when rspamd refuses (nothing changed, still held)
   */
  deleteQuarantinedAsSpam(id: string, owner: Owner): Promise<{ size: number } | undefined>;
  /** Deletes held messages past their quarantine days; returns their IDs. */
  purgeQuarantine(): Promise<string[]>;
}

/**
 * The quarantine operations of an engine. `learn` teaches rspamd and counts the report (operations.ts);
 * every release and delete of one held message runs in that message's turn.
 */
export function createQuarantineOperations(deps: {
  queue: Queue;
  quarantine: QuarantineStore;
  log: MessageLog;
  now: () => number;
  /** The policy in force, for releases. */
  snapshot: () => PolicySnapshot;
  learn: (kind: "spam" | "ham", raw: Buffer, owner: Owner) => Promise<void>;
}): QuarantineOperations {
  const { queue, quarantine, log, learn } = deps;
  /** Whole-message releases in flight, by held message ID (a second call shares the first's answer). */
  const releasing = new Map<string, Promise<string | undefined>>();
  /** The last piece of work queued on each held message, by ID; see {@link inTurn}. */
  const heldTurns = new Map<string, Promise<void>>();
  /**
   * Runs `work` on held message `id` after the work already queued on it: releases and deletes all
   * read the held copy and then rewrite or remove it, so two at once could bring back a recipient
   * the other had just taken out (or deliver one twice).
   */
  async function inTurn<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = heldTurns.get(id) ?? Promise.resolve();
    const result = before.then(work);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    heldTurns.set(id, done);
    try {
      return await result;
    } finally {
      if (heldTurns.get(id) === done) heldTurns.delete(id);
    }
  }
  /** Re-queues a held message for the recipients that accept it now; see {@link QuarantineOperations.releaseQuarantined}. */
  async function releaseOnce(id: string): Promise<string | undefined> {
    const held = await quarantine.read(id);
    if (!held) return undefined;
    const { recipients, refused } = resolveRecipientsAgain(deps.snapshot(), held.message);
    if (recipients.length === 0)
      throw new ReleaseRefusedError(`no recipient accepts message ${id} now: ${refused.join("; ")}`);
    const newId = newQueueId(deps.now());
    // Released mail is delivered as it was held, verdict headers included. Its body goes into the
    // journal with it (never a body file: the quarantine copy is the only one left), and the copy
    // is deleted only once the queue made it durable.
    const { bodyFile: _gone, ...message } = held.message;
    await queue.accept(
      { ...message, id: newId, recipients, disposition: "deliver", origin: "release" },
      held.body,
    );
    await quarantine.delete(id);
    const notTo = refused.length > 0 ? `; not to ${refused.join("; ")}` : "";
    log.update(id, viewsOfMessage(held.message), "released", `released as ${newId}${notTo}`);
    return newId;
  }

  /** Re-queues a held message for one recipient; see {@link QuarantineOperations.releaseQuarantinedTo}. */
  async function releaseToOnce(id: string, owner: Owner, recipient: string): Promise<string | undefined> {
    const held = await quarantine.read(id);
    if (!held) return undefined;
    const wanted = recipient.toLowerCase();
    const mine = viewOf(viewsOfMessage(held.message), owner);
    // Only a recipient of this owner's view: a link of one account never releases another's copy.
    if (!mine?.recipients.some((r) => r.toLowerCase() === wanted)) return undefined;
    const to = held.message.recipients.filter((r) => r.address.toLowerCase() === wanted);
    const rest = held.message.recipients.filter((r) => r.address.toLowerCase() !== wanted);
    const { recipients, refused } = resolveRecipientsAgain(deps.snapshot(), {
      ...held.message,
      recipients: to,
    });
    if (recipients.length === 0)
      throw new ReleaseRefusedError(`${recipient} does not accept message ${id} now: ${refused.join("; ")}`);
    const newId = newQueueId(deps.now());
    const { bodyFile: _gone, ...message } = held.message;
    const views = narrowViews(viewsOfMessage(held.message), [wanted]);
    // Durable in the queue first, then taken out of the held copy: a crash between the two leaves it
    // held for the recipient as well (a second release would deliver again), never lost.
    await queue.accept(
      {
        ...message,
        ...(message.views ? { views } : {}),
        id: newId,
        recipients,
        disposition: "deliver",
        origin: "release",
      },
      held.body,
    );
    if (rest.length === 0) await quarantine.delete(id);
    else await quarantine.keepFor(id, rest);
    log.update(id, views, "released", `released to ${wanted} as ${newId}`);
    return newId;
  }

  /** Takes `owner`'s copies for `recipients` out of a held message; see {@link QuarantineOperations.deleteQuarantinedFor}. */
  async function deleteForOnce(
    id: string,
    owner: Owner,
    recipients: readonly string[],
    why = "deleted from the quarantine",
  ): Promise<boolean> {
    const held = await quarantine.read(id);
    if (!held) return false;
    const wanted = new Set(recipients.map((r) => r.toLowerCase()));
    const mine = viewOf(viewsOfMessage(held.message), owner);
    // Only addresses of this owner's view: one account never deletes another's copy.
    const gone = mine?.recipients.filter((r) => wanted.has(r.toLowerCase())) ?? [];
    if (gone.length === 0) return false;
    const goneSet = new Set(gone.map((r) => r.toLowerCase()));
    const rest = held.message.recipients.filter((r) => !goneSet.has(r.address.toLowerCase()));
    if (rest.length === 0) await quarantine.delete(id);
    else await quarantine.keepFor(id, rest);
    log.update(
      id,
      narrowViews(viewsOfMessage(held.message), gone),
      "deleted",
      `${why} for ${gone.join(", ")} by the recipient`,
    );
    return true;
  }

  return {
    listQuarantine: (query) => quarantine.list(query),
    getQuarantined: (id, owner) => quarantine.get(id, owner),
    quarantinedMessage: (id) => quarantine.raw(id),
    async releaseAsHam(id, owner) {
      const running = releasing.get(id);
      if (running) return { queueId: await running, learned: null };
      let learned: { size: number } | null = null;
      const release = inTurn(id, async () => {
        const held = await quarantine.read(id);
        if (!held) return undefined;
        // Refused before learning: a release that cannot happen reports nothing (the user's as well).
        const { recipients, refused } = resolveRecipientsAgain(deps.snapshot(), held.message);
        if (recipients.length === 0) {
          throw new ReleaseRefusedError(`no recipient accepts message ${id} now: ${refused.join("; ")}`);
        }
        // Learned before the release: the quarantine copy is the only one, gone once released.
        const raw = await quarantine.raw(id);
        if (!raw) return undefined;
        await learn("ham", raw, owner);
        learned = { size: raw.length };
        return await releaseOnce(id);
      }).finally(() => releasing.delete(id));
      releasing.set(id, release);
      return { queueId: await release, learned };
    },
    releaseQuarantined(id) {
      // One release per held message at a time: a second call (a double click, two operators) gets
      // the first one's answer instead of queueing a second copy while the first is in flight.
      const running = releasing.get(id);
      if (running) return running;
      const release = inTurn(id, () => releaseOnce(id)).finally(() => releasing.delete(id));
      releasing.set(id, release);
      return release;
    },
    releaseQuarantinedTo: (id, owner, recipient) => inTurn(id, () => releaseToOnce(id, owner, recipient)),
    deleteQuarantined: (id) =>
      // A delete racing a release waits for it: the message then is in the queue, not held.
      inTurn(id, async () => {
        const held = await quarantine.read(id);
        const ok = await quarantine.delete(id);
        if (ok && held) {
          log.update(
            id,
            viewsOfMessage(held.message),
            "deleted",
            "deleted from the quarantine by an operator",
          );
        }
        return ok;
      }),
    deleteQuarantinedFor: (id, owner, recipients) => inTurn(id, () => deleteForOnce(id, owner, recipients)),
    releaseAsHamTo: (id, owner, recipients) =>
      inTurn(id, async () => {
        const held = await quarantine.read(id);
        const to = held ? heldFor(held.message, owner, recipients) : [];
        if (!held || to.length === 0) return undefined;
        const wanted = new Set(to.map((r) => r.toLowerCase()));
        // Refused before learning: a release that cannot happen reports nothing.
        const { recipients: accepted, refused } = resolveRecipientsAgain(deps.snapshot(), {
          ...held.message,
          recipients: held.message.recipients.filter((r) => wanted.has(r.address.toLowerCase())),
        });
        if (accepted.length === 0)
          throw new ReleaseRefusedError(
            `no address of yours accepts message ${id} now: ${refused.join("; ")}`,
          );
        const raw = await quarantine.raw(id);
        if (!raw) return undefined;
        // Learned before the release: the held copy is the only one, and rspamd refusing leaves it held.
        await learn("ham", raw, owner);
        let queueId: string | undefined;
        if (held.message.recipients.every((r) => wanted.has(r.address.toLowerCase()))) {
          queueId = await releaseOnce(id);
        } else {
          // An address of theirs that refuses it now keeps its copy held (the others' copies stay too).
          const skipRefused = (err: Error) => {
            if (err instanceof ReleaseRefusedError) return undefined;
            throw err;
          };
          for (const r of to) queueId = (await releaseToOnce(id, owner, r).catch(skipRefused)) ?? queueId;
        }
        return queueId ? { queueId, size: raw.length } : undefined;
      }),
    deleteAsSpamFor: (id, owner, recipients) =>
      inTurn(id, async () => {
        const held = await quarantine.read(id);
        if (!held || heldFor(held.message, owner, recipients).length === 0) return undefined;
        const raw = await quarantine.raw(id);
        if (!raw) return undefined;
        // Learned before the delete: rspamd refusing leaves the message held, to be reported again.
        await learn("spam", raw, owner);
        const deleted = await deleteForOnce(
          id,
          owner,
          recipients,
          "reported as spam and deleted from the quarantine",
        );
        return deleted ? { size: raw.length } : undefined;
      }),
    deleteQuarantinedAsSpam: (id, owner) =>
      inTurn(id, async () => {
        const held = await quarantine.read(id);
        const raw = held ? await quarantine.raw(id) : undefined;
        if (!held || !raw) return undefined;
        // Learned before the delete: rspamd refusing leaves the message held, to be reported again.
        await learn("spam", raw, owner);
        if (!(await quarantine.delete(id))) return undefined;
        log.update(
          id,
          viewsOfMessage(held.message),
          "deleted",
          "reported as spam and deleted from the quarantine by an operator",
        );
        return { size: raw.length };
      }),
    async purgeQuarantine() {
      return await purgeExpired(quarantine, log, deps.now);
    },
  };
}

/** Deletes held messages past their quarantine days and marks them in each view's log; returns their IDs. */
export async function purgeExpired(
  quarantine: QuarantineStore,
  log: MessageLog,
  now: () => number,
): Promise<string[]> {
  const expired = quarantine.list().filter((e) => e.expiresAt <= new Date(now()).toISOString());
  const ids: string[] = [];
  for (const e of expired) {
    const held = await quarantine.read(e.id);
    if (!(await quarantine.delete(e.id))) continue;
    ids.push(e.id);
    if (held) log.update(e.id, viewsOfMessage(held.message), "deleted", "purged after quarantine days");
  }
  return ids;
}
