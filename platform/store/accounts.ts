/** The store's accounts: reading and listing them, and the account writes (put, delete with everything in it). */
import { auditView } from "./audit.ts";
import type { AccountRecord, PutAccountInput, PutAccountResult } from "./contract/account-store.ts";
import type { Page } from "./contract/page.ts";
import { StoreError } from "./contract/store-error.ts";
import type { IfMatch, WriteContext } from "./contract/write-context.ts";
import { checkIdempotency, saveIdempotency } from "./idempotency.ts";
import { OBJECT_COLUMNS, removeObject, toObject } from "./object-rows.ts";
import { canonicalJson, decodeCursor, pageOf, type SqlExecutor, str } from "./sql.ts";
import { revokeAccountTokens } from "./tokens.ts";
import { checkPreconditions, newEtag, type WriteSteps } from "./write-steps.ts";

/** An accounts row as an AccountRecord. */
export function toAccount(r: Record<string, unknown>): AccountRecord {
  return {
    id: str(r.id),
    spec: JSON.parse(str(r.spec)),
    etag: str(r.etag),
    version: Number(r.version),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

/** The account with this ID, through a transaction's executor or a plain read. */
export async function selectAccount(q: SqlExecutor, id: string): Promise<AccountRecord | null> {
  const rows = await q.all("SELECT * FROM accounts WHERE id = $1", [id]);
  return rows[0] ? toAccount(rows[0]) : null;
}

/** One page of accounts by ID. */
export async function listAccounts(
  q: SqlExecutor,
  page: { limit: number; cursor?: string },
): Promise<Page<AccountRecord>> {
  const after = page.cursor ? String(decodeCursor(page.cursor, ["string"])[0]) : null;
  const rows =
    after === null
      ? await q.all("SELECT * FROM accounts ORDER BY id LIMIT $1", [page.limit + 1])
      : await q.all("SELECT * FROM accounts WHERE id > $1 ORDER BY id LIMIT $2", [after, page.limit + 1]);
  return pageOf(rows.map(toAccount), page.limit, (a) => [a.id]);
}

/** Inside a write: creates or updates an account (preconditions, idempotency), audited and bumped; calls `mark` when it changed. */
export async function putAccount(
  q: SqlExecutor,
  input: PutAccountInput,
  ctx: WriteContext,
  steps: WriteSteps,
  mark: () => void,
): Promise<PutAccountResult> {
  {
    await checkIdempotency(q, input.idempotency, steps.now);
    const current = await selectAccount(q, input.id);
    checkPreconditions(current, input, `account ${input.id}`);
    const spec = canonicalJson(input.spec);
    let result: PutAccountResult;
    if (current && canonicalJson(current.spec) === spec) {
      result = { account: current, before: current, created: false, changed: false };
    } else {
      const at = steps.now().toISOString();
      const account: AccountRecord = {
        id: input.id,
        spec: JSON.parse(spec),
        etag: newEtag(),
        version: (current?.version ?? 0) + 1,
        createdAt: current?.createdAt ?? at,
        updatedAt: at,
      };
      if (current) {
        await q.run("UPDATE accounts SET spec = $2, etag = $3, version = $4, updated_at = $5 WHERE id = $1", [
          account.id,
          spec,
          account.etag,
          account.version,
          at,
        ]);
      } else {
        await q.run(
          "INSERT INTO accounts (id, spec, etag, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
          [account.id, spec, account.etag, account.version, at, at],
        );
      }
      await steps.audit(q, ctx, {
        accountId: account.id,
        action: current ? "update" : "create",
        kind: "Account",
        objectId: account.id,
        before: auditView(current),
        after: auditView(account),
      });
      await steps.bump(q, { accountId: account.id, kind: "Account", id: account.id, op: "put" });
      mark();
      result = { account, before: current, created: !current, changed: true };
    }
    await saveIdempotency(q, input.idempotency, result, steps.now);
    return result;
  }
}

/**
 * Inside a write: deletes an account (`not_found` if missing) with every object in it, each audited
 * and bumped, and revokes its tokens; calls `mark`.
 */
export async function deleteAccount(
  q: SqlExecutor,
  input: { id: string; ifMatch?: IfMatch },
  ctx: WriteContext,
  steps: WriteSteps,
  mark: () => void,
): Promise<{ before: AccountRecord }> {
  {
    const current = await selectAccount(q, input.id);
    if (!current) throw new StoreError("not_found", `account ${input.id} does not exist`);
    checkPreconditions(current, input, `account ${input.id}`);
    // Everything in the account goes with it, each object audited and announced to the change feed.
    const objects = await q.all(
      `SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 ORDER BY kind, id`,
      [input.id],
    );
    for (const o of objects) await removeObject(q, ctx, toObject(o), steps);
    await q.run("DELETE FROM accounts WHERE id = $1", [input.id]);
    // The account's tokens die with it, in the same transaction.
    await revokeAccountTokens(q, input.id, steps.now().toISOString());
    await steps.audit(q, ctx, {
      accountId: input.id,
      action: "delete",
      kind: "Account",
      objectId: input.id,
      before: auditView(current),
      after: null,
    });
    await steps.bump(q, { accountId: input.id, kind: "Account", id: input.id, op: "delete" });
    mark();
    return { before: current };
  }
}
