/** The `accessRules` group of MailplaneClient: which networks may sign in, per scope and service. */
import type {
  AccessRule,
  AccessRulePatch,
  AccessRuleSpecInput,
  AccessService,
} from "../../models/access-rule.ts";
import { accessRuleKind } from "../../models/kinds.ts";
import type { ListQuery, Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.accessRules`: access rules by scope (`account`, a domain or a user address) and service
 * (`smtp-submission`, `api`).
 * @example await client.accessRules.get("example.com", "smtp-submission")
 */
export function accessRulesApi(api: ContractCaller) {
  return {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<AccessRule>> =>
      api.call("listAccessRules", {}, { ...options, query }),
    get: (scope: string, service: AccessService, options?: RequestOptions): Promise<AccessRule> =>
      api.call("getAccessRule", { scope, service }, options),
    put: (spec: AccessRuleSpecInput, options?: RequestOptions): Promise<AccessRule> => {
      const body = api.spec(accessRuleKind, spec);
      return api.call("putAccessRule", { scope: body.scope, service: body.service }, { ...options, body });
    },
    patch: (
      scope: string,
      service: AccessService,
      patch: AccessRulePatch,
      options?: RequestOptions,
    ): Promise<AccessRule> => api.call("patchAccessRule", { scope, service }, { ...options, body: patch }),
    delete: (scope: string, service: AccessService, options?: RequestOptions): Promise<void> =>
      api.call("deleteAccessRule", { scope, service }, options),
  };
}

/** The type of `client.accessRules`. */
export type AccessRulesApi = ReturnType<typeof accessRulesApi>;
