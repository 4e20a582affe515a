/** What the store's write functions share: the steps they take from SqlStore (clock, audit, change log) and precondition checks. */
import { randomBytes } from "node:crypto";
import type { Change } from "./contract/change-feed-store.ts";
import { StoreError } from "./contract/store-error.ts";
import { etagMatches, type IfMatch } from "./contract/write-context.ts";
import type { AuditWriter } from "./login-lockouts.ts";
import type { SqlExecutor } from "./sql.ts";

/** The store-wide steps a write function takes inside the caller's transaction. */
export interface WriteSteps {
  /** The store's clock (timestamps, expiry). */
  now: () => Date;
  /** Writes one audit entry in the transaction. */
  audit: AuditWriter;
  /** Bumps the tenancy revision and logs the change; the caller holds the writers' lock. */
  bump: (q: SqlExecutor, change: Omit<Change, "revision">) => Promise<number>;
  /** Tells other nodes to drop cached reads, without a new revision. */
  announce: (q: SqlExecutor) => Promise<void>;
}

/** A new entity tag: 96 random bits. */
export function newEtag(): string {
  return randomBytes(12).toString("base64url");
}

/**
 * A new object lifetime's ID: 96 random bits, so it never repeats — not after a delete, not in a
 * store rebuilt from scratch next to an engine's old data directory (a counter would).
 */
export function newGeneration(): string {
  return `g${randomBytes(12).toString("hex")}`;
}

/**
 * Enforces a write's preconditions on what it read (`null`: nothing there) and throws the StoreError
 * the first one that fails calls for; `what` names the target in the message.
 */
export function checkPreconditions(
  current: { etag: string } | null,
  input: { ifMatch?: IfMatch; mustExist?: boolean; mustNotExist?: boolean },
  what: string,
): void {
  if (input.mustNotExist && current)
    throw new StoreError("already_exists", `${what} already exists`, current);
  if (input.mustExist && !current) throw new StoreError("not_found", `${what} does not exist`);
  if (input.ifMatch !== undefined) {
    // RFC 9110 §13.1.1: If-Match fails when there is no current representation.
    if (!current) throw new StoreError("precondition_failed", `${what} does not exist`);
    if (!etagMatches(input.ifMatch, current.etag)) {
      throw new StoreError("precondition_failed", `${what} has changed since etag ${input.ifMatch}`, current);
    }
  }
}
