/** The `accounts` and `tokens` groups of MailplaneClient: the accounts of the platform and each account's API tokens. */
import type { Account, AccountSpecInput } from "../../models/account.ts";
import type { ApiToken, ApiTokenCreated, ApiTokenSpecInput } from "../../models/api-token.ts";
import { accountKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.accounts`: the platform's accounts (platform admins).
 * @example await client.accounts.put({ id: "acme", name: "Acme" })
 */
export function accountsApi(api: ContractCaller) {
  return {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<Account>> =>
      api.call("listAccounts", {}, { ...options, query }),
    get: (id: string, options?: RequestOptions): Promise<Account> =>
      api.call("getAccount", { account: id }, options),
    put: (spec: AccountSpecInput, options?: RequestOptions): Promise<Account> => {
      const body = api.spec(accountKind, spec);
      return api.call("putAccount", { account: body.id }, { ...options, body });
    },
    delete: (id: string, options?: RequestOptions): Promise<void> =>
      api.call("deleteAccount", { account: id }, options),
  };
}

/** The type of `client.accounts`. */
export type AccountsApi = ReturnType<typeof accountsApi>;

/**
 * `client.tokens`: the API tokens of the account.
 * @example const { token } = await client.tokens.create({ role: "read-only", description: "monitoring" })
 */
export function tokensApi(api: ContractCaller) {
  return {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<ApiToken>> =>
      api.call("listTokens", {}, { ...options, query }),
    /** Creates a token; the answer's `token` is the secret, shown once. Retried safely with an Idempotency-Key. */
    create: (spec: ApiTokenSpecInput, options?: RequestOptions): Promise<ApiTokenCreated> =>
      api.call("createToken", {}, { ...options, body: spec }),
    get: (id: string, options?: RequestOptions): Promise<ApiToken> =>
      api.call("getToken", { token: id }, options),
    revoke: (id: string, options?: RequestOptions): Promise<void> =>
      api.call("revokeToken", { token: id }, options),
  };
}

/** The type of `client.tokens`. */
export type TokensApi = ReturnType<typeof tokensApi>;
