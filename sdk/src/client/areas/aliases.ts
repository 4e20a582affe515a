/** The `aliases` group of MailplaneClient: addresses that deliver elsewhere, by address. */
import type { Alias, AliasPatch, AliasSpecInput } from "../../models/alias.ts";
import { aliasKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import { addressParams, type ContractCaller } from "./caller.ts";

/**
 * `client.aliases`: aliases by address (`info@example.com`, catch-all `*@example.com`).
 * @example await client.aliases.put({ address: "info@example.com", action: { type: "forward", to: ["alice@example.com"] } })
 */
export function aliasesApi(api: ContractCaller) {
  return {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<Alias>> =>
      api.call("listAliases", { domain }, { ...options, query }),
    get: (address: string, options?: RequestOptions): Promise<Alias> =>
      api.call("getAlias", addressParams("alias", address), options),
    put: (spec: AliasSpecInput, options?: RequestOptions): Promise<Alias> => {
      const body = api.spec(aliasKind, spec);
      return api.call("putAlias", addressParams("alias", body.address), { ...options, body });
    },
    patch: (address: string, patch: AliasPatch, options?: RequestOptions): Promise<Alias> =>
      api.call("patchAlias", addressParams("alias", address), { ...options, body: patch }),
    delete: (address: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteAlias", addressParams("alias", address), options),
  };
}

/** The type of `client.aliases`. */
export type AliasesApi = ReturnType<typeof aliasesApi>;
