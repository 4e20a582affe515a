/** The AccessRule kind: which networks may sign in to a service, per account, domain or user. */
import { z } from "zod";
import {
  cidr,
  isAddress,
  isMailDomain,
  normaliseAddress,
  objectMeta,
  splitAddress,
  stringSet,
  toAsciiDomain,
} from "./common.ts";
import { patchOf } from "./patch.ts";

/** The services a rule guards: SMTP AUTH on the submission listener, and the API's user sign-in. */
export const ACCESS_SERVICES = ["smtp-submission", "api"] as const;
export type AccessService = (typeof ACCESS_SERVICES)[number];

/** How specific a scope is: a user's rule beats its domain's, which beats the account's. */
export type AccessScopeLevel = "user" | "domain" | "account";

/**
 * The level of a normalised scope. @example accessScopeLevel("alice@example.com") // "user"
 */
export function accessScopeLevel(scope: string): AccessScopeLevel {
  if (scope === "account") return "account";
  return scope.includes("@") ? "user" : "domain";
}

/** `account`, a domain (punycode, lower case) or a user address (normalised). */
function normaliseScope(value: string): string {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === "account") return "account";
  return trimmed.includes("@") ? normaliseAddress(trimmed) : toAsciiDomain(trimmed);
}

/** The fields of an access rule. Key: scope and service (one rule per scope and service). */
export const AccessRuleFields = z.strictObject({
  scope: z
    .string()
    .overwrite(normaliseScope)
    .refine((v) => v === "account" || (v.includes("@") ? isAddress(v) : isMailDomain(v)), {
      message:
        'must be "account", a domain name such as example.com or a user address such as alice@example.com',
    })
    .describe(
      "Who the rule applies to (key): `account` (every user of the account), a domain (its users) or one user's address. The most specific scope with a rule for the service decides.",
    ),
  service: z
    .enum(ACCESS_SERVICES)
    .describe(
      "The service guarded (key): `smtp-submission` (SMTP AUTH on the submission listener) or `api` (user sign-in, `POST /v1/sessions`, and application passwords used as API bearers).",
    ),
  allow: stringSet(
    cidr("An IP address or CIDR block."),
    "When non-empty, only clients in these networks may sign in; empty allows every network not denied. Sorted, once each. Default empty.",
  )
    .max(500)
    .default(() => []),
  deny: stringSet(
    cidr("An IP address or CIDR block."),
    "Clients in these networks may not sign in, even when also allowed (deny wins). Sorted, once each. Default empty.",
  )
    .max(500)
    .default(() => []),
});

/**
 * An access rule as declared.
 * @example AccessRuleSpec.parse({ scope: "example.com", service: "smtp-submission", allow: ["192.0.2.0/24"] })
 */
export const AccessRuleSpec = AccessRuleFields.meta({
  id: "AccessRuleSpec",
  title: "AccessRuleSpec",
  description: "Which networks may sign in to a service, for the account, a domain or one user, as declared.",
});

/** An access rule as the API returns it. */
export const AccessRule = AccessRuleFields.extend({
  ...objectMeta,
  domain: z.string().nullable().describe("The domain of a domain or user scope; null for the account scope."),
})
  .strip()
  .meta({ id: "AccessRule", title: "AccessRule", description: "An access rule, as stored." });

/** The PATCH body for an access rule: allow, deny. */
export const AccessRulePatch = patchOf(AccessRuleFields, ["scope", "service"]).meta({
  id: "AccessRulePatch",
  title: "AccessRulePatch",
  description: "Fields to change on an access rule; each replaces the stored value.",
});

export type AccessRuleSpecInput = z.input<typeof AccessRuleSpec>;
export type AccessRuleSpec = z.output<typeof AccessRuleSpec>;
export type AccessRule = z.output<typeof AccessRule>;
export type AccessRulePatch = z.input<typeof AccessRulePatch>;

/**
 * An access rule's ID: scope and service. @example accessRuleId({ scope: "example.com", service: "api" }) // "example.com/api"
 */
export function accessRuleId(spec: Pick<AccessRuleSpec, "scope" | "service">): string {
  return `${spec.scope}/${spec.service}`;
}

/**
 * The domain of a rule's scope; null for `account`.
 * @example accessRuleDomain({ scope: "alice@example.com" }) // "example.com"
 */
export function accessRuleDomain(spec: Pick<AccessRuleSpec, "scope">): string | null {
  if (spec.scope === "account") return null;
  return spec.scope.includes("@") ? (splitAddress(spec.scope)?.domain ?? null) : spec.scope;
}
