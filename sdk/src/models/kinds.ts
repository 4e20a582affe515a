/** The catalogue of tenancy kinds: API paths, key and secret fields, schemas and ID functions, in one table. */
import type { z } from "zod";
import { AccessRule, AccessRulePatch, AccessRuleSpec, accessRuleId } from "./access-rule.ts";
import { Account, AccountSpec, accountId } from "./account.ts";
import { Alias, AliasPatch, AliasSpec, aliasDomain, aliasId } from "./alias.ts";
import { Domain, DomainPatch, DomainSpec, domainId } from "./domain.ts";
import {
  FilterSettings,
  FilterSettingsPatch,
  FilterSettingsSpec,
  filterSettingsId,
} from "./filter-settings.ts";
import { Group, GroupPatch, GroupSpec, groupDomain, groupId } from "./group.ts";
import {
  PasswordPolicy,
  PasswordPolicyPatch,
  PasswordPolicySpec,
  passwordPolicyId,
} from "./password-policy.ts";
import {
  ReportSettings,
  ReportSettingsPatch,
  ReportSettingsSpec,
  reportSettingsId,
} from "./report-settings.ts";
import { Route, RoutePatch, RouteSpec, routeId, routeName } from "./route.ts";
import { SenderList, SenderListPatch, SenderListSpec, senderListId, senderListName } from "./sender-list.ts";
import { User, UserPatch, UserSpec, userDomain, userId } from "./user.ts";

/**
 * Encodes one path segment, leaving the characters RFC 3986 §3.3 allows in a segment (`@`, `:`,
 * `*`, `+`, …) readable: `/v1/domains/example.com/users/alice@example.com`.
 * @example encodeSegment("[2001:db8::1]:25") // "%5B2001:db8::1%5D:25"
 */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/%(40|3A|24|26|2B|2C|3B|3D)/gi, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** Fills a fastify-style path template (`/v1/domains/:domain`) with encoded parameters. */
export function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeSegment(value);
  });
}

/** Everything the schema generator, the API, the store and the provider need to know about a kind. */
export interface KindDescriptor<
  Spec extends z.ZodType = z.ZodType,
  Obj extends z.ZodType = z.ZodType,
  Patch extends z.ZodType = z.ZodType,
> {
  /** The kind's name: `Domain`, `Route`, … */
  readonly name: string;
  /** The collection's property in the tenancy manifest and its path word: `routes`, `senderLists`. */
  readonly plural: string;
  /** Fastify-style path of the collection (list), or null for singletons. */
  readonly collectionPath: string | null;
  /** Fastify-style path of one object: `/v1/domains/:domain/routes/:route`. */
  readonly itemPath: string;
  /** For singletons, the path of the account-wide object (`/v1/filter-settings`). */
  readonly accountPath: string | null;
  /** Fields whose change replaces the object (delete + create) rather than updating it. */
  readonly keyFields: readonly string[];
  /** Write-only fields: accepted on writes, never returned, never in state or audit records. */
  readonly secretFields: readonly string[];
  /** One object per scope: creating adopts it and deleting resets it to defaults. */
  readonly singleton: boolean;
  readonly spec: Spec;
  readonly object: Obj;
  readonly patch: Patch;
  /** The human-readable ID of a normalised spec. */
  id(spec: z.output<Spec>): string;
  /** The path parameters of a normalised spec, for `itemPath` (or `accountPath`). */
  params(spec: z.output<Spec>): Record<string, string>;
  /** The API path of a normalised spec's object: `/v1/domains/example.com/routes/mx1.example.net:25`. */
  path(spec: z.output<Spec>): string;
}

function kind<Spec extends z.ZodType, Obj extends z.ZodType, Patch extends z.ZodType>(
  d: Omit<KindDescriptor<Spec, Obj, Patch>, "path">,
): KindDescriptor<Spec, Obj, Patch> {
  return {
    ...d,
    path(spec) {
      const params = d.params(spec);
      const template = d.accountPath !== null && params["domain"] === undefined ? d.accountPath : d.itemPath;
      return fillPath(template, params);
    },
  };
}

/** Singletons are scoped to `account` (no domain parameter) or a domain. */
function scopeParams(spec: { scope: string }): Record<string, string> {
  return spec.scope === "account" ? {} : { domain: spec.scope };
}

export const domainKind = kind({
  name: "Domain",
  plural: "domains",
  collectionPath: "/v1/domains",
  itemPath: "/v1/domains/:domain",
  accountPath: null,
  keyFields: ["name"],
  secretFields: [],
  singleton: false,
  spec: DomainSpec,
  object: Domain,
  patch: DomainPatch,
  id: domainId,
  params: (spec) => ({ domain: spec.name }),
});

export const routeKind = kind({
  name: "Route",
  plural: "routes",
  collectionPath: "/v1/domains/:domain/routes",
  itemPath: "/v1/domains/:domain/routes/:route",
  accountPath: null,
  keyFields: ["domain", "host", "port"],
  secretFields: [],
  singleton: false,
  spec: RouteSpec,
  object: Route,
  patch: RoutePatch,
  id: routeId,
  params: (spec) => ({ domain: spec.domain, route: routeName(spec) }),
});

export const aliasKind = kind({
  name: "Alias",
  plural: "aliases",
  collectionPath: "/v1/domains/:domain/aliases",
  itemPath: "/v1/domains/:domain/aliases/:alias",
  accountPath: null,
  keyFields: ["address"],
  secretFields: [],
  singleton: false,
  spec: AliasSpec,
  object: Alias,
  patch: AliasPatch,
  id: aliasId,
  params: (spec) => ({ domain: aliasDomain(spec), alias: spec.address }),
});

export const senderListKind = kind({
  name: "SenderList",
  plural: "senderLists",
  collectionPath: "/v1/domains/:domain/sender-lists",
  itemPath: "/v1/domains/:domain/sender-lists/:list",
  accountPath: null,
  keyFields: ["domain", "kind", "target"],
  secretFields: [],
  singleton: false,
  spec: SenderListSpec,
  object: SenderList,
  patch: SenderListPatch,
  id: senderListId,
  params: (spec) => ({ domain: spec.domain, list: senderListName(spec) }),
});

export const filterSettingsKind = kind({
  name: "FilterSettings",
  plural: "filterSettings",
  collectionPath: null,
  itemPath: "/v1/domains/:domain/filter-settings",
  accountPath: "/v1/filter-settings",
  keyFields: ["scope"],
  secretFields: [],
  singleton: true,
  spec: FilterSettingsSpec,
  object: FilterSettings,
  patch: FilterSettingsPatch,
  id: filterSettingsId,
  params: scopeParams,
});

export const passwordPolicyKind = kind({
  name: "PasswordPolicy",
  plural: "passwordPolicies",
  collectionPath: null,
  itemPath: "/v1/domains/:domain/password-policy",
  accountPath: "/v1/password-policy",
  keyFields: ["scope"],
  secretFields: [],
  singleton: true,
  spec: PasswordPolicySpec,
  object: PasswordPolicy,
  patch: PasswordPolicyPatch,
  id: passwordPolicyId,
  params: scopeParams,
});

export const reportSettingsKind = kind({
  name: "ReportSettings",
  plural: "reportSettings",
  collectionPath: null,
  itemPath: "/v1/domains/:domain/report-settings",
  accountPath: "/v1/report-settings",
  keyFields: ["scope"],
  secretFields: [],
  singleton: true,
  spec: ReportSettingsSpec,
  object: ReportSettings,
  patch: ReportSettingsPatch,
  id: reportSettingsId,
  params: scopeParams,
});

export const userKind = kind({
  name: "User",
  plural: "users",
  collectionPath: "/v1/domains/:domain/users",
  itemPath: "/v1/domains/:domain/users/:user",
  accountPath: null,
  keyFields: ["address"],
  secretFields: ["password"],
  singleton: false,
  spec: UserSpec,
  object: User,
  patch: UserPatch,
  id: userId,
  params: (spec) => ({ domain: userDomain(spec), user: spec.address }),
});

export const groupKind = kind({
  name: "Group",
  plural: "groups",
  collectionPath: "/v1/domains/:domain/groups",
  itemPath: "/v1/domains/:domain/groups/:group",
  accountPath: null,
  keyFields: ["address"],
  secretFields: [],
  singleton: false,
  spec: GroupSpec,
  object: Group,
  patch: GroupPatch,
  id: groupId,
  params: (spec) => ({ domain: groupDomain(spec), group: spec.address }),
});

export const accessRuleKind = kind({
  name: "AccessRule",
  plural: "accessRules",
  collectionPath: "/v1/access-rules",
  itemPath: "/v1/access-rules/:scope/:service",
  accountPath: null,
  keyFields: ["scope", "service"],
  secretFields: [],
  singleton: false,
  spec: AccessRuleSpec,
  object: AccessRule,
  patch: AccessRulePatch,
  id: accessRuleId,
  params: (spec) => ({ scope: spec.scope, service: spec.service }),
});

/** Accounts are managed by platform admins; listed here so the generator emits their schema too. */
export const accountKind = kind({
  name: "Account",
  plural: "accounts",
  collectionPath: "/v1/accounts",
  itemPath: "/v1/accounts/:account",
  accountPath: null,
  keyFields: ["id"],
  secretFields: [],
  singleton: false,
  spec: AccountSpec,
  object: Account,
  patch: AccountSpec,
  id: accountId,
  params: (spec) => ({ account: spec.id }),
});

/**
 * The tenancy kinds in dependency order (a domain before what lives in it): the order the
 * provider's `Tenancy` creates them and the manifest lists them.
 */
export const tenancyKinds = [
  domainKind,
  routeKind,
  aliasKind,
  senderListKind,
  filterSettingsKind,
  passwordPolicyKind,
  userKind,
  // After users: a group's members are usually the domain's users.
  groupKind,
  // Last: a rule names the account, a domain or a user, and only guards sign-ins.
  accessRuleKind,
  // After the domain's users and aliases: the catch-all rule reads them.
  reportSettingsKind,
] as const;

/** Every kind with a spec and an ID function (tenancy kinds and Account). ApiToken IDs are generated. */
export const kinds = [...tenancyKinds, accountKind] as const;

export type TenancyKindName = (typeof tenancyKinds)[number]["name"];

/**
 * Looks a kind up by name. @throws Error for an unknown name.
 * @example kindByName("Route").keyFields // ["domain", "host", "port"]
 */
export function kindByName(name: string): KindDescriptor {
  const found = kinds.find((k) => k.name === name);
  if (!found) throw new Error(`unknown kind ${name}`);
  return found as unknown as KindDescriptor;
}
