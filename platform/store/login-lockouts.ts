/** The store's login lockouts, written once over the SqlExecutor seam: counting failures per key, listing and lifting. */

import type {
  ListLoginLockoutsInput,
  LoginFailureInput,
  LoginLockoutRecord,
  LoginLockoutTarget,
} from "./contract/login-lockout-store.ts";
import type { Page } from "./contract/page.ts";
import { StoreError } from "./contract/store-error.ts";
import type { WriteContext } from "./contract/write-context.ts";
import { decodeCursor, encodeCursor, type SqlExecutor, type SqlValue } from "./sql.ts";

/** Writes one audit entry in the caller's transaction (SqlStore's, so entries look like every other). */
export type AuditWriter = (
  q: SqlExecutor,
  ctx: WriteContext,
  entry: {
    accountId: string | null;
    action: string;
    kind: string;
    objectId: string;
    before: unknown;
    after: unknown;
  },
) => Promise<void>;

/** Failure times kept per key at most (the model caps a policy's failures at 20). */
const MAX_FAILURES_KEPT = 100;

/** Keys listed in one IN (…) at most. */
const IN_CHUNK = 500;

/** The engine, not a token, records failed logins and the locks they cause. */
const ENGINE: WriteContext = { actor: "system", role: null };

type Row = Record<string, unknown>;

const iso = (ms: number) => new Date(ms).toISOString();

function toTarget(r: Row): LoginLockoutTarget {
  const accountId = String(r.account_id);
  const domain = String(r.domain);
  return {
    accountId: accountId === "" ? null : accountId,
    domain: domain === "" ? null : domain,
    failures: Number(r.failures),
    lastFailureAt: String(r.last_failure_at),
  };
}

/** A stored row as a record at `at`: a lock that ended reads as no lock. */
function toRecord(r: Row, targets: LoginLockoutTarget[], at: number): LoginLockoutRecord {
  const lockedUntil = r.locked_until === null ? null : String(r.locked_until);
  const locked = lockedUntil !== null && Date.parse(lockedUntil) > at;
  return {
    key: String(r.lock_key),
    failures: (JSON.parse(String(r.failures)) as number[]).length,
    lastFailureAt: String(r.last_failure_at),
    lockedAt: locked && r.locked_at !== null ? String(r.locked_at) : null,
    lockedUntil: locked ? lockedUntil : null,
    targets,
  };
}

/** The record as the audit log of one account shows it: only that account's domains (null: all). */
function auditView(record: LoginLockoutRecord, accountId: string | null): Record<string, unknown> {
  return {
    key: record.key,
    failures: record.failures,
    lastFailureAt: record.lastFailureAt,
    lockedAt: record.lockedAt,
    lockedUntil: record.lockedUntil,
    domains: record.targets
      .filter((t) => accountId === null || t.accountId === accountId)
      .map((t) => ({ domain: t.domain, failures: t.failures })),
  };
}

/** Every account a key's failures concerned, each once; [null] when none (a platform-level entry). */
function accountsOf(targets: LoginLockoutTarget[]): (string | null)[] {
  const accounts = [...new Set(targets.flatMap((t) => (t.accountId === null ? [] : [t.accountId])))];
  return accounts.length > 0 ? accounts.sort() : [null];
}

async function selectTargets(q: SqlExecutor, keys: string[]): Promise<Map<string, LoginLockoutTarget[]>> {
  const out = new Map<string, LoginLockoutTarget[]>();
  for (let i = 0; i < keys.length; i += IN_CHUNK) {
    const chunk = keys.slice(i, i + IN_CHUNK);
    const rows = await q.all(
      `SELECT lock_key, account_id, domain, failures, last_failure_at FROM login_lockout_targets
       WHERE lock_key IN (${chunk.map((_, n) => `$${n + 1}`).join(", ")}) ORDER BY lock_key, account_id, domain`,
      chunk,
    );
    for (const r of rows) {
      const list = out.get(String(r.lock_key)) ?? [];
      list.push(toTarget(r));
      out.set(String(r.lock_key), list);
    }
  }
  return out;
}

/**
 * When `key`'s lockout ends (ms), or 0. One primary-key read.
 *
 * @example if ((await lockedUntil(q, "192.0.2.1", Date.now())) > 0) …
 */
export async function lockedUntil(q: SqlExecutor, key: string, at: number): Promise<number> {
  const rows = await q.all("SELECT locked_until FROM login_lockouts WHERE lock_key = $1", [key]);
  const until = rows[0]?.locked_until;
  if (until === null || until === undefined) return 0;
  const ms = Date.parse(String(until));
  return ms > at ? ms : 0;
}

/**
 * Counts one failed login inside the caller's transaction (see Store.recordLoginFailure). The
 * upsert takes the key's row lock first (PostgreSQL), so two engines failing the same key at once
 * are counted one after the other; every later statement of this transaction sees the other's commit.
 */
export async function recordFailure(
  q: SqlExecutor,
  input: LoginFailureInput,
  audit: AuditWriter,
): Promise<{ lockedUntil: number; locked: boolean }> {
  const { key, at, policy } = input;
  const failedAt = iso(at);
  await audit(q, ENGINE, {
    accountId: input.target?.accountId ?? null,
    action: "login-failed",
    kind: "Login",
    objectId: input.user ?? input.target?.domain ?? key,
    before: null,
    after: { ip: input.ip, lockoutKey: key, reason: input.reason, counted: input.counted },
  });
  if (!input.counted) return { lockedUntil: 0, locked: false };

  // A new row starts expired (expires_at = now), which the code below treats as a fresh start.
  await q.run(
    `INSERT INTO login_lockouts (lock_key, failures, last_failure_at, expires_at) VALUES ($1, '[]', $2, $2)
     ON CONFLICT (lock_key) DO UPDATE SET lock_key = excluded.lock_key`,
    [key, failedAt],
  );
  const row = (await q.all("SELECT * FROM login_lockouts WHERE lock_key = $1", [key]))[0]!;
  const stale = String(row.expires_at) <= failedAt;
  if (stale) await q.run("DELETE FROM login_lockout_targets WHERE lock_key = $1", [key]);
  let failures: number[] = stale ? [] : JSON.parse(String(row.failures));
  let until = stale || row.locked_until === null ? 0 : Date.parse(String(row.locked_until));
  let lockedAt = stale || row.locked_at === null ? null : String(row.locked_at);
  let locked = false;
  if (until > at) {
    // Locked meanwhile (another engine's failure won the race): remembered, not counted again.
  } else {
    until = 0;
    lockedAt = null;
    failures = failures.filter((t) => t > at - policy.windowMs);
    failures.push(at);
    if (failures.length >= policy.failures) {
      until = at + policy.durationMs;
      lockedAt = failedAt;
      failures = [];
      locked = true;
    }
    failures = failures.slice(-MAX_FAILURES_KEPT);
  }
  const expires = Math.max(stale ? 0 : Date.parse(String(row.expires_at)), at + policy.windowMs, until);
  await q.run(
    `UPDATE login_lockouts SET failures = $2, last_failure_at = $3, locked_at = $4, locked_until = $5, expires_at = $6
     WHERE lock_key = $1`,
    [key, JSON.stringify(failures), failedAt, lockedAt, until > 0 ? iso(until) : null, iso(expires)],
  );
  await q.run(
    `INSERT INTO login_lockout_targets (lock_key, account_id, domain, failures, last_failure_at)
     VALUES ($1, $2, $3, 1, $4)
     ON CONFLICT (lock_key, account_id, domain) DO UPDATE
       SET failures = login_lockout_targets.failures + 1, last_failure_at = excluded.last_failure_at`,
    [key, input.target?.accountId ?? "", input.target?.domain ?? "", failedAt],
  );
  if (locked) {
    const record = await getLockout(q, key, at);
    for (const accountId of accountsOf(record!.targets)) {
      await audit(q, ENGINE, {
        accountId,
        action: "lock",
        kind: "LoginLockout",
        objectId: key,
        before: null,
        after: auditView(record!, accountId),
      });
    }
  }
  return { lockedUntil: until, locked };
}

/** One key's state at `at`, or undefined when it has none (or only an expired one). */
export async function getLockout(
  q: SqlExecutor,
  key: string,
  at: number,
): Promise<LoginLockoutRecord | undefined> {
  const rows = await q.all("SELECT * FROM login_lockouts WHERE lock_key = $1 AND expires_at > $2", [
    key,
    iso(at),
  ]);
  if (!rows[0]) return undefined;
  const targets = await selectTargets(q, [key]);
  return toRecord(rows[0], targets.get(key) ?? [], at);
}

/** A page of current keys (see Store.listLoginLockouts); with `accountId`, targets of that account only. */
export async function listLockouts(
  q: SqlExecutor,
  input: ListLoginLockoutsInput,
  at: number,
): Promise<Page<LoginLockoutRecord>> {
  const now = iso(at);
  const params: SqlValue[] = [now];
  const where = ["l.expires_at > $1"];
  if (input.locked === true) where.push("l.locked_until > $1");
  if (input.locked === false) where.push("(l.locked_until IS NULL OR l.locked_until <= $1)");
  if (input.accountId !== undefined) {
    params.push(input.accountId);
    where.push(
      `EXISTS (SELECT 1 FROM login_lockout_targets t WHERE t.lock_key = l.lock_key AND t.account_id = $${params.length})`,
    );
  }
  if (input.cursor) {
    params.push(String(decodeCursor(input.cursor, ["string"])[0]));
    where.push(`l.lock_key > $${params.length}`);
  }
  params.push(input.limit + 1);
  const rows = await q.all(
    `SELECT l.* FROM login_lockouts l WHERE ${where.join(" AND ")} ORDER BY l.lock_key LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, input.limit);
  const targets = await selectTargets(
    q,
    page.map((r) => String(r.lock_key)),
  );
  const items = page.map((r) => {
    const all = targets.get(String(r.lock_key)) ?? [];
    const visible = input.accountId === undefined ? all : all.filter((t) => t.accountId === input.accountId);
    return toRecord(r, visible, at);
  });
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > input.limit && last ? encodeCursor([last.key]) : null };
}

/**
 * Forgets a key's failures and lock (see Store.liftLoginLockout): one `unlock` audit entry per
 * account concerned, each with that account's domains only. Errors: not_found.
 */
export async function liftLockout(
  q: SqlExecutor,
  input: { key: string; guard?: (current: LoginLockoutRecord) => Error | undefined },
  at: number,
  ctx: WriteContext,
  audit: AuditWriter,
): Promise<{ before: LoginLockoutRecord }> {
  // Takes the row lock first, as recordFailure does, so the two never wait on each other in turn.
  await q.run("UPDATE login_lockouts SET lock_key = lock_key WHERE lock_key = $1", [input.key]);
  const before = await getLockout(q, input.key, at);
  if (!before) throw new StoreError("not_found", `no lockout for ${input.key}`);
  const refused = input.guard?.(before);
  if (refused) throw refused;
  await q.run("DELETE FROM login_lockouts WHERE lock_key = $1", [input.key]);
  await q.run("DELETE FROM login_lockout_targets WHERE lock_key = $1", [input.key]);
  for (const accountId of accountsOf(before.targets)) {
    await audit(q, ctx, {
      accountId,
      action: "unlock",
      kind: "LoginLockout",
      objectId: input.key,
      before: auditView(before, accountId),
      after: null,
    });
  }
  return { before };
}

/**
 * Deletes keys that stopped mattering before `at` (lock over, failures aged out) and their targets:
 * main rows first, like every other writer of these tables, so no two transactions wait on each other
 * in opposite orders. Returns how many keys went.
 */
export async function purgeExpired(q: SqlExecutor, at: number): Promise<number> {
  const gone = await q.all<{ lock_key: string }>(
    "DELETE FROM login_lockouts WHERE expires_at <= $1 RETURNING lock_key",
    [iso(at)],
  );
  const keys = gone.map((r) => String(r.lock_key));
  for (let i = 0; i < keys.length; i += IN_CHUNK) {
    const chunk = keys.slice(i, i + IN_CHUNK);
    await q.run(
      `DELETE FROM login_lockout_targets WHERE lock_key IN (${chunk.map((_, n) => `$${n + 1}`).join(", ")})`,
      chunk,
    );
  }
  return keys.length;
}
