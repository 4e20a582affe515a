/** Domains: `/v1/domains[/:domain]`. A domain's DNS records are computed here; deleting refuses while it holds objects. */
import type { FastifyInstance } from "fastify";
import { type DomainSpec, domainKind, type KindDescriptor } from "../../../sdk/src/index.ts";
import { domainDnsRecords } from "../dns.ts";
import { registerKind } from "../lib/tenancy.ts";

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
    deleteOptions: { refuseIfDependents: true, cascadeKinds: ["FilterSettings", "PasswordPolicy"] },
  });
}
