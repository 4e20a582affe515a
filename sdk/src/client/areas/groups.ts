/** The `groups` group of MailplaneClient: group addresses that deliver to their members, by address. */
import type { Group, GroupPatch, GroupSpecInput } from "../../models/group.ts";
import { groupKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import { addressParams, type ContractCaller } from "./caller.ts";

/**
 * `client.groups`: groups by address; a group address delivers to its members.
 * @example await client.groups.get("team@example.com")
 */
export function groupsApi(api: ContractCaller) {
  return {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<Group>> =>
      api.call("listGroups", { domain }, { ...options, query }),
    get: (address: string, options?: RequestOptions): Promise<Group> =>
      api.call("getGroup", addressParams("group", address), options),
    put: (spec: GroupSpecInput, options?: RequestOptions): Promise<Group> => {
      const body = api.spec(groupKind, spec);
      return api.call("putGroup", addressParams("group", body.address), { ...options, body });
    },
    patch: (address: string, patch: GroupPatch, options?: RequestOptions): Promise<Group> =>
      api.call("patchGroup", addressParams("group", address), { ...options, body: patch }),
    delete: (address: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteGroup", addressParams("group", address), options),
  };
}

/** The type of `client.groups`. */
export type GroupsApi = ReturnType<typeof groupsApi>;
