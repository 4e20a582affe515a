/** Domains: `/v1/domains[/:domain]`. A domain's DNS records are computed here; deleting refuses while it holds objects. */
import type { FastifyInstance } from "fastify";
import {
  DkimActivation,
  type DomainSpec,
  domainKind,
  type KindDescriptor,
  toAsciiDomain,
} from "../../../sdk/src/index.ts";
import type { DomainClaim } from "../../store/index.ts";
import { isStoreError, type StoredObject } from "../../store/store.ts";
import { writeContext } from "../audit.ts";
import { mayTouchDomain, requireAuth } from "../auth.ts";
import {
  createDomainDkimKey,
  DKIM_SPEC_FIELD,
  type DomainDkimState,
  domainDkimState,
  domainDnsRecords,
} from "../dns.ts";
import { normalisedParams, serve, setEtag } from "../lib/http.ts";
import { registerKind, type WriteHookInput, type WriteHookResult } from "../lib/tenancy.ts";
import { fieldError, problem } from "../problem.ts";
import { parseWith } from "../validation.ts";

/**
 * A Domain claims its name and its domain aliases: the store refuses the write when another Domain,
 * in any account, holds one of them (409 MP_CONFLICT, a field error per name). Another account's
 * Domain is not named.
 */
async function claimDomainNames(input: WriteHookInput): Promise<WriteHookResult> {
  const { accountId, id, spec } = input;
  const aliases = (spec["aliases"] as string[] | undefined) ?? [];
  const refuse = (holders: DomainClaim[]) => {
    const errors = holders.flatMap((holder) =>
      holder.names.map((name) => {
        const message =
          holder.accountId !== accountId
            ? "is already in use on this platform"
            : name === holder.domain
              ? `is already the domain ${holder.domain}`
              : `is already an alias of the domain ${holder.domain}`;
        const path = name === id ? ["name"] : ["aliases", submittedIndex(input, name, aliases)];
        return fieldError(path, "custom", message);
      }),
    );
    return problem("MP_CONFLICT", `a name of domain ${id} belongs to another domain`, { errors });
  };
  return { spec, claims: { names: [id, ...aliases], refuse } };
}

/**
 * Keeps the Domain's DKIM keys across writes (a client can neither send nor replace them) and gives a
 * new Domain its own key, so its first `dnsRecords` already carry the selector it is signed with.
 */
async function keepDkimKeys(input: WriteHookInput, result: WriteHookResult): Promise<WriteHookResult> {
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
 * The Domain route plugin. Deleting a domain takes its filter settings and password policy along and
 * answers 409 MP_CONFLICT while routes, aliases, lists or users remain (the provider deletes those first).
 *
 * @example app.register(domainRoutes)
 */
export async function domainRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: domainKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ name: p.domain }),
    render: (o, base, s) => ({
      ...base,
      dnsRecords: domainDnsRecords(base as unknown as DomainSpec, s.mxHost, s.dkim, domainDkimState(o.spec)),
    }),
    beforeWrite: async (input) => keepDkimKeys(input, await claimDomainNames(input)),
    internalFields: [DKIM_SPEC_FIELD],
    deleteOptions: { refuseIfDependents: true, cascadeKinds: ["FilterSettings", "PasswordPolicy"] },
  });
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
    const { [DKIM_SPEC_FIELD]: _internal, ...spec } = o.spec;
    const base = { ...spec, id: o.id, etag: o.etag, createdAt: o.createdAt, updatedAt: o.updatedAt };
    return {
      ...base,
      dnsRecords: domainDnsRecords(base as unknown as DomainSpec, s.mxHost, s.dkim, domainDkimState(o.spec)),
    };
  };

  serve(app, "rotateDomainDkim", async (request, reply) => {
    const o = await change(request, async (state, domain) => {
      const key = await createDomainDkimKey(s.store, s.masterKey, domain, s.now());
      if (!state) return { keys: [key], active: null };
      // Keep the key in use and the one before it (mail it signed may still be checked); a pending
      // key made earlier and never activated is replaced.
      const at = state.keys.findIndex((k) => k.selector === state.active);
      const kept = at < 0 ? [] : state.keys.slice(Math.max(0, at - 1), at + 1);
      return { keys: [...kept, key], active: state.active };
    });
    return answer(reply, o);
  });

  serve(app, "activateDomainDkim", async (request, reply) => {
    const { selector } = parseWith(DkimActivation, request.body, "body");
    const o = await change(request, async (state) => {
      const at = state ? state.keys.findIndex((k) => k.selector === selector) : -1;
      const active = state ? state.keys.findIndex((k) => k.selector === state.active) : -1;
      if (!state || at < 0 || at <= active) {
        throw problem("MP_CONFLICT", `selector ${selector} is not a pending DKIM key of this domain`, {
          errors: [fieldError(["selector"], "custom", "is not a pending DKIM selector (rotate first)")],
        });
      }
      // The previous key stays published (retired) so mail signed before the switch still verifies.
      return { keys: state.keys.slice(Math.max(0, active), at + 1), active: selector };
    });
    return answer(reply, o);
  });
}
