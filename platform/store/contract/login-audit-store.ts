/** The store's login audit: sign-in attempts at hosted domains, never with the secret that was tried. */
import type {
  LoginAuditEntry,
  LoginCredential,
  LoginFailureKind,
  LoginResult,
  LoginService,
} from "../../../sdk/src/models/login-audit.ts";
import type { Page } from "./page.ts";

/**
 * One sign-in attempt for the login audit (see ../login-audit.ts): at a hosted domain only, never with
 * the secret that was tried.
 */
export interface LoginAttemptInput {
  accountId: string;
  /** The hosted domain of the address. */
  domain: string;
  /** The address signed in as, lower-cased (an address of the domain that is no user too). */
  address: string;
  userExists: boolean;
  ip: string;
  service: LoginService;
  result: LoginResult;
  /** null on success. */
  reason: LoginFailureKind | null;
  credential: LoginCredential | null;
  /** When (ms since epoch). */
  at: number;
}

/** Filters of {@link LoginAuditStore.listLoginAudit}; `since` matches entries that end at or after it, `until` those that begin before it. */
export interface ListLoginAuditInput {
  accountId: string;
  domain?: string;
  address?: string;
  result?: LoginResult;
  service?: LoginService;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

/**
 * The login audit: each sign-in attempt at a hosted domain, kept for the retention period.
 *
 * @example
 * const page = await store.listLoginAudit({ accountId: "acme", result: "failure", limit: 50 });
 */
export interface LoginAuditStore {
  /**
   * Records a sign-in attempt in the login audit in its own transaction (failures that count towards
   * a lockout go with {@link LoginLockoutStore.recordLoginFailure}'s `attempt` instead). Entries older
   * than the retention are purged now and then after a write.
   */
  recordLoginAttempt(input: LoginAttemptInput): Promise<void>;
  /** A page of an account's login audit entries, newest first. */
  listLoginAudit(input: ListLoginAuditInput): Promise<Page<LoginAuditEntry>>;
}
