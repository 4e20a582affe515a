/** Users' password credentials: the current hash, the history kept against reuse, and forgetting both. */

import type { CredentialRecord } from "./contract/credential-store.ts";
import type { PutObjectInput } from "./contract/object-store.ts";
import { type SqlExecutor, str, strOrNull } from "./sql.ts";

/** The user's credential with its password history, newest first; without `accountId`, the first account's. */
export async function getCredential(
  q: SqlExecutor,
  userId: string,
  accountId?: string,
): Promise<CredentialRecord | undefined> {
  const rows =
    accountId === undefined
      ? await q.all("SELECT * FROM user_credentials WHERE user_id = $1 ORDER BY account_id LIMIT 1", [userId])
      : await q.all("SELECT * FROM user_credentials WHERE account_id = $1 AND user_id = $2", [
          accountId,
          userId,
        ]);
  const r = rows[0];
  if (!r) return undefined;
  const history = await q.all(
    "SELECT hash, set_at FROM password_history WHERE account_id = $1 AND user_id = $2 ORDER BY set_at DESC, hash",
    [str(r.account_id), userId],
  );
  return {
    accountId: str(r.account_id),
    userId,
    hash: str(r.hash),
    setAt: str(r.set_at),
    history: history.map((h) => ({ hash: str(h.hash), setAt: str(h.set_at) })),
    failedLogins: Number(r.failed_logins),
    lastFailedAt: strOrNull(r.last_failed_at),
    lockedUntil: strOrNull(r.locked_until),
  };
}

/**
 * Inside a write: sets the user's password hash at `now()`, adds it to the history and prunes the
 * history to what `credential.keep` asks (entries younger than `keep.days`, or among the newest `keep.count`).
 */
export async function setCredential(
  q: SqlExecutor,
  now: () => Date,
  accountId: string,
  userId: string,
  credential: NonNullable<PutObjectInput["credential"]>,
): Promise<void> {
  const at = now().toISOString();
  const updated = await q.run(
    "UPDATE user_credentials SET hash = $3, set_at = $4 WHERE account_id = $1 AND user_id = $2",
    [accountId, userId, credential.hash, at],
  );
  if (updated === 0) {
    await q.run("INSERT INTO user_credentials (account_id, user_id, hash, set_at) VALUES ($1, $2, $3, $4)", [
      accountId,
      userId,
      credential.hash,
      at,
    ]);
  }
  await q.run("INSERT INTO password_history (account_id, user_id, hash, set_at) VALUES ($1, $2, $3, $4)", [
    accountId,
    userId,
    credential.hash,
    at,
  ]);
  const cutoff = new Date(now().getTime() - credential.keep.days * 86_400_000).toISOString();
  await q.run(
    `DELETE FROM password_history WHERE account_id = $1 AND user_id = $2 AND set_at < $3 AND hash NOT IN (
       SELECT hash FROM password_history WHERE account_id = $1 AND user_id = $2
       ORDER BY set_at DESC, hash LIMIT $4)`,
    [accountId, userId, cutoff, credential.keep.count],
  );
}

/** Inside a write: deletes the user's credential and password history (the User is going). */
export async function forgetCredential(q: SqlExecutor, accountId: string, userId: string): Promise<void> {
  await q.run("DELETE FROM user_credentials WHERE account_id = $1 AND user_id = $2", [accountId, userId]);
  await q.run("DELETE FROM password_history WHERE account_id = $1 AND user_id = $2", [accountId, userId]);
}
