/** The store's accounts: the tenants every object, token and audit entry belongs to. */
import type { IdempotencyInput } from "./idempotency-store.ts";
import type { Page } from "./page.ts";
import type { IfMatch, WriteContext } from "./write-context.ts";

/** An account: the tenant every object, token and audit entry belongs to. */
export interface AccountRecord {
  id: string;
  spec: Record<string, unknown>;
  etag: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Input of {@link AccountStore.putAccount}. */
export interface PutAccountInput {
  id: string;
  spec: Record<string, unknown>;
  ifMatch?: IfMatch;
  mustExist?: boolean;
  mustNotExist?: boolean;
  idempotency?: IdempotencyInput<PutAccountResult>;
}

/** Result of {@link AccountStore.putAccount}. */
export interface PutAccountResult {
  account: AccountRecord;
  before: AccountRecord | null;
  created: boolean;
  changed: boolean;
}

/**
 * Accounts. Deleting one takes everything in it along, in one transaction.
 *
 * @example
 * const { account, created } = await store.putAccount({ id: "acme", spec: {} }, { actor: "system" });
 */
export interface AccountStore {
  getAccount(id: string): Promise<AccountRecord | undefined>;
  listAccounts(page: { limit: number; cursor?: string }): Promise<Page<AccountRecord>>;
  /** Creates or replaces an account. Errors: not_found, already_exists, precondition_failed. */
  putAccount(input: PutAccountInput, ctx: WriteContext): Promise<PutAccountResult>;
  /**
   * Deletes an account with everything in it (objects, credentials; one audit entry and change per
   * object) and revokes its tokens, in one transaction. Errors: not_found, precondition_failed.
   */
  deleteAccount(
    input: { id: string; ifMatch?: IfMatch },
    ctx: WriteContext,
  ): Promise<{ before: AccountRecord }>;
}
