/** The singleton groups of MailplaneClient (`filterSettings`, `reportSettings`, `passwordPolicies`): one object per scope, reset rather than deleted. */
import type {
  FilterSettings,
  FilterSettingsPatch,
  FilterSettingsSpecInput,
} from "../../models/filter-settings.ts";
import { filterSettingsKind, passwordPolicyKind, reportSettingsKind } from "../../models/kinds.ts";
import type {
  PasswordPolicy,
  PasswordPolicyPatch,
  PasswordPolicySpecInput,
} from "../../models/password-policy.ts";
import type {
  ReportSettings,
  ReportSettingsPatch,
  ReportSettingsSpecInput,
} from "../../models/report-settings.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.filterSettings`: the filter settings of `account` (the default) or a domain.
 * @example await client.filterSettings.reset("example.com")
 */
export function filterSettingsApi(api: ContractCaller) {
  return {
    get: (scope: string, options?: RequestOptions): Promise<FilterSettings> =>
      api.singleton("get", "FilterSettings", scope, options),
    put: (spec: FilterSettingsSpecInput, options?: RequestOptions): Promise<FilterSettings> => {
      const body = api.spec(filterSettingsKind, spec);
      return api.singleton("put", "FilterSettings", body.scope, { ...options, body });
    },
    patch: (scope: string, patch: FilterSettingsPatch, options?: RequestOptions): Promise<FilterSettings> =>
      api.singleton("patch", "FilterSettings", scope, { ...options, body: patch }),
    /** Resets to the defaults and returns them. */
    reset: (scope: string, options?: RequestOptions): Promise<FilterSettings> =>
      api.singleton("reset", "FilterSettings", scope, options),
  };
}

/** The type of `client.filterSettings`. */
export type FilterSettingsApi = ReturnType<typeof filterSettingsApi>;

/**
 * `client.reportSettings`: the report settings of `account` (the default) or a domain.
 * @example await client.reportSettings.get("account")
 */
export function reportSettingsApi(api: ContractCaller) {
  return {
    get: (scope: string, options?: RequestOptions): Promise<ReportSettings> =>
      api.singleton("get", "ReportSettings", scope, options),
    put: (spec: ReportSettingsSpecInput, options?: RequestOptions): Promise<ReportSettings> => {
      const body = api.spec(reportSettingsKind, spec);
      return api.singleton("put", "ReportSettings", body.scope, { ...options, body });
    },
    patch: (scope: string, patch: ReportSettingsPatch, options?: RequestOptions): Promise<ReportSettings> =>
      api.singleton("patch", "ReportSettings", scope, { ...options, body: patch }),
    /** Resets to the defaults (nothing is sent) and returns them. */
    reset: (scope: string, options?: RequestOptions): Promise<ReportSettings> =>
      api.singleton("reset", "ReportSettings", scope, options),
  };
}

/** The type of `client.reportSettings`. */
export type ReportSettingsApi = ReturnType<typeof reportSettingsApi>;

/**
 * `client.passwordPolicies`: the password policy of `account` or a domain.
 * @example await client.passwordPolicies.get("example.com")
 */
export function passwordPoliciesApi(api: ContractCaller) {
  return {
    get: (scope: string, options?: RequestOptions): Promise<PasswordPolicy> =>
      api.singleton("get", "PasswordPolicy", scope, options),
    put: (spec: PasswordPolicySpecInput, options?: RequestOptions): Promise<PasswordPolicy> => {
      const body = api.spec(passwordPolicyKind, spec);
      return api.singleton("put", "PasswordPolicy", body.scope, { ...options, body });
    },
    patch: (scope: string, patch: PasswordPolicyPatch, options?: RequestOptions): Promise<PasswordPolicy> =>
      api.singleton("patch", "PasswordPolicy", scope, { ...options, body: patch }),
    /** Resets to the defaults and returns them. */
    reset: (scope: string, options?: RequestOptions): Promise<PasswordPolicy> =>
      api.singleton("reset", "PasswordPolicy", scope, options),
  };
}

/** The type of `client.passwordPolicies`. */
export type PasswordPoliciesApi = ReturnType<typeof passwordPoliciesApi>;
