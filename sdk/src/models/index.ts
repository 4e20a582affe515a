/** The mailplane data model: every kind's spec, API object, ID function and the catalogue of kinds. */

export * from "./access-rule.ts";
export * from "./account.ts";
export * from "./alias.ts";
export * from "./api-token.ts";
export * from "./audit.ts";
export * from "./common.ts";
export * from "./common-passwords.ts";
export * from "./domain.ts";
export * from "./domain-tenancy.ts";
export * from "./filter-settings.ts";
export * from "./group.ts";
export * from "./kinds.ts";
export * from "./lockout.ts";
export * from "./login-audit.ts";
export * from "./managed-by.ts";
export * from "./page.ts";
export * from "./password-policy.ts";
export * from "./patch.ts";
export * from "./report-settings.ts";
export * from "./route.ts";
export * from "./sender-list.ts";
export * from "./session.ts";
export * from "./tenancy.ts";
export * from "./user.ts";
