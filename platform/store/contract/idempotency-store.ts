/** The store's Idempotency-Key records: a write's response stored in its own transaction, replayed on retry. */

/** A stored response for an Idempotency-Key, replayed when the same token sends the same key again. */
export interface IdempotencyRecord {
  tokenId: string;
  key: string;
  requestHash: string;
  status: number;
  body: unknown;
  createdAt: string;
  expiresAt: string;
}

/**
 * Stores the response of a successful write under (token, key) in the write's own transaction, so a
 * retried request replays it. A record that already exists makes the write fail with
 * `idempotency_exists` and roll back; the caller then replays or rejects it.
 */
export interface IdempotencyInput<R> {
  tokenId: string;
  key: string;
  requestHash: string;
  expiresAt: string;
  /** Builds the stored response from the write's result; runs inside the transaction, must be pure. */
  response: (result: R) => { status: number; body: unknown };
}

/**
 * Idempotency-Key records. A write stores its own ({@link IdempotencyInput}); this reads and purges them.
 *
 * @example
 * const replay = await store.getIdempotency(tokenId, key); // undefined once expired
 */
export interface IdempotencyStore {
  /** The unexpired record for (token, key), if any. */
  getIdempotency(tokenId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Deletes expired idempotency records; returns how many. */
  purgeIdempotency(): Promise<number>;
}
