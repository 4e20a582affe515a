/** The `users` group of MailplaneClient: mail users, by address. */
import { userKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { User, UserPatch, UserSpecInput } from "../../models/user.ts";
import type { RequestOptions } from "../options.ts";
import { addressParams, type ContractCaller } from "./caller.ts";

/**
 * `client.users`: users by address. A user must be disabled before deletion.
 * @example await client.users.disable("alice@example.com")
 */
export function usersApi(api: ContractCaller) {
  return {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<User>> =>
      api.call("listUsers", { domain }, { ...options, query }),
    get: (address: string, options?: RequestOptions): Promise<User> =>
      api.call("getUser", addressParams("user", address), options),
    put: (spec: UserSpecInput, options?: RequestOptions): Promise<User> => {
      const body = api.spec(userKind, spec);
      return api.call("putUser", addressParams("user", body.address), { ...options, body });
    },
    patch: (address: string, patch: UserPatch, options?: RequestOptions): Promise<User> =>
      api.call("patchUser", addressParams("user", address), { ...options, body: patch }),
    /** `PATCH { enabled: true }`. */
    enable: (address: string, options?: RequestOptions): Promise<User> =>
      api.call("patchUser", addressParams("user", address), { ...options, body: { enabled: true } }),
    /** `PATCH { enabled: false }`: the user can no longer log in and their mail is refused. */
    disable: (address: string, options?: RequestOptions): Promise<User> =>
      api.call("patchUser", addressParams("user", address), { ...options, body: { enabled: false } }),
    /** Deletes a disabled user (409 MP_USER_ENABLED otherwise). */
    delete: (address: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteUser", addressParams("user", address), options),
  };
}

/** The type of `client.users`. */
export type UsersApi = ReturnType<typeof usersApi>;
