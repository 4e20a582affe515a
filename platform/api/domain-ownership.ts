/**
 * Domain ownership: each account's verification token per name, the DNS check of its TXT record, the
 * Domain's `verification` as the API shows it, and the periodic re-check of pending names.
 */
import { createHash } from "node:crypto";
import { Resolver } from "node:dns/promises";
import {
  type DomainNameVerification,
  type VerificationCheckResult,
  verificationRecordName,
  verificationRecordValue,
} from "../../sdk/src/index.ts";
import type { DnsResolver } from "../smtp/content/spf.ts";
import type { DomainNameHold } from "../store/contract/domain-name-store.ts";
import type { StoredObject } from "../store/contract/object-store.ts";
import type { Store } from "../store/store.ts";

/**
 * An account's token for a name: SHA-256 of (account, name), 32 hex digits. Deterministic, so an
 * account learns its token before it holds the name (the 409 of a name held unverified names it) and
 * every node computes the same one; derived from nothing secret, so publishing it in DNS leaks
 * nothing. Knowing another account's token gains nothing: only whoever controls the name's DNS can
 * publish it.
 *
 * @example verificationToken("acme", "example.com") // "3f9c…" (32 hex digits)
 */
export function verificationToken(accountId: string, name: string): string {
  return createHash("sha256")
    .update(`mailplane domain verification\u0000${accountId}\u0000${name}`)
    .digest("hex")
    .slice(0, 32);
}

/** What one DNS check found, in the API's words. */
export interface VerificationCheck {
  result: VerificationCheckResult;
  /** What was found, e.g. `no TXT record at _mailplane-verify.example.com`. */
  found: string;
  /** `found` and, unless verified, what to do about it. */
  detail: string;
}

/** The system resolver with short timeouts: a check answers within ~6 s even when DNS does not. */
export function systemResolver(): DnsResolver & { cancel(): void } {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  return Object.assign(
    (name: string, rrtype: string) => resolver.resolve(name, rrtype) as Promise<unknown[]>,
    {
      cancel: () => resolver.cancel(),
    },
  );
}

/** At most this many of the TXT records found are quoted in a mismatch's detail. */
const QUOTED_RECORDS = 3;

/**
 * Looks up `_mailplane-verify.<name>` TXT and says whether it carries `mailplane-verification=<token>`.
 *
 * @example await checkVerificationRecord(resolver, "example.com", token) // { result: "missing", detail: "no TXT record at …" }
 */
export async function checkVerificationRecord(
  resolver: DnsResolver,
  name: string,
  token: string,
): Promise<VerificationCheck> {
  const owner = verificationRecordName(name);
  const expected = verificationRecordValue(token);
  const publish = `publish ${owner} TXT "${expected}"`;
  const outcome = (result: VerificationCheckResult, found: string, todo: string): VerificationCheck => ({
    result,
    found,
    detail: `${found}${todo}`,
  });
  let answers: unknown[];
  try {
    answers = await resolver(owner, "TXT");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOTFOUND" || code === "ENODATA") {
      return outcome("missing", `no TXT record at ${owner}`, `: ${publish}`);
    }
    const why = typeof code === "string" ? code : (error as Error).message;
    return outcome("error", `looking up ${owner} TXT failed (${why})`, "; it is checked again later");
  }
  // RFC 1035 §3.3.14: one TXT record is one or more character-strings (node:dns: an array of them),
  // read as their concatenation (RFC 7208 §3.3 does the same for long SPF records).
  const texts = answers.map((a) => (Array.isArray(a) ? a.join("") : String(a)).trim());
  if (texts.includes(expected)) return outcome("verified", `found ${owner} TXT "${expected}"`, "");
  if (texts.length === 0) return outcome("missing", `no TXT record at ${owner}`, `: ${publish}`);
  const quoted = texts
    .slice(0, QUOTED_RECORDS)
    .map((t) => JSON.stringify(t.length > 100 ? `${t.slice(0, 100)}…` : t))
    .join(", ");
  const more = texts.length > QUOTED_RECORDS ? ` and ${texts.length - QUOTED_RECORDS} more` : "";
  return outcome(
    "mismatch",
    `${owner} has TXT ${quoted}${more}, none of them this account's`,
    ` (mind typos and quotes): ${publish}`,
  );
}

/** The names a Domain holds: its name, then its domain aliases. */
export function domainNamesOf(o: Pick<StoredObject, "id" | "spec">): string[] {
  return [o.id, ...((o.spec["aliases"] as string[] | undefined) ?? [])];
}

/**
 * The Domain's `verification` as the API shows it: one entry per name (name, then aliases), a
 * name without a stored record being pending and never checked.
 */
export function renderVerification(o: StoredObject): DomainNameVerification[] {
  const records = new Map((o.verification ?? []).map((r) => [r.name, r]));
  return domainNamesOf(o).map((name) => {
    const r = records.get(name);
    return {
      name,
      status: r?.status ?? "pending",
      method: r?.method ?? null,
      verifiedAt: r?.verifiedAt ?? null,
      lastCheck:
        r?.checkedAt && r.checkResult
          ? {
              at: r.checkedAt,
              result: r.checkResult as VerificationCheckResult,
              detail: r.checkDetail ?? "",
            }
          : null,
    };
  });
}

/** Options of {@link startDomainChecks}. */
export interface DomainChecksOptions {
  store: Store;
  resolver: DnsResolver;
  /** The account's token for a name. */
  token(accountId: string, name: string): string;
  /** How often pending names are looked at, in ms (see {@link checkDue} for the back-off). */
  intervalMs: number;
  now?: () => Date;
  /** Told when a round failed (the next one tries again). */
  onError?: (error: unknown) => void;
}

/** The longest wait between two checks of a name that stays pending: one day. */
export const MAX_CHECK_WAIT_MS = 24 * 3_600_000;

/**
 * True when a pending name is due for a check: never checked, or its last check is older than a
 * quarter of the time since its first, bounded by `intervalMs` and one day. A new name is checked
 * every interval for its first hour or so, a name pending for days about daily, so a forgotten
 * squat costs a few audit entries a day, not one per interval.
 *
 * @example checkDue(hold, 900_000, Date.now())
 */
export function checkDue(hold: DomainNameHold, intervalMs: number, now: number): boolean {
  const v = hold.verification;
  if (!v?.checkedAt) return true;
  const age = now - Date.parse(v.createdAt);
  const wait = Math.min(MAX_CHECK_WAIT_MS, Math.max(intervalMs, age / 4));
  return now - Date.parse(v.checkedAt) >= wait;
}

/**
 * Re-checks pending names in the background (`mailplane serve`): every `intervalMs`, each pending
 * name that is due ({@link checkDue}) is looked up and the result recorded — audited as the
 * platform's own `verify`; a name found verified starts receiving mail within a second. Rounds never
 * overlap. Returns the stop function.
 *
 * @example const stop = startDomainChecks({ store, resolver, token, intervalMs: 900_000 });
 */
export function startDomainChecks(options: DomainChecksOptions): () => void {
  const now = options.now ?? (() => new Date());
  let stopped = false;
  let running = false;
  const round = async () => {
    if (running || stopped) return;
    running = true;
    try {
      const holds = await options.store.domainNames();
      for (const hold of holds) {
        if (stopped) return;
        if (hold.verification?.status === "verified") continue;
        if (!checkDue(hold, options.intervalMs, now().getTime())) continue;
        const check = await checkVerificationRecord(
          options.resolver,
          hold.name,
          options.token(hold.accountId, hold.name),
        );
        if (stopped) return;
        await options.store
          .recordDomainCheck(
            {
              accountId: hold.accountId,
              domain: hold.domain,
              name: hold.name,
              check: { result: check.result, detail: check.detail },
              ...(check.result === "verified" ? { verifiedBy: "dns" as const } : {}),
            },
            { actor: "system" },
          )
          // Deleted or renamed meanwhile: nothing to record.
          .catch((error: unknown) => {
            if ((error as { code?: unknown }).code !== "not_found") throw error;
          });
      }
    } catch (error) {
      if (!stopped) options.onError?.(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), options.intervalMs);
  timer.unref();
  // A first round right away: names that were pending while the platform was down.
  setImmediate(() => void round());
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
