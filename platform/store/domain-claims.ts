/** Domain name claims and verification writes: settling who may take a name, evicting unverified holders, recording checks. */
import { auditView } from "./audit.ts";
import type { DomainCheckInput, DomainClaim } from "./contract/domain-name-store.ts";
import type { PutObjectInput, StoredObject } from "./contract/object-store.ts";
import { StoreError } from "./contract/store-error.ts";
import type { WriteContext } from "./contract/write-context.ts";
import {
  domainsHolding,
  namesOf,
  nextVerification,
  pruneVerification,
  saveVerification,
  selectVerification,
  verificationAudit,
  withVerification,
} from "./domain-names.ts";
import { OBJECT_COLUMNS, removeObject, selectObject, toObject } from "./object-rows.ts";
import { canonicalJson, type SqlExecutor } from "./sql.ts";
import { newEtag, type WriteSteps } from "./write-steps.ts";

/**
 * The Domains holding names a write claims: refused (through `claims.refuse`, with the names that
 * block) unless every hold is another account's, unverified, on a name the write proved it owns;
 * those are returned, to be evicted.
 */
export async function settleClaims(
  q: SqlExecutor,
  input: PutObjectInput,
  claims: NonNullable<PutObjectInput["claims"]>,
): Promise<DomainClaim[]> {
  const holders = await domainsHolding(q, claims.names, { accountId: input.accountId, id: input.id });
  const blocking = blockingClaims(holders, input.accountId, claims);
  if (blocking.length > 0) throw claims.refuse(blocking);
  return holders;
}

/**
 * Of `holders`, the holds that refuse a claim by `accountId`: its own other Domains, verified holds,
 * and unverified ones on names the claim did not prove (pure: a plan runs it on what it read).
 *
 * @example blockingClaims(holders, "acme", { names: ["example.com"], proven: [] }) // every hold
 */
export function blockingClaims(
  holders: readonly DomainClaim[],
  accountId: string,
  claims: Pick<NonNullable<PutObjectInput["claims"]>, "proven">,
): DomainClaim[] {
  const proven = new Set((claims.proven ?? []).map((p) => p.name));
  return holders.flatMap((holder) => {
    const names = holder.names.filter(
      (name) => holder.accountId === accountId || holder.verified.includes(name) || !proven.has(name),
    );
    return names.length > 0
      ? [{ ...holder, names, verified: holder.verified.filter((n) => names.includes(n)) }]
      : [];
  });
}

/**
 * Takes another account's unverified hold on names a write proved it owns: the holding Domain and
 * everything under it go (its name was taken), or only the domain aliases taken. Each removal or
 * change is audited `evict` in the holder's account, by the platform itself (the new holder is not
 * named there), and announced to the change feed; the caller holds the writers' lock.
 */
export async function evict(q: SqlExecutor, holder: DomainClaim, steps: WriteSteps): Promise<void> {
  const platform: WriteContext = { actor: "system" };
  if (holder.names.includes(holder.domain)) {
    const under = (
      await q.all(
        `SELECT ${OBJECT_COLUMNS} FROM objects WHERE account_id = $1 AND domain = $2 ORDER BY kind, id`,
        [holder.accountId, holder.domain],
      )
    ).map(toObject);
    // Everything under the domain first, the Domain itself last (as a delete by hand would go).
    const isDomain = (o: StoredObject) => o.kind === "Domain" && o.id === holder.domain;
    for (const o of [...under.filter((o) => !isDomain(o)), ...under.filter(isDomain)]) {
      await removeObject(q, platform, o, steps, "evict");
    }
    return;
  }
  const current = await selectObject(q, { accountId: holder.accountId, kind: "Domain", id: holder.domain });
  if (!current) return;
  const aliases = ((current.spec["aliases"] as string[] | undefined) ?? []).filter(
    (name) => !holder.names.includes(name),
  );
  const at = steps.now().toISOString();
  const after: StoredObject = {
    ...current,
    spec: { ...current.spec, aliases },
    etag: newEtag(),
    version: current.version + 1,
    updatedAt: at,
  };
  await q.run(
    "UPDATE objects SET spec = $4, etag = $5, version = $6, updated_at = $7 WHERE account_id = $1 AND kind = $2 AND id = $3",
    [current.accountId, current.kind, current.id, canonicalJson(after.spec), after.etag, after.version, at],
  );
  await pruneVerification(q, current.accountId, current.id, namesOf(after));
  await steps.audit(q, platform, {
    accountId: current.accountId,
    action: "evict",
    kind: "Domain",
    objectId: current.id,
    before: auditView(current),
    after: auditView(after),
  });
  await steps.bump(q, { accountId: current.accountId, kind: "Domain", id: current.id, op: "put" });
}

/**
 * Inside a write: records a check and/or a mark of one name of `domain`, audited `verify`; a status change bumps
 * the revision so the SMTP engine follows. Returns whether the status changed.
 */
export async function saveCheck(
  q: SqlExecutor,
  ctx: WriteContext,
  domain: StoredObject,
  name: string,
  change: Pick<DomainCheckInput, "check" | "verifiedBy">,
  at: string,
  steps: WriteSteps,
): Promise<boolean> {
  const before = await selectVerification(q, domain.accountId, name);
  const after = nextVerification(name, before, change, at);
  if (before && canonicalJson(before) === canonicalJson(after)) return false;
  await saveVerification(q, domain.accountId, domain.id, after);
  await steps.audit(q, ctx, {
    accountId: domain.accountId,
    action: "verify",
    kind: "Domain",
    objectId: domain.id,
    before: verificationAudit(before),
    after: verificationAudit(after),
  });
  const changed = (before?.status ?? "pending") !== after.status;
  if (changed) await steps.bump(q, { accountId: domain.accountId, kind: "Domain", id: domain.id, op: "put" });
  return changed;
}

/**
 * Inside a write: records a check of one name of a Domain (`not_found` when the Domain is missing or
 * does not hold the name); calls `mark` when a status changed, else announces. Returns the Domain
 * with its verification.
 */
export async function recordDomainCheck(
  q: SqlExecutor,
  input: DomainCheckInput,
  ctx: WriteContext,
  steps: WriteSteps,
  mark: () => void,
): Promise<StoredObject> {
  const what = `Domain ${input.domain}`;
  const domain = await selectObject(q, { accountId: input.accountId, kind: "Domain", id: input.domain });
  if (!domain) throw new StoreError("not_found", `${what} does not exist`);
  if (!namesOf(domain).includes(input.name)) {
    throw new StoreError("not_found", `${what} does not hold the name ${input.name}`);
  }
  if (await saveCheck(q, ctx, domain, input.name, input, steps.now().toISOString(), steps)) mark();
  // Other nodes drop their cached reads of this domain when this reaches them (no revision for a
  // check that changed no status).
  else await steps.announce(q);
  return (await withVerification(q, [domain]))[0]!;
}
