/**
 * Domains: `/v1/domains[/:domain]` and `POST /v1/domains/:domain/verify`. A domain's DNS records and
 * ownership verification are rendered here; deleting refuses while it holds objects.
 */
import type { FastifyInstance } from "fastify";
import {
  DkimActivation,
  DkimRotation,
  type DomainSpec,
  DomainVerifyRequest,
  domainKind,
  type KindDescriptor,
  toAsciiDomain,
  validationErrorFromFields,
  verificationRecordName,
  verificationRecordValue,
} from "../../../sdk/src/index.ts";
import { DEPARTED_KIND } from "../../store/contract/object-store.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import type { DomainClaim, StoredObject } from "../../store/index.ts";
import { writeContext } from "../audit.ts";
import { mayTouchDomain, requireAuth } from "../auth.ts";
import {
  algorithmOf,
  createDomainDkimKey,
  DKIM_SPEC_FIELD,
  type DkimAlgorithm,
  type DomainDkimState,
  domainDkimState,
  domainDnsRecords,
} from "../dns.ts";
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
    dnsRecords: domainDnsRecords(
      base as unknown as DomainSpec,
      s.mxHost,
      s.dkim,
      domainDkimState(o.spec),
      token,
    ),
    verification: renderVerification(o),
  };
}

/** The Domain's spec and metadata as the API shows them: without the DKIM state it keeps for itself. */
function apiBase(o: StoredObject): Record<string, unknown> {
  const { [DKIM_SPEC_FIELD]: _internal, ...spec } = o.spec;
  return { ...spec, id: o.id, etag: o.etag, createdAt: o.createdAt, updatedAt: o.updatedAt };
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
export async function claimDomainNames(input: WriteHookInput): Promise<WriteHookResult> {
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

/**
 * Keeps the Domain's DKIM keys across writes (a client can neither send nor replace them) and gives a
 * new Domain its own key, so its first `dnsRecords` already carry the selector it is signed with.
 */
export async function keepDkimKeys(input: WriteHookInput, result: WriteHookResult): Promise<WriteHookResult> {
  const { services: s, current, id } = input;
  let state = current ? domainDkimState(current.spec) : null;
  if (!current) {
    const key = await createDomainDkimKey(s.store, s.masterKey, id, s.now());
    state = { keys: [key], active: key.selector };
  }
  const spec = { ...result.spec };
  delete spec[DKIM_SPEC_FIELD];
  return { ...result, spec: state ? { ...spec, [DKIM_SPEC_FIELD]: state } : spec };
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
    setEtag(reply, o.etag);
    return reply.status(200).send(renderDomain(o, apiBase(o), s));
  });
}

/**
 * The Domain route plugin. Deleting a domain takes its filter settings and password policy along (and,
 * in the store, its login audit entries and the access rules scoped to it or its users) and answers
 * 409 MP_CONFLICT while routes, aliases, lists or users remain (the provider deletes those first).
 *
 * @example app.register(domainRoutes)
 */
export async function domainRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: domainKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ name: p.domain }),
    render: renderDomain,
    beforeWrite: async (input) => keepDkimKeys(input, await claimDomainNames(input)),
    internalFields: [DKIM_SPEC_FIELD],
    deleteOptions: {
      refuseIfDependents: true,
      // Its singletons and its departed users' forwards (nobody declares those) go with the domain.
      cascadeKinds: ["FilterSettings", "PasswordPolicy", "ReportSettings", DEPARTED_KIND],
    },
  });
  verifyRoute(app);
  dkimRoutes(app);
}

/** How many times a DKIM change is retried when another write to the Domain came between read and write. */
const DKIM_WRITE_ATTEMPTS = 3;

/**
 * `POST /v1/domains/:domain/dkim/rotate` and `…/activate`: each reads the Domain, changes only its DKIM
 * state, and writes it back on the etag it read (retrying when another write came between), so
 * nothing else of the Domain changes and no concurrent change is lost. The response is the Domain.
 */
function dkimRoutes(app: FastifyInstance): void {
  const s = app.services;
  const change = async (
    request: Parameters<Parameters<typeof serve>[2]>[0],
    next: (state: DomainDkimState | null, domain: string) => Promise<DomainDkimState>,
  ): Promise<StoredObject> => {
    const auth = requireAuth(request);
    const { domain } = normalisedParams(request);
    for (let attempt = 1; ; attempt++) {
      const current =
        domain && mayTouchDomain(auth, domain)
          ? await s.store.getObject(auth.accountId, "Domain", domain)
          : undefined;
      if (!domain || !current) throw problem("MP_NOT_FOUND", `domain ${domain} does not exist`);
      const state = await next(domainDkimState(current.spec), domain);
      try {
        const { object } = await s.store.putObject(
          {
            accountId: auth.accountId,
            kind: "Domain",
            id: domain,
            domain,
            spec: { ...current.spec, [DKIM_SPEC_FIELD]: state },
            mustExist: true,
            ifMatch: current.etag,
          },
          writeContext(request),
        );
        return object;
      } catch (error) {
        if (attempt >= DKIM_WRITE_ATTEMPTS || !isStoreError(error, "precondition_failed")) throw error;
      }
    }
  };
  const answer = (reply: Parameters<Parameters<typeof serve>[2]>[1], o: StoredObject) => {
    setEtag(reply, o.etag);
    return renderDomain(o, apiBase(o), s);
  };

  // RSA and Ed25519 keys are two chains (active, retired, pending each): a rotation or activation of
  // one type leaves the other's keys as they are.
  const ofType = (state: DomainDkimState, algorithm: DkimAlgorithm) =>
    state.keys.filter((k) => algorithmOf(k) === algorithm);
  const activeOf = (state: DomainDkimState, algorithm: DkimAlgorithm) =>
    algorithm === "ed25519" ? state.activeEd25519 : state.active;

  serve(app, "rotateDomainDkim", async (request, reply) => {
    const { algorithm } = parseWith(DkimRotation, request.query ?? {}, "query");
    const o = await change(request, async (state, domain) => {
      const key = await createDomainDkimKey(s.store, s.masterKey, domain, s.now(), algorithm);
      if (!state) return { keys: [key], active: null };
      // Keep the key of this type in use and the one before it (mail it signed may still be
      // checked); a pending key of this type made earlier and never activated is replaced.
      const same = ofType(state, algorithm);
      const at = same.findIndex((k) => k.selector === activeOf(state, algorithm));
      const kept = new Set(at < 0 ? [] : same.slice(Math.max(0, at - 1), at + 1));
      const keys = state.keys.filter((k) => algorithmOf(k) !== algorithm || kept.has(k));
      return { ...state, keys: [...keys, key] };
    });
    return answer(reply, o);
  });

  serve(app, "activateDomainDkim", async (request, reply) => {
    const { selector } = parseWith(DkimActivation, request.body, "body");
    const o = await change(request, async (state) => {
      const target = state?.keys.find((k) => k.selector === selector);
      const algorithm = target ? algorithmOf(target) : "rsa";
      const same = state ? ofType(state, algorithm) : [];
      const at = target ? same.indexOf(target) : -1;
      const active = state ? same.findIndex((k) => k.selector === activeOf(state, algorithm)) : -1;
      if (!state || at < 0 || at <= active) {
        throw problem("MP_CONFLICT", `selector ${selector} is not a pending DKIM key of this domain`, {
          errors: [fieldError(["selector"], "custom", "is not a pending DKIM selector (rotate first)")],
        });
      }
      // The previous key of this type stays published (retired) so mail signed before the switch
      // still verifies.
      const kept = new Set(same.slice(Math.max(0, active), at + 1));
      const keys = state.keys.filter((k) => algorithmOf(k) !== algorithm || kept.has(k));
      return algorithm === "ed25519"
        ? { ...state, keys, activeEd25519: selector }
        : { ...state, keys, active: selector };
    });
    return answer(reply, o);
  });
}
