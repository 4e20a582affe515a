/** The store's record of report sends (quarantine digests, domain reports), written over the SqlExecutor seam: each goes out once per period, whichever engine sends it. */
import type { SqlExecutor } from "./sql.ts";

/**
 * Claims the send `key` for `claimant` until `until` (ISO), inside the caller's transaction: true when
 * the key was never claimed, or its claim ran out unsent (the engine holding it stopped before
 * queueing the notice); false when it was sent, or another claimant holds it now. Of two engines
 * racing for one key, one wins: the insert meets the primary key, the takeover is conditional.
 *
 * @example if (await claimReportSend(q, { key: "digest|acme|example.com|g1|ana@example.com|2026-W49", claimant, at, until })) { … }
 */
export async function claimReportSend(
  q: SqlExecutor,
  input: { key: string; claimant: string; at: string; until: string },
): Promise<boolean> {
  const added = await q.run(
    `INSERT INTO report_sends (send_key, claimed_by, claimed_until, created_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT (send_key) DO NOTHING`,
    [input.key, input.claimant, input.until, input.at],
  );
  if (added > 0) return true;
  const taken = await q.run(
    `UPDATE report_sends SET claimed_by = $2, claimed_until = $3
     WHERE send_key = $1 AND sent_at IS NULL AND claimed_until <= $4`,
    [input.key, input.claimant, input.until, input.at],
  );
  return taken > 0;
}

/** Of `keys`, those already sent (marked, or imported): the sender need not build what they would send. */
export async function sentReportSends(q: SqlExecutor, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await q.all<{ send_key: string }>(
    `SELECT send_key FROM report_sends WHERE sent_at IS NOT NULL AND send_key IN (${keys.map((_, i) => `$${i + 1}`).join(", ")})`,
    [...keys],
  );
  return new Set(rows.map((r) => r.send_key));
}

/** Marks a claimed send done (`queueId` null: the recipient refused the notice); it is never claimed again. */
export async function markReportSent(
  q: SqlExecutor,
  input: { key: string; claimant: string; at: string; queueId: string | null },
): Promise<void> {
  await q.run("UPDATE report_sends SET sent_at = $3, queue_id = $4 WHERE send_key = $1 AND claimed_by = $2", [
    input.key,
    input.claimant,
    input.at,
    input.queueId,
  ]);
}

/**
 * Records sends made before the store kept them (keys of an engine's old `reports-sent.log`) as sent;
 * keys already present are left alone. Returns how many were added.
 */
export async function importReportSends(q: SqlExecutor, keys: string[], at: string): Promise<number> {
  let added = 0;
  for (const key of keys) {
    added += await q.run(
      `INSERT INTO report_sends (send_key, claimed_by, claimed_until, sent_at, created_at)
       VALUES ($1, 'imported', $2, $2, $2) ON CONFLICT (send_key) DO NOTHING`,
      [key, at],
    );
  }
  return added;
}

/** Deletes the record of sends first claimed before `before` (ISO): their periods are long over. Returns how many. */
export async function purgeReportSends(q: SqlExecutor, before: string): Promise<number> {
  return q.run("DELETE FROM report_sends WHERE created_at < $1", [before]);
}
