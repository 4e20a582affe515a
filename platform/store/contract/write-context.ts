/** Who writes and on what condition: the context and If-Match precondition every store write takes. */

/**
 * An If-Match precondition: one etag, several (any may match) or "*" (anything that exists). RFC 9110
 * §13.1.1: it fails when there is no current object.
 */
export type IfMatch = string | readonly string[];

/** True when `etag` satisfies `ifMatch`. */
export function etagMatches(ifMatch: IfMatch, etag: string): boolean {
  const list = typeof ifMatch === "string" ? [ifMatch] : ifMatch;
  return list.includes("*") || list.includes(etag);
}

/** Who writes, for the audit log. */
export interface WriteContext {
  /** Token id of the caller, or "system". */
  actor: string;
  /** The caller's role, recorded with the actor. */
  role?: string | null;
  requestId?: string;
}
