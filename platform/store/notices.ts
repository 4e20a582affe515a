/** The store's notice outbox, written once over the SqlExecutor seam: mail the platform owes a person, queued by any process, sent by whichever engine claims it. */
import type { ClaimedNotice, OutboxNotice } from "./contract/notice-outbox-store.ts";
import type { SqlExecutor } from "./sql.ts";

/**
 * Adds a notice unless one with its key exists (sent or not), inside the caller's transaction.
 * Returns true when it was added.
 *
 * @example await enqueueNotice(q, { key: "login-failed/alice@example.com/493000", … }, new Date().toISOString())
 */
export async function enqueueNotice(q: SqlExecutor, notice: OutboxNotice, at: string): Promise<boolean> {
  const added = await q.run(
    `INSERT INTO notice_outbox (notice_key, account_id, domain, recipient, subject, body, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (notice_key) DO NOTHING`,
    [notice.key, notice.accountId, notice.domain, notice.to, notice.subject, notice.text, at],
  );
  return added > 0;
}

/**
 * Claims up to `limit` unsent notices for `claimant` until `until` (ISO): ones never claimed, or whose
 * claim ran out (its engine stopped before sending). A claimed notice is not handed to another
 * claimant before its claim ends, so engines sharing the store do not send it twice.
 */
export async function claimNotices(
  q: SqlExecutor,
  input: { claimant: string; at: string; until: string; limit: number },
): Promise<ClaimedNotice[]> {
  const rows = await q.all(
    `SELECT * FROM notice_outbox WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $1)
     ORDER BY created_at, notice_key LIMIT $2`,
    [input.at, input.limit],
  );
  const claimed: ClaimedNotice[] = [];
  for (const r of rows) {
    // Conditional on the row still being free: of two engines racing, one changes it.
    const won = await q.run(
      `UPDATE notice_outbox SET claimed_by = $2, claimed_until = $3
       WHERE notice_key = $1 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $4)`,
      [String(r.notice_key), input.claimant, input.until, input.at],
    );
    if (won === 0) continue;
    claimed.push({
      key: String(r.notice_key),
      accountId: String(r.account_id),
      domain: String(r.domain),
      to: String(r.recipient),
      subject: String(r.subject),
      text: String(r.body),
      createdAt: String(r.created_at),
    });
  }
  return claimed;
}

/** Marks a claimed notice sent (its body is dropped: only the key is needed from now, for the throttle). */
export async function markNoticeSent(
  q: SqlExecutor,
  input: { key: string; claimant: string; at: string; queueId: string | null },
): Promise<void> {
  await q.run(
    `UPDATE notice_outbox SET sent_at = $3, queue_id = $4, body = '' WHERE notice_key = $1 AND claimed_by = $2`,
    [input.key, input.claimant, input.at, input.queueId],
  );
}

/** Deletes notices sent before `before` (ISO); their keys stop throttling then. Returns how many. */
export async function purgeSentNotices(q: SqlExecutor, before: string): Promise<number> {
  return q.run("DELETE FROM notice_outbox WHERE sent_at IS NOT NULL AND sent_at < $1", [before]);
}
