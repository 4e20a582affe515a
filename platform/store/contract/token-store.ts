/** The store's API tokens, kept only as the sha256 of their secret. */
import type { IdempotencyInput } from "./idempotency-store.ts";
import type { Page } from "./page.ts";
import type { WriteContext } from "./write-context.ts";

/** An API token without its secret: only the sha256 of the secret is stored, the prefix identifies it. */
export interface TokenRecord {
  id: string;
  /** null for platform-admin tokens that are not bound to one account. */
  accountId: string | null;
  description: string;
  prefix: string;
  role: string;
  /** The domains a domain-admin token may touch (sorted); empty for other roles. */
  domains: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  createdBy: string | null;
}

/** Input of {@link TokenStore.createToken}: the secret itself never reaches the store, only its hash. */
export interface CreateTokenInput {
  id: string;
  accountId: string | null;
  description: string;
  prefix: string;
  secretHash: string;
  role: string;
  domains: string[];
  expiresAt?: string | null;
  idempotency?: IdempotencyInput<TokenRecord>;
}

/**
 * API tokens. The store never sees a token's secret: tokens are found by the sha256 of it.
 *
 * @example
 * const token = await store.findTokenBySecretHash(sha256(secret)); // revoked and expired ones too
 */
export interface TokenStore {
  /** Errors: already_exists, idempotency_exists. */
  createToken(input: CreateTokenInput, ctx: WriteContext): Promise<TokenRecord>;
  /** Looks a token up by the sha256 of its secret; revoked and expired tokens are returned too. */
  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | undefined>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(input: { accountId?: string; limit: number; cursor?: string }): Promise<Page<TokenRecord>>;
  /** Revokes a token (idempotent). Errors: not_found. */
  revokeToken(input: { id: string }, ctx: WriteContext): Promise<TokenRecord>;
  /** Number of tokens (any state); the first start bootstraps an admin token when it is 0. */
  countTokens(): Promise<number>;
}
