/**
 * `mailplane`: the Pulumi resources of mail tenancy as code. `import * as mailplane from "mailplane"`.
 * Each resource talks to the control plane at `mailplane:endpoint` with `mailplane:token` (stack
 * config) or MAILPLANE_ENDPOINT / MAILPLANE_TOKEN, or at its own `connection`; the `get…` lookups
 * read objects managed elsewhere.
 */

export type { ConnectionArgs } from "./lib/connection.ts";
export type { Arg, CommonArgs } from "./lib/resource.ts";
export * from "./lookups.ts";
export { AccessRule, type AccessRuleArgs } from "./resources/access-rule.ts";
export { Account, type AccountArgs } from "./resources/account.ts";
export { Alias, type AliasArgs } from "./resources/alias.ts";
export { ApiToken, type ApiTokenArgs } from "./resources/api-token.ts";
export { Domain, type DomainArgs } from "./resources/domain.ts";
export { DomainTenancy, type DomainTenancyArgs } from "./resources/domain-tenancy.ts";
export { FilterSettings, type FilterSettingsArgs } from "./resources/filter-settings.ts";
export { Group, type GroupArgs } from "./resources/group.ts";
export { PasswordPolicy, type PasswordPolicyArgs } from "./resources/password-policy.ts";
export { ReportSettings, type ReportSettingsArgs } from "./resources/report-settings.ts";
export { Route, type RouteArgs } from "./resources/route.ts";
export { SenderList, type SenderListArgs } from "./resources/sender-list.ts";
export { User, type UserArgs } from "./resources/user.ts";
export { readTenancyManifest, Tenancy, type TenancyArgs } from "./tenancy.ts";
