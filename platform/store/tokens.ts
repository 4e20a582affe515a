/** The store's API tokens: creating, finding by secret hash or ID, listing, revoking and counting them. */

import type { Page } from "./contract/page.ts";
import { StoreError } from "./contract/store-error.ts";
import type { CreateTokenInput, TokenRecord } from "./contract/token-store.ts";
import type { WriteContext } from "./contract/write-context.ts";
import { checkIdempotency, saveIdempotency } from "./idempotency.ts";
import { decodeCursor, pageOf, type SqlExecutor, str, strOrNull } from "./sql.ts";
import type { WriteSteps } from "./write-steps.ts";

const TOKEN_COLUMNS =
  "id, account_id, description, prefix, role, domains, created_at, expires_at, revoked_at, created_by";

function toToken(r: Record<string, unknown>): TokenRecord {
  return {
    id: str(r.id),
    accountId: strOrNull(r.account_id),
    description: str(r.description),
    prefix: str(r.prefix),
    role: str(r.role),
    domains: JSON.parse(str(r.domains)),
    createdAt: str(r.created_at),
    expiresAt: strOrNull(r.expires_at),
    revokedAt: strOrNull(r.revoked_at),
    createdBy: strOrNull(r.created_by),
  };
}

/** Inside a write: stores a new token (refused `already_exists` for a taken ID), audited and announced. */
export async function createToken(
  q: SqlExecutor,
  input: CreateTokenInput,
  ctx: WriteContext,
  steps: WriteSteps,
): Promise<TokenRecord> {
  await checkIdempotency(q, input.idempotency, steps.now);
  const exists = await q.all("SELECT 1 AS one FROM api_tokens WHERE id = $1", [input.id]);
  if (exists.length > 0) throw new StoreError("already_exists", `token ${input.id} exists`);
  const token: TokenRecord = {
    id: input.id,
    accountId: input.accountId,
    description: input.description,
    prefix: input.prefix,
    role: input.role,
    domains: [...new Set(input.domains)].sort(),
    createdAt: steps.now().toISOString(),
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    createdBy: ctx.actor,
  };
  await q.run(
    `INSERT INTO api_tokens (id, account_id, description, prefix, secret_hash, role, domains, created_at, expires_at, revoked_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10)`,
    [
      token.id,
      token.accountId,
      token.description,
      token.prefix,
      input.secretHash,
      token.role,
      JSON.stringify(token.domains),
      token.createdAt,
      token.expiresAt,
      token.createdBy,
    ],
  );
  await steps.audit(q, ctx, {
    accountId: token.accountId,
    action: "create",
    kind: "ApiToken",
    objectId: token.id,
    before: null,
    after: token,
  });
  // Other nodes drop their cached token lookups when this reaches them.
  await steps.announce(q);
  await saveIdempotency(q, input.idempotency, token, steps.now);
  return token;
}

/** The token whose secret hashes to `secretHash`, revoked or not. */
export async function findTokenBySecretHash(
  q: SqlExecutor,
  secretHash: string,
): Promise<TokenRecord | undefined> {
  const rows = await q.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1`, [secretHash]);
  return rows[0] ? toToken(rows[0]) : undefined;
}

/** The token with this ID, revoked or not. */
export async function getToken(q: SqlExecutor, id: string): Promise<TokenRecord | undefined> {
  const rows = await q.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
  return rows[0] ? toToken(rows[0]) : undefined;
}

/** One page of tokens by ID, all of them or one account's. */
export async function listTokens(
  q: SqlExecutor,
  input: { accountId?: string; limit: number; cursor?: string },
): Promise<Page<TokenRecord>> {
  const after = input.cursor ? String(decodeCursor(input.cursor, ["string"])[0]) : null;
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (input.accountId !== undefined) {
    params.push(input.accountId);
    where.push(`account_id = $${params.length}`);
  }
  if (after !== null) {
    params.push(after);
    where.push(`id > $${params.length}`);
  }
  params.push(input.limit + 1);
  const sql = `SELECT ${TOKEN_COLUMNS} FROM api_tokens ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY id LIMIT $${params.length}`;
  const rows = await q.all(sql, params);
  return pageOf(rows.map(toToken), input.limit, (t) => [t.id]);
}

/** Inside a write: revokes the token (`not_found` if none), audited and announced; an already revoked one is returned as it is. */
export async function revokeToken(
  q: SqlExecutor,
  input: { id: string },
  ctx: WriteContext,
  steps: WriteSteps,
): Promise<TokenRecord> {
  const rows = await q.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = $1`, [input.id]);
  if (!rows[0]) throw new StoreError("not_found", `token ${input.id} does not exist`);
  const before = toToken(rows[0]);
  if (before.revokedAt) return before;
  const after: TokenRecord = { ...before, revokedAt: steps.now().toISOString() };
  await q.run("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1", [input.id, after.revokedAt]);
  await steps.announce(q);
  await steps.audit(q, ctx, {
    accountId: before.accountId,
    action: "revoke",
    kind: "ApiToken",
    objectId: before.id,
    before,
    after,
  });
  return after;
}

/** Inside a write: revokes every live token of the account at `at` (ISO time); they die with it. */
export async function revokeAccountTokens(q: SqlExecutor, accountId: string, at: string): Promise<void> {
  await q.run("UPDATE api_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL", [
    accountId,
    at,
  ]);
}

/** How many tokens exist, revoked ones included. */
export async function countTokens(q: SqlExecutor): Promise<number> {
  const rows = await q.all<{ n: number | string }>("SELECT COUNT(*) AS n FROM api_tokens");
  return Number(rows[0]?.n ?? 0);
}
