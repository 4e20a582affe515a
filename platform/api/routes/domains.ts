/** Domains: `/v1/domains[/:domain]`. A domain's DNS records are computed here; deleting refuses while it holds objects. */
import type { FastifyInstance } from "fastify";
import { type DomainSpec, domainKind, type KindDescriptor, toAsciiDomain } from "../../../sdk/src/index.ts";
import type { DomainClaim } from "../../store/index.ts";
import { domainDnsRecords } from "../dns.ts";
import { registerKind, type WriteHookInput, type WriteHookResult } from "../lib/tenancy.ts";
import { fieldError, problem } from "../problem.ts";

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
    render: (_o, base, s) => ({
      ...base,
      dnsRecords: domainDnsRecords(base as unknown as DomainSpec, s.mxHost, s.dkim),
    }),
    beforeWrite: claimDomainNames,
    deleteOptions: { refuseIfDependents: true, cascadeKinds: ["FilterSettings", "PasswordPolicy"] },
  });
}
