/** How a store operation fails: a stable code the API maps onto the error catalogue. */

/** Stable reasons a store operation fails; the API maps them onto the error catalogue. */
export type StoreErrorCode =
  | "not_found"
  | "already_exists"
  | "owned_elsewhere"
  | "precondition_failed"
  | "parent_missing"
  | "has_dependents"
  | "idempotency_exists"
  | "invalid_cursor"
  | "conflict"
  /** Creating the object would pass the account's limit for its kind (`AccountSpec.limits`). */
  | "limit_exceeded"
  /** The database cannot be reached or cannot answer now (see ../faults.ts); retrying later can succeed. */
  | "unavailable";

/**
 * A store failure with a stable `code` (match on `code`, not `instanceof`).
 *
 * @example
 * try { await store.putObject(input, ctx) } catch (e) { if (e.code === "precondition_failed") … }
 */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The current object/etag for precondition failures, when useful to the caller. */
  readonly current: unknown;
  /** The spec field the failure is about, when one is (`["addresses", 2]` for a shared address). */
  readonly path: (string | number)[] | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    current?: unknown,
    options?: ErrorOptions & { path?: (string | number)[] },
  ) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
    this.current = current;
    this.path = options?.path;
  }
}

/** True when `e` is a StoreError (by shape, so two loaded copies of this module agree). */
export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { name?: unknown }).name === "StoreError" &&
    (code === undefined || (e as { code?: unknown }).code === code)
  );
}
