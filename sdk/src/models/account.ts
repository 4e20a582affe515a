/** The Account kind: a tenant. Every token, domain and object belongs to exactly one account. */
import { z } from "zod";
import { address, objectMeta } from "./common.ts";

/** An account slug: 2–63 lower-case letters, digits and inner hyphens. */
export const ACCOUNT_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$/;

/** A cap on how many objects of one kind an account may hold; null or absent: no cap. */
const cap = (kind: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(10_000_000)
    .nullable()
    .optional()
    .describe(`At most this many ${kind} in the account; null or absent for no cap.`);

/** The kinds an account's limits cap, by the kind's plural (its manifest property). */
export const ACCOUNT_LIMIT_KINDS = {
  domains: "Domain",
  users: "User",
  aliases: "Alias",
  groups: "Group",
} as const;

/**
 * What a platform admin lets an account hold. Creating past a cap is refused (409
 * MP_LIMIT_EXCEEDED) and the provider fails the preview of a plan that would pass it.
 * @example AccountLimits.parse({ domains: 5, users: 100 })
 */
export const AccountLimits = z
  .strictObject({
    domains: cap("domains"),
    users: cap("users"),
    aliases: cap("aliases (users' extra addresses are capped per user, not here)"),
    groups: cap("groups"),
  })
  .describe("Caps on the objects the account may hold, per kind; absent: no caps.");

/**
 * An account as declared by a platform admin.
 * @example AccountSpec.parse({ id: "acme", name: "ACME Corp", contact: "it@acme.example" })
 */
export const AccountSpec = z
  .strictObject({
    id: z
      .string()
      .overwrite((v) => v.trim().toLowerCase())
      .refine((v) => ACCOUNT_SLUG.test(v), {
        message: "must be a slug of 2–63 lower-case letters, digits and inner hyphens, e.g. acme",
      })
      .describe("The account's slug (key), e.g. `acme`."),
    name: z.string().trim().min(1, { message: "must not be empty" }).max(200).describe("Display name."),
    contact: address(
      "Where mail to `postmaster@` and `abuse@` of the account's domains goes (RFC 5321 §4.5.1, RFC 2142) unless a User or Alias of that name is declared. Default none: those addresses are unknown users.",
    )
      .nullable()
      .optional(),
    limits: AccountLimits.optional(),
  })
  .meta({ id: "AccountSpec", title: "AccountSpec", description: "A tenant account, as declared." });

// An account is the platform's, not a tenancy object: it carries no managedBy stamp.
const { managedBy: _managedBy, ...accountMeta } = objectMeta;

/** An account as the API returns it. */
export const Account = AccountSpec.extend(accountMeta).strip().meta({
  id: "Account",
  title: "Account",
  description: "A tenant account, as stored.",
});

export type AccountSpecInput = z.input<typeof AccountSpec>;
export type AccountSpec = z.output<typeof AccountSpec>;
export type Account = z.output<typeof Account>;

/** An account's ID is its slug. @example accountId({ id: "acme" }) // "acme" */
export function accountId(spec: Pick<AccountSpec, "id">): string {
  return spec.id;
}

export type AccountLimits = z.output<typeof AccountLimits>;
