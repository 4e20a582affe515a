/** The store's Idempotency-Key records: refusing a replayed key, saving a write's response, reading and purging them. */

import type { IdempotencyInput, IdempotencyRecord } from "./contract/idempotency-store.ts";
import { StoreError } from "./contract/store-error.ts";
import { type SqlExecutor, str } from "./sql.ts";

/**
 * Inside a write: refuses (`idempotency_exists`) a key whose stored response has not expired by
 * `now()`, and deletes an expired one so the write may store its own. No key: does nothing.
 */
export async function checkIdempotency<R>(
  q: SqlExecutor,
  idem: IdempotencyInput<R> | undefined,
  now: () => Date,
): Promise<void> {
  if (!idem) return;
  const rows = await q.all("SELECT expires_at FROM idempotency WHERE token_id = $1 AND idem_key = $2", [
    idem.tokenId,
    idem.key,
  ]);
  const row = rows[0];
  if (!row) return;
  if (str(row.expires_at) > now().toISOString()) {
    throw new StoreError("idempotency_exists", "a response is already stored for this Idempotency-Key");
  }
  await q.run("DELETE FROM idempotency WHERE token_id = $1 AND idem_key = $2", [idem.tokenId, idem.key]);
}

/** Inside a write: stores the response `idem.response` makes of the write's result, created `now()`. No key: does nothing. */
export async function saveIdempotency<R>(
  q: SqlExecutor,
  idem: IdempotencyInput<R> | undefined,
  result: R,
  now: () => Date,
): Promise<void> {
  if (!idem) return;
  const response = idem.response(result);
  await q.run(
    `INSERT INTO idempotency (token_id, idem_key, request_hash, status, body, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      idem.tokenId,
      idem.key,
      idem.requestHash,
      response.status,
      JSON.stringify(response.body),
      now().toISOString(),
      idem.expiresAt,
    ],
  );
}

/** The stored response for a token's key, unless it expired by `at` (ISO time). */
export async function getIdempotency(
  q: SqlExecutor,
  tokenId: string,
  key: string,
  at: string,
): Promise<IdempotencyRecord | undefined> {
  const rows = await q.all(
    "SELECT * FROM idempotency WHERE token_id = $1 AND idem_key = $2 AND expires_at > $3",
    [tokenId, key, at],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    tokenId: str(r.token_id),
    key: str(r.idem_key),
    requestHash: str(r.request_hash),
    status: Number(r.status),
    body: JSON.parse(str(r.body)),
    createdAt: str(r.created_at),
    expiresAt: str(r.expires_at),
  };
}

/** Deletes every record expired by `at` (ISO time); returns how many went. */
export async function purgeIdempotency(q: SqlExecutor, at: string): Promise<number> {
  return q.run("DELETE FROM idempotency WHERE expires_at <= $1", [at]);
}
