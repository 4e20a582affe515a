/** The `tenancies` group of MailplaneClient: a domain's whole tenancy as one document (bulk mode). */
import { validationErrorFromFields } from "../../errors.ts";
import type { DomainTenancy, DomainTenancyDocumentInput, TenancyPlan } from "../../models/domain-tenancy.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.tenancies`: read a domain's tenancy, plan a change without writing, apply it in one
 * transaction, or delete the domain with everything in it.
 * @example const plan = await client.tenancies.plan({ domains: [{ name: "example.com" }], users: [] });
 */
export function tenanciesApi(api: ContractCaller) {
  return {
    get: (domain: string, options?: RequestOptions): Promise<DomainTenancy> =>
      api.call("getDomainTenancy", { domain }, options),
    plan: (document: DomainTenancyDocumentInput, options?: RequestOptions): Promise<TenancyPlan> =>
      api.call("planDomainTenancy", { domain: tenancyDomain(document) }, { ...options, body: document }),
    apply: (document: DomainTenancyDocumentInput, options?: RequestOptions): Promise<TenancyPlan> =>
      api.call("applyDomainTenancy", { domain: tenancyDomain(document) }, { ...options, body: document }),
    delete: (domain: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteDomainTenancy", { domain }, options),
  };
}

/** The type of `client.tenancies`. */
export type TenanciesApi = ReturnType<typeof tenanciesApi>;

/** The domain a tenancy document declares (the path it is sent to); the server checks it again. */
function tenancyDomain(document: DomainTenancyDocumentInput): string {
  const name = document.domains?.[0]?.name;
  if (typeof name !== "string" || name === "") {
    throw validationErrorFromFields([
      { path: ["domains", 0, "name"], code: "invalid_type", message: "is required", in: "body" },
    ]);
  }
  return name;
}
