/** The `senderLists` group of MailplaneClient: a domain's sender and recipient allow/block lists. */
import { senderListKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { SenderList, SenderListPatch, SenderListSpecInput } from "../../models/sender-list.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.senderLists`: allow/block lists; a list is named `kind-target` (`block-sender`).
 * @example await client.senderLists.get("example.com", "block-sender")
 */
export function senderListsApi(api: ContractCaller) {
  return {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<SenderList>> =>
      api.call("listSenderLists", { domain }, { ...options, query }),
    get: (domain: string, list: string, options?: RequestOptions): Promise<SenderList> =>
      api.call("getSenderList", { domain, list }, options),
    put: (spec: SenderListSpecInput, options?: RequestOptions): Promise<SenderList> => {
      const body = api.spec(senderListKind, spec);
      return api.call("putSenderList", senderListKind.params(body), { ...options, body });
    },
    patch: (
      domain: string,
      list: string,
      patch: SenderListPatch,
      options?: RequestOptions,
    ): Promise<SenderList> => api.call("patchSenderList", { domain, list }, { ...options, body: patch }),
    delete: (domain: string, list: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteSenderList", { domain, list }, options),
  };
}

/** The type of `client.senderLists`. */
export type SenderListsApi = ReturnType<typeof senderListsApi>;
