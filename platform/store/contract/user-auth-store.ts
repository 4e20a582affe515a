/** The store's user sign-in state: sessions, TOTP enrolments and recovery codes, application passwords. */
import type { AppPasswordScope, SessionStage } from "../../../sdk/src/models/session.ts";
import type { WriteContext } from "./write-context.ts";

/** What a session may do: `active` is signed in; the others allow one step only. */
export type UserSessionStage = SessionStage;

/** A stored user session (times RFC 3339). Only the sha256 of its secret is kept. */
export interface UserSessionRecord {
  id: string;
  accountId: string;
  userId: string;
  stage: UserSessionStage;
  ip: string;
  createdAt: string;
  lastSeenAt: string;
  revokedAt: string | null;
}

/** Input of {@link UserAuthStore.createUserSession}. */
export interface NewUserSession {
  id: string;
  secretHash: string;
  accountId: string;
  userId: string;
  stage: UserSessionStage;
  ip: string;
  /** The present (RFC 3339): created and last seen. */
  at: string;
  /** A session this one replaces (a finished step): revoked in the same transaction. */
  replaces?: string;
}

/** A user's TOTP enrolment; the secret stays sealed (see platform/api/sealing.ts). */
export interface UserTotpRecord {
  accountId: string;
  userId: string;
  /** JSON of a SealedText. */
  sealedSecret: string;
  createdAt: string;
  /** null until the user proved a code (enrolment pending). */
  confirmedAt: string | null;
  /** The last RFC 6238 time step accepted; a code of this step or an earlier one is refused. */
  lastStep: number | null;
  /** Recovery codes not used yet. */
  recoveryCodesLeft: number;
}

/** A stored application password; only the sha256 of its secret is kept. */
export interface AppPasswordRecord {
  id: string;
  accountId: string;
  userId: string;
  name: string;
  scopes: AppPasswordScope[];
  /** The visible start of the secret, to recognise it. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/**
 * User sign-in state in the store. Every change a user makes (sign-in, sign-out, TOTP, application
 * passwords) is audited in its own transaction; a user's rows go with the User when it is deleted.
 */
export interface UserAuthStore {
  /** Stores a session (and revokes `replaces`), audited `sign-in` (or `sign-in-step`). */
  createUserSession(input: NewUserSession, ctx: WriteContext): Promise<void>;
  /** The session whose secret hashes to `secretHash`, revoked or not. */
  findUserSession(secretHash: string): Promise<UserSessionRecord | undefined>;
  /** Marks the session used at `at` (its idle timeout restarts). */
  touchUserSession(id: string, at: string): Promise<void>;
  /** Revokes one session (sign-out), audited `sign-out`. */
  endUserSession(id: string, at: string, ctx: WriteContext): Promise<void>;
  /** Revokes every session of a user but `exceptId`; returns how many. */
  revokeUserSessions(accountId: string, userId: string, at: string, exceptId?: string): Promise<number>;

  getUserTotp(accountId: string, userId: string): Promise<UserTotpRecord | undefined>;
  /**
   * Starts (or restarts) an enrolment with a sealed secret and recovery code hashes, audited
   * `totp-enrol` (without either). @returns false when a confirmed enrolment exists (nothing written)
   */
  enrolUserTotp(
    input: { accountId: string; userId: string; sealedSecret: string; recoveryHashes: string[]; at: string },
    ctx: WriteContext,
  ): Promise<boolean>;
  /**
   * Accepts `step` as the newest used step, only if it is newer than the last one (RFC 6238 §5.2:
   * a code is accepted once). With `confirm`, also confirms a pending enrolment (audited
   * `totp-confirm`). Atomic: of two concurrent uses of one step, one wins.
   */
  useTotpStep(
    input: { accountId: string; userId: string; step: number; at: string; confirm: boolean },
    ctx: WriteContext,
  ): Promise<boolean>;
  /** Consumes a recovery code by its hash (single use), audited `recovery-code`; false when unknown. */
  useRecoveryCode(accountId: string, userId: string, codeHash: string, ctx: WriteContext): Promise<boolean>;
  /** Removes the enrolment and its recovery codes, audited `totp-remove`; false when there was none. */
  removeUserTotp(accountId: string, userId: string, ctx: WriteContext): Promise<boolean>;

  /** Stores an application password, audited `app-password-create` (without its secret). */
  createAppPassword(
    input: Omit<AppPasswordRecord, "lastUsedAt" | "revokedAt"> & { secretHash: string },
    ctx: WriteContext,
  ): Promise<void>;
  /** A user's application passwords, revoked ones included, oldest first. */
  listAppPasswords(accountId: string, userId: string): Promise<AppPasswordRecord[]>;
  findAppPassword(secretHash: string): Promise<AppPasswordRecord | undefined>;
  /** Revokes one, audited `app-password-revoke`; undefined when the user has no such password. */
  revokeAppPassword(
    input: { accountId: string; userId: string; id: string; at: string },
    ctx: WriteContext,
  ): Promise<AppPasswordRecord | undefined>;
  touchAppPassword(id: string, at: string): Promise<void>;
}
