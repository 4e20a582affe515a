/**
 * Domains: `/v1/domains[/:domain]` and `POST /v1/domains/:domain/verify`. A domain's DNS records and
 * ownership verification are rendered here; deleting refuses while it holds objects.
 */
import type { FastifyInstance } from "fastify";
import {
  type DomainSpec,
  DomainVerifyRequest,
  domainKind,
  type KindDescriptor,
  toAsciiDomain,
  validationErrorFromFields,
  verificationRecordName,
  verificationRecordValue,
} from "../../../sdk/src/index.ts";
import type { DomainClaim, StoredObject } from "../../store/index.ts";
import { writeContext } from "../audit.ts";
import { requireAuth } from "../auth.ts";
import { domainDnsRecords } from "../dns.ts";
import {
  checkVerificationRecord,
  domainNamesOf,
  renderVerification,
  type VerificationCheck,
} from "../domain-ownership.ts";
import { normalisedParams, serve, setEtag } from "../lib/http.ts";
import type { ApiServices } from "../lib/services.ts";
import { registerKind, type WriteHookInput, type WriteHookResult } from "../lib/tenancy.ts";
import { fieldError, problem } from "../problem.ts";
import { parseWith } from "../validation.ts";

/** The Domain as the API returns it: spec and metadata, the DNS records to publish, the verification per name. */
function renderDomain(
  o: StoredObject,
  base: Record<string, unknown>,
  s: ApiServices,
): Record<string, unknown> {
  const token = (name: string) => s.verificationToken(o.accountId, name);
  return {
    ...base,
    dnsRecords: domainDnsRecords(base as unknown as DomainSpec, s.mxHost, s.dkim, token),
    verification: renderVerification(o),
  };
}

/**
 * The names another account holds *unverified* that this account proves it owns now: their
 * verification records (this account's token) are looked up in DNS, once per request. What each
 * lookup found is returned too, for the refusal's message when it found nothing.
 */
async function takeoverChecks(
  s: ApiServices,
  accountId: string,
  names: readonly string[],
): Promise<Map<string, VerificationCheck>> {
  const checks = new Map<string, VerificationCheck>();
  for (const hold of await s.store.domainNames(names)) {
    if (hold.accountId === accountId || hold.verification?.status === "verified") continue;
    checks.set(
      hold.name,
      await checkVerificationRecord(s.resolver, hold.name, s.verificationToken(accountId, hold.name)),
    );
  }
  return checks;
}

/**
 * A Domain claims its name and its domain aliases: the store refuses the write when another Domain,
 * in any account, holds one of them (409 MP_CONFLICT, a field error per name), unless it is another
 * account's unverified hold on a name whose verification record *this* account published — then that
 * hold is evicted in the same transaction. Another account is never named.
 */
async function claimDomainNames(input: WriteHookInput): Promise<WriteHookResult> {
  const { accountId, id, spec, services } = input;
  const aliases = (spec["aliases"] as string[] | undefined) ?? [];
  const names = [id, ...aliases];
  const checks = await takeoverChecks(services, accountId, names);
  const proven = [...checks].flatMap(([name, check]) =>
    check.result === "verified" ? [{ name, detail: check.detail }] : [],
  );
  const refuse = (holders: DomainClaim[]) => {
    const errors = holders.flatMap((holder) =>
      holder.names.map((name) => {
        const path = name === id ? ["name"] : ["aliases", submittedIndex(input, name, aliases)];
        return fieldError(path, "custom", conflictMessage(input, holder, name, checks.get(name)));
      }),
    );
    // Another account's hold is MP_DOMAIN_TAKEN (a name reaches one tenant); this account's own, MP_CONFLICT.
    if (holders.some((holder) => holder.accountId !== accountId)) {
      return problem("MP_DOMAIN_TAKEN", `a name of domain ${id} is held by another account`, { errors });
    }
    return problem("MP_CONFLICT", `a name of domain ${id} belongs to another domain`, { errors });
  };
  return { spec, claims: { names, proven, refuse } };
}

/** Why one name cannot be claimed, without naming another account. */
function conflictMessage(
  input: WriteHookInput,
  holder: DomainClaim,
  name: string,
  check: VerificationCheck | undefined,
): string {
  if (holder.accountId === input.accountId) {
    return name === holder.domain
      ? `is already the domain ${holder.domain}`
      : `is already an alias of the domain ${holder.domain}`;
  }
  if (holder.verified.includes(name)) return "is already in use on this platform";
  const record = `${verificationRecordName(name)} TXT "${verificationRecordValue(input.services.verificationToken(input.accountId, name))}"`;
  const found = check && check.result !== "verified" ? ` (${check.found})` : "";
  return `is held by another account that has not verified it; to take it over, publish ${record} and send this again${found}`;
}

/** Where `name` stands in the request's `aliases` as the client wrote it (the model sorts the set). */
function submittedIndex(input: WriteHookInput, name: string, aliases: string[]): number {
  const submitted = (input.request.body as { aliases?: unknown } | undefined)?.aliases;
  const at = Array.isArray(submitted)
    ? submitted.findIndex((a) => typeof a === "string" && toAsciiDomain(a) === name)
    : -1;
  return at >= 0 ? at : aliases.indexOf(name);
}

/**
 * `POST /v1/domains/:domain/verify`: a DNS check of each pending name asked for (verified ones are not
 * looked up again), or — platform admins only, 403 for anyone else — a mark as verified. Every check
 * result and status change is recorded and audited by the store.
 */
function verifyRoute(app: FastifyInstance): void {
  const s = app.services;
  serve(app, "verifyDomain", async (request, reply) => {
    const auth = requireAuth(request);
    const domain = normalisedParams(request).domain!;
    // Existence first: another account's domain answers 404 whatever the body.
    let o = await s.store.getObject(auth.accountId, "Domain", domain);
    if (!o) throw problem("MP_NOT_FOUND", `Domain ${domain} does not exist`);
    const body = parseWith(DomainVerifyRequest, request.body ?? {}, "body");
    const held = domainNamesOf(o);
    const names = body.names ?? held;
    const unknown = names.flatMap((name, i) =>
      held.includes(name)
        ? []
        : [fieldError(["names", i], "custom", `is not a name of the domain ${domain}`)],
    );
    if (unknown.length > 0) throw validationErrorFromFields(unknown);
    const ctx = writeContext(request);
    if (body.method === "admin") {
      if (auth.role !== "platform-admin") {
        throw problem(
          "MP_FORBIDDEN",
          "only a platform admin may mark a domain verified; publish its verification records and ask for a DNS check instead",
        );
      }
      for (const name of names) {
        o = await s.store.recordDomainCheck(
          { accountId: auth.accountId, domain, name, verifiedBy: "admin" },
          ctx,
        );
      }
    } else {
      const pending = new Set(renderVerification(o).flatMap((v) => (v.status === "pending" ? [v.name] : [])));
      for (const name of names.filter((n) => pending.has(n))) {
        const check = await checkVerificationRecord(
          s.resolver,
          name,
          s.verificationToken(auth.accountId, name),
        );
        o = await s.store.recordDomainCheck(
          {
            accountId: auth.accountId,
            domain,
            name,
            check: { result: check.result, detail: check.detail },
            ...(check.result === "verified" ? { verifiedBy: "dns" as const } : {}),
          },
          ctx,
        );
      }
    }
    const base = { ...o.spec, id: o.id, etag: o.etag, createdAt: o.createdAt, updatedAt: o.updatedAt };
    setEtag(reply, o.etag);
    return reply.status(200).send(renderDomain(o, base, s));
  });
}

/**
 * The Domain route plugin. Deleting a domain takes its filter settings and password policy along and
 * answers 409 MP_CONFLICT while routes, aliases, lists or users remain (the provider deletes those first).
 *
 * @example app.register(domainRoutes)
 */
export async function domainRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: domainKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ name: p.domain }),
    render: renderDomain,
    beforeWrite: claimDomainNames,
    deleteOptions: { refuseIfDependents: true, cascadeKinds: ["FilterSettings", "PasswordPolicy"] },
  });
  verifyRoute(app);
}
