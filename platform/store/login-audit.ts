/** The store's login audit, written once over the SqlExecutor seam: coalescing attempts per hour, the per-domain cap, listing and the retention purge. */
import type { LoginAuditEntry } from "../../sdk/src/models/login-audit.ts";
import { alertSettings, loginAlert } from "../login-alerts.ts";
import type { ListLoginAuditInput, LoginAttemptInput } from "./contract/login-audit-store.ts";
import type { Page } from "./contract/page.ts";
import { enqueueNotice } from "./notices.ts";
import { decodeCursor, pageOf, type SqlExecutor, type SqlValue } from "./sql.ts";

/** Default of {@link LoginAuditLimits.maxEntriesPerDomainHour}. */
export const DEFAULT_LOGIN_AUDIT_ENTRIES_PER_DOMAIN_HOUR = 1_000;

/** The bounds the login audit keeps to, whatever clients send. */
export interface LoginAuditLimits {
  /**
   * Distinct entries a domain gets per clock hour; attempts past that with a new combination of facts
   * count on one overflow entry per outcome with IP `*` (and address `*` unless the address is a
   * user), so a client rotating IPs and guessed names adds no rows. Default 1,000.
   */
  maxEntriesPerDomainHour: number;
}

const HOUR_MS = 3_600_000;

/** The placeholder of the overflow entry's IP (and of an unknown address there). */
export const OVERFLOW = "*";

const KEY_COLUMNS = "account_id, domain, hour, address, ip, service, result, reason, credential";

function toEntry(r: Record<string, unknown>): LoginAuditEntry {
  const reason = String(r.reason);
  const credential = String(r.credential);
  return {
    id: String(r.seq),
    service: String(r.service) as LoginAuditEntry["service"],
    result: String(r.result) as LoginAuditEntry["result"],
    reason: reason === "" ? null : (reason as LoginAuditEntry["reason"]),
    credential: credential === "" ? null : (credential as LoginAuditEntry["credential"]),
    address: String(r.address),
    userExists: Number(r.user_exists) === 1,
    domain: String(r.domain),
    ip: String(r.ip),
    count: Number(r.count),
    firstAt: String(r.first_at),
    lastAt: String(r.last_at),
  };
}

/** Counts `key` up by one attempt at `at` (ISO); returns false when it has no row yet. */
async function countUp(q: SqlExecutor, key: SqlValue[], at: string, userExists: number): Promise<boolean> {
  const changed = await q.run(
    `UPDATE login_audit SET count = count + 1, user_exists = $10,
       last_at = CASE WHEN last_at < $11 THEN $11 ELSE last_at END,
       first_at = CASE WHEN first_at > $11 THEN $11 ELSE first_at END
     WHERE account_id = $1 AND domain = $2 AND hour = $3 AND address = $4 AND ip = $5
       AND service = $6 AND result = $7 AND reason = $8 AND credential = $9`,
    [...key, userExists, at],
  );
  return changed > 0;
}

/**
 * Records one attempt inside the caller's transaction: counts it on the entry of the same facts in
 * the same clock hour, else adds an entry, unless the domain has `maxEntriesPerDomainHour` entries
 * for that hour already: then it counts on the overflow entry (see {@link LoginAuditLimits}). Two
 * writers adding the same new entry at once meet in the unique key (ON CONFLICT counts up).
 *
 * @example await recordAttempt(q, attempt, { maxEntriesPerDomainHour: 1000 })
 */
export async function recordAttempt(
  q: SqlExecutor,
  input: LoginAttemptInput,
  limits: LoginAuditLimits,
): Promise<void> {
  const at = new Date(input.at).toISOString();
  const hour = Math.floor(input.at / HOUR_MS);
  const exists = input.userExists ? 1 : 0;
  const facts = [input.service, input.result, input.reason ?? "", input.credential ?? ""];
  let key: SqlValue[] = [input.accountId, input.domain, hour, input.address, input.ip, ...facts];
  if (await countUp(q, key, at, exists)) return;
  const [counted] = await q.all<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM login_audit WHERE account_id = $1 AND domain = $2 AND hour = $3",
    [input.accountId, input.domain, hour],
  );
  if (Number(counted?.n ?? 0) >= limits.maxEntriesPerDomainHour) {
    // A user's own address stays visible to them (users are few); guessed names and IPs fold.
    const address = input.userExists ? input.address : OVERFLOW;
    key = [input.accountId, input.domain, hour, address, OVERFLOW, ...facts];
    if (await countUp(q, key, at, exists)) return;
  }
  await q.run(
    `INSERT INTO login_audit (${KEY_COLUMNS}, user_exists, count, first_at, last_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)
     ON CONFLICT (${KEY_COLUMNS}) DO UPDATE SET count = login_audit.count + 1,
       last_at = CASE WHEN login_audit.last_at < excluded.last_at THEN excluded.last_at ELSE login_audit.last_at END`,
    [...key, exists, at],
  );
}

/** One page of an account's entries matching `input`, newest first (by when the entry began). */
export async function listAttempts(
  q: SqlExecutor,
  input: ListLoginAuditInput,
): Promise<Page<LoginAuditEntry>> {
  const params: SqlValue[] = [];
  const where: string[] = [];
  const add = (column: string, value: SqlValue | undefined, op = "=") => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${column} ${op} $${params.length}`);
  };
  add("account_id", input.accountId);
  add("domain", input.domain);
  add("address", input.address);
  add("result", input.result);
  add("service", input.service);
  add("last_at", input.since, ">=");
  add("first_at", input.until, "<");
  if (input.cursor) add("seq", Number(decodeCursor(input.cursor, ["number"])[0]), "<");
  params.push(input.limit + 1);
  const rows = await q.all(
    `SELECT * FROM login_audit WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  return pageOf(rows.map(toEntry), input.limit, (e) => [Number(e.id)]);
}

/** Deletes entries whose latest attempt is before `before` (ms); returns how many went. */
export async function purgeAttempts(q: SqlExecutor, before: number): Promise<number> {
  return q.run("DELETE FROM login_audit WHERE last_at < $1", [new Date(before).toISOString()]);
}

/**
 * Deletes a domain's entries, inside the transaction that deletes the domain: a later domain of the
 * same name (recreated by the same account within the retention) starts with no history.
 */
export async function forgetDomainAttempts(
  q: SqlExecutor,
  accountId: string,
  domain: string,
): Promise<number> {
  return q.run("DELETE FROM login_audit WHERE account_id = $1 AND domain = $2", [accountId, domain]);
}

/**
 * Queues the login alert `input` calls for (see platform/login-alerts.ts) in the caller's
 * transaction, so the alert exists exactly when its audit entry does. Reads the user's
 * `loginAlerts` (one primary-key read) only for existing users.
 */
export async function queueLoginAlert(q: SqlExecutor, input: LoginAttemptInput): Promise<void> {
  if (!input.userExists) return;
  const rows = await q.all<{ spec: string }>(
    "SELECT spec FROM objects WHERE account_id = $1 AND kind = 'User' AND id = $2",
    [input.accountId, input.address],
  );
  if (!rows[0]) return;
  const notice = loginAlert(input, alertSettings(JSON.parse(String(rows[0].spec))));
  if (notice) await enqueueNotice(q, notice, new Date(input.at).toISOString());
}
