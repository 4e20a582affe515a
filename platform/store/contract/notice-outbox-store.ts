/** The store's notice outbox: mail the platform owes a person, queued by any process, sent by whichever engine claims it. */

/**
 * A notice to send. `key` is its identity: a second notice with the same key is dropped, which is
 * how throttles (one failed-login alert per user and hour: the hour is in the key) and once-only
 * mails (one expiry warning per password and warning day) hold across processes and restarts.
 */
export interface OutboxNotice {
  key: string;
  accountId: string;
  /** The hosted domain it is sent for (its notification address is the From:). */
  domain: string;
  to: string;
  subject: string;
  text: string;
}

/** A notice an engine claimed for sending. */
export interface ClaimedNotice extends OutboxNotice {
  createdAt: string;
}

/**
 * The notice outbox (see ../notices.ts): any process adds a notice, one engine claims and sends it.
 *
 * @example
 * const claimed = await store.claimNotices({ claimant: "engine-1", forMs: 60_000, limit: 20 });
 */
export interface NoticeOutboxStore {
  /**
   * Adds a notice to the outbox unless one with its key exists (see ../notices.ts); true when added.
   * Login alerts are added by {@link LoginAuditStore.recordLoginAttempt} and
   * {@link LoginLockoutStore.recordLoginFailure} themselves.
   */
  enqueueNotice(notice: OutboxNotice): Promise<boolean>;
  /** Claims up to `limit` unsent notices for `claimant` for `forMs` (an engine sends them; see ../notices.ts). */
  claimNotices(input: { claimant: string; forMs: number; limit: number }): Promise<ClaimedNotice[]>;
  /** Marks a claimed notice sent (or dropped: `queueId` null); its key keeps throttling until purged. */
  markNoticeSent(input: { key: string; claimant: string; queueId: string | null }): Promise<void>;
}
