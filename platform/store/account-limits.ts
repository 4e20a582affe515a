/** Account limits (`AccountSpec.limits`): counted and enforced inside the store's write transaction. */
import { ACCOUNT_LIMIT_KINDS } from "../../sdk/src/models/account.ts";
import { StoreError } from "./contract/store-error.ts";
import type { SqlExecutor } from "./sql.ts";

type LimitedPlural = keyof typeof ACCOUNT_LIMIT_KINDS;
const PLURAL_OF_KIND = new Map(
  Object.entries(ACCOUNT_LIMIT_KINDS).map(([plural, kind]) => [kind as string, plural as LimitedPlural]),
);

/** How many objects of each limited kind an account holds, by plural. */
export type AccountUsage = Record<LimitedPlural, number>;

/** The account's counts of the limited kinds. */
export async function accountUsage(q: SqlExecutor, accountId: string): Promise<AccountUsage> {
  const usage: AccountUsage = { domains: 0, users: 0, aliases: 0, groups: 0 };
  const rows = await q.all("SELECT kind, COUNT(*) AS n FROM objects WHERE account_id = $1 GROUP BY kind", [
    accountId,
  ]);
  for (const row of rows) {
    const plural = PLURAL_OF_KIND.get(String(row["kind"]));
    if (plural) usage[plural] = Number(row["n"]);
  }
  return usage;
}

/**
 * Refuses (`limit_exceeded`) the creation of an object of `kind` when the account already holds as
 * many as its limit allows. Runs in the write transaction, where writers are serialised, so two
 * concurrent creates cannot both pass the last free place.
 */
export async function checkAccountLimit(q: SqlExecutor, accountId: string, kind: string): Promise<void> {
  const plural = PLURAL_OF_KIND.get(kind);
  if (!plural) return;
  const rows = await q.all("SELECT spec FROM accounts WHERE id = $1", [accountId]);
  const spec = rows[0] ? (JSON.parse(String(rows[0]["spec"])) as { limits?: Record<string, unknown> }) : {};
  const limit = spec.limits?.[plural];
  if (typeof limit !== "number") return;
  const held = await q.all("SELECT COUNT(*) AS n FROM objects WHERE account_id = $1 AND kind = $2", [
    accountId,
    kind,
  ]);
  const count = Number(held[0]?.["n"] ?? 0);
  if (count >= limit) {
    throw new StoreError(
      "limit_exceeded",
      `account ${accountId} may hold at most ${limit} ${plural} and holds ${count}; ask the platform admin to raise limits.${plural}`,
    );
  }
}
