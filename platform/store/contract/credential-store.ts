/** The store's password credentials: users' password hashes and history, never a password. */

/** One stored password hash (argon2id/scrypt PHC string) and when it was set. */
export interface PasswordHashEntry {
  hash: string;
  setAt: string;
}

/** A user's credential row: current hash, history for reuse checks, and the SMTP engine's login counters. */
export interface CredentialRecord {
  accountId: string;
  userId: string;
  hash: string;
  setAt: string;
  /** Newest first; includes the current hash. */
  history: PasswordHashEntry[];
  failedLogins: number;
  lastFailedAt: string | null;
  lockedUntil: string | null;
}

/** A new or updated password hash for a User, written in the same transaction as the User object. */
export interface CredentialInput {
  hash: string;
  /** Keep at least `count` newest history entries and every entry younger than `days`. */
  keep: { count: number; days: number };
}

/**
 * Users' password hashes. They are written with their User ({@link PutObjectInput.credential}); this
 * reads them.
 *
 * @example
 * const credential = await store.getCredential("ana@example.com"); // hash, history, lockout counters
 */
export interface CredentialStore {
  /** The user's credential; without `accountId` the user is looked up by its (globally unique) ID. */
  getCredential(userId: string, accountId?: string): Promise<CredentialRecord | undefined>;
}
