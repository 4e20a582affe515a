/** The `domains` group of MailplaneClient: domains, their ownership checks and their DKIM keys. */
import type { DkimRotationInput } from "../../contract/dkim.ts";
import type { Domain, DomainPatch, DomainSpecInput, DomainVerifyRequest } from "../../models/domain.ts";
import { domainKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.domains`: the account's domains.
 * @example await client.domains.put({ name: "example.com" })
 */
export function domainsApi(api: ContractCaller) {
  return {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<Domain>> =>
      api.call("listDomains", {}, { ...options, query }),
    get: (name: string, options?: RequestOptions): Promise<Domain> =>
      api.call("getDomain", { domain: name }, options),
    put: (spec: DomainSpecInput, options?: RequestOptions): Promise<Domain> => {
      const body = api.spec(domainKind, spec);
      return api.call("putDomain", { domain: body.name }, { ...options, body });
    },
    patch: (name: string, patch: DomainPatch, options?: RequestOptions): Promise<Domain> =>
      api.call("patchDomain", { domain: name }, { ...options, body: patch }),
    delete: (name: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteDomain", { domain: name }, options),
    /**
     * Checks the domain's ownership now: each pending name's verification TXT record is looked up.
     * A platform admin may instead mark names verified with `{ method: "admin" }`. Answers the
     * domain; its `verification` says, per name, what the check found.
     * @example const d = await client.domains.verify("example.com"); d.verification[0]?.status // "verified"
     */
    verify: (name: string, request: DomainVerifyRequest = {}, options?: RequestOptions): Promise<Domain> =>
      api.call("verifyDomain", { domain: name }, { ...options, body: request }),
    /**
     * Creates a pending DKIM key under a new selector (published in `dnsRecords`, not yet signing):
     * RSA by default, `{ algorithm: "ed25519" }` for an Ed25519 key (RFC 8463) that signs beside RSA.
     * @example await client.domains.rotateDkim("example.com", { algorithm: "ed25519" })
     */
    rotateDkim: (name: string, request: DkimRotationInput = {}, options?: RequestOptions): Promise<Domain> =>
      api.call("rotateDomainDkim", { domain: name }, { ...options, query: request }),
    /** Signs the domain's mail with a pending selector from now on. */
    activateDkim: (name: string, selector: string, options?: RequestOptions): Promise<Domain> =>
      api.call("activateDomainDkim", { domain: name }, { ...options, body: { selector } }),
  };
}

/** The type of `client.domains`. */
export type DomainsApi = ReturnType<typeof domainsApi>;
