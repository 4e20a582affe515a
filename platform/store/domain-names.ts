/** Domain ownership in SQL: who holds which mail name, and the verification records of those names. */

import type { DomainClaim, DomainNameHold, DomainVerificationRecord } from "./contract/domain-name-store.ts";
import type { StoredObject } from "./contract/object-store.ts";
import type { SqlExecutor } from "./sql.ts";

type Row = Record<string, unknown>;

const COLUMNS =
  "account_id, name, domain, status, method, verified_at, checked_at, check_result, check_detail, created_at";

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toRecord(r: Row): DomainVerificationRecord & { accountId: string; domain: string } {
  return {
    accountId: String(r.account_id),
    domain: String(r.domain),
    name: String(r.name),
    status: r.status === "verified" ? "verified" : "pending",
    method: r.method === "dns" || r.method === "admin" ? r.method : null,
    verifiedAt: text(r.verified_at),
    checkedAt: text(r.checked_at),
    checkResult: text(r.check_result),
    checkDetail: text(r.check_detail),
    createdAt: String(r.created_at),
  };
}

/** The record without the holder's keys, as objects carry it. */
function bare(r: ReturnType<typeof toRecord>): DomainVerificationRecord {
  const { accountId: _a, domain: _d, ...record } = r;
  return record;
}

/** The mail names a Domain holds: its name, then its domain aliases. */
export function namesOf(domain: { id: string; spec: Record<string, unknown> }): string[] {
  return [domain.id, ...((domain.spec["aliases"] as string[] | undefined) ?? [])];
}

const key = (accountId: string, domain: string) => `${accountId}\u0000${domain}`;

/** Verification records grouped by (account, domain). */
function grouped(rows: Row[]): Map<string, ReturnType<typeof toRecord>[]> {
  const out = new Map<string, ReturnType<typeof toRecord>[]>();
  for (const row of rows) {
    const r = toRecord(row);
    const k = key(r.accountId, r.domain);
    const list = out.get(k) ?? [];
    list.push(r);
    out.set(k, list);
  }
  return out;
}

/** A Domain with the records of the names it holds now attached, in the order name, aliases. */
function attach(o: StoredObject, records: ReturnType<typeof toRecord>[] | undefined): StoredObject {
  const byName = new Map((records ?? []).map((r) => [r.name, r]));
  const verification = namesOf(o).flatMap((name) => {
    const r = byName.get(name);
    return r ? [bare(r)] : [];
  });
  return { ...o, verification };
}

/**
 * `objects` with each Domain's verification records attached (other kinds as they are): one query
 * for one Domain, one per account otherwise, one in all for many accounts (the snapshot).
 */
export async function withVerification(q: SqlExecutor, objects: StoredObject[]): Promise<StoredObject[]> {
  const domains = objects.filter((o) => o.kind === "Domain");
  if (domains.length === 0) return objects;
  const accounts = new Set(domains.map((o) => o.accountId));
  let rows: Row[];
  if (domains.length === 1) {
    rows = await q.all(`SELECT ${COLUMNS} FROM domain_verifications WHERE account_id = $1 AND domain = $2`, [
      domains[0]!.accountId,
      domains[0]!.id,
    ]);
  } else if (accounts.size === 1) {
    rows = await q.all(`SELECT ${COLUMNS} FROM domain_verifications WHERE account_id = $1`, [
      domains[0]!.accountId,
    ]);
  } else {
    rows = await q.all(`SELECT ${COLUMNS} FROM domain_verifications`);
  }
  const byDomain = grouped(rows);
  return objects.map((o) => (o.kind === "Domain" ? attach(o, byDomain.get(key(o.accountId, o.id))) : o));
}

/** Every name held by a Domain (or only `names`), with its holder and verification. */
export async function domainNameHolds(q: SqlExecutor, names?: readonly string[]): Promise<DomainNameHold[]> {
  const wanted = names ? new Set(names) : null;
  // Every Domain is read: they are few, and aliases live in the spec's JSON, which SQLite and
  // PostgreSQL query differently.
  const domains = await q.all("SELECT account_id, id, spec FROM objects WHERE kind = 'Domain' ORDER BY id");
  const records = grouped(await q.all(`SELECT ${COLUMNS} FROM domain_verifications`));
  const holds: DomainNameHold[] = [];
  for (const row of domains) {
    const accountId = String(row.account_id);
    const domain = String(row.id);
    const own = new Map((records.get(key(accountId, domain)) ?? []).map((r) => [r.name, bare(r)]));
    for (const name of namesOf({ id: domain, spec: JSON.parse(String(row.spec)) })) {
      if (wanted && !wanted.has(name)) continue;
      holds.push({ name, accountId, domain, verification: own.get(name) ?? null });
    }
  }
  return holds;
}

/**
 * The Domains other than `self`, in any account, holding one of `names` as their name or a domain
 * alias, with which of them they hold verified.
 */
export async function domainsHolding(
  q: SqlExecutor,
  names: readonly string[],
  self: { accountId: string; id: string },
): Promise<DomainClaim[]> {
  return claimsOf(await domainNameHolds(q, names), self);
}

/**
 * `holds` grouped by holding Domain, without `self`'s own (pure: a plan runs it on what it read).
 *
 * @example claimsOf(await store.domainNames(["example.com"]), { accountId: "acme", id: "example.com" })
 */
export function claimsOf(
  holds: readonly DomainNameHold[],
  self: { accountId: string; id: string },
): DomainClaim[] {
  const holders = new Map<string, DomainClaim>();
  for (const hold of holds) {
    if (hold.accountId === self.accountId && hold.domain === self.id) continue;
    const k = key(hold.accountId, hold.domain);
    const claim = holders.get(k) ?? {
      accountId: hold.accountId,
      domain: hold.domain,
      names: [],
      verified: [],
    };
    claim.names.push(hold.name);
    if (hold.verification?.status === "verified") claim.verified.push(hold.name);
    holders.set(k, claim);
  }
  return [...holders.values()].sort((a, b) =>
    a.accountId === b.accountId ? a.domain.localeCompare(b.domain) : a.accountId.localeCompare(b.accountId),
  );
}

/** The record of one name of a Domain, or null. */
export async function selectVerification(
  q: SqlExecutor,
  accountId: string,
  name: string,
): Promise<DomainVerificationRecord | null> {
  const rows = await q.all(
    `SELECT ${COLUMNS} FROM domain_verifications WHERE account_id = $1 AND name = $2`,
    [accountId, name],
  );
  return rows[0] ? bare(toRecord(rows[0])) : null;
}

/** Writes (inserts or replaces) the record of one name of a Domain. */
export async function saveVerification(
  q: SqlExecutor,
  accountId: string,
  domain: string,
  r: DomainVerificationRecord,
): Promise<void> {
  const values = [r.status, r.method, r.verifiedAt, r.checkedAt, r.checkResult, r.checkDetail];
  const updated = await q.run(
    `UPDATE domain_verifications SET domain = $3, status = $4, method = $5, verified_at = $6, checked_at = $7,
       check_result = $8, check_detail = $9
     WHERE account_id = $1 AND name = $2`,
    [accountId, r.name, domain, ...values],
  );
  if (updated === 0) {
    await q.run(
      `INSERT INTO domain_verifications (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [accountId, r.name, domain, ...values, r.createdAt],
    );
  }
}

/**
 * Drops the records of names a Domain no longer holds (every record when `keep` is empty): a name
 * given up and held again must be verified again, as its owner may have changed meanwhile.
 */
export async function pruneVerification(
  q: SqlExecutor,
  accountId: string,
  domain: string,
  keep: readonly string[],
): Promise<void> {
  const params = [accountId, domain, ...keep];
  const marks = keep.map((_n, i) => `$${i + 3}`).join(", ");
  await q.run(
    `DELETE FROM domain_verifications WHERE account_id = $1 AND domain = $2${keep.length ? ` AND name NOT IN (${marks})` : ""}`,
    params,
  );
}

/**
 * The record after a check and/or a mark: a verified name stays verified (later checks only record
 * their result); `verifiedBy` verifies a pending one.
 */
export function nextVerification(
  name: string,
  before: DomainVerificationRecord | null,
  change: { check?: { result: string; detail: string }; verifiedBy?: "dns" | "admin" },
  at: string,
): DomainVerificationRecord {
  const wasVerified = before?.status === "verified";
  const verifies = !wasVerified && change.verifiedBy !== undefined;
  return {
    name,
    status: wasVerified || verifies ? "verified" : "pending",
    method: wasVerified ? before.method : verifies ? change.verifiedBy! : null,
    verifiedAt: wasVerified ? before.verifiedAt : verifies ? at : null,
    checkedAt: change.check ? at : (before?.checkedAt ?? null),
    checkResult: change.check ? change.check.result : (before?.checkResult ?? null),
    checkDetail: change.check ? change.check.detail : (before?.checkDetail ?? null),
    createdAt: before?.createdAt ?? at,
  };
}

/** What the audit log records of a name's verification (no token: it stays out of audit entries). */
export function verificationAudit(r: DomainVerificationRecord | null): Record<string, unknown> | null {
  if (!r) return null;
  return {
    name: r.name,
    status: r.status,
    method: r.method,
    verifiedAt: r.verifiedAt,
    lastCheck: r.checkedAt ? { at: r.checkedAt, result: r.checkResult, detail: r.checkDetail } : null,
  };
}
