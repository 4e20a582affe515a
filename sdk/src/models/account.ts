/** The Account kind: a tenant. Every token, domain and object belongs to exactly one account. */
import { z } from "zod";
import { address, objectMeta } from "./common.ts";

/** An account slug: 2–63 lower-case letters, digits and inner hyphens. */
export const ACCOUNT_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$/;

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
  })
  .meta({ id: "AccountSpec", title: "AccountSpec", description: "A tenant account, as declared." });

/** An account as the API returns it. */
export const Account = AccountSpec.extend(objectMeta).strip().meta({
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
