/** The User kind: a mailbox and login. The password is a write-only secret: in the spec, never in `User`. */
import { z } from "zod";
import {
  address,
  lostPasswordInstructions,
  objectMeta,
  singleLine,
  sortedUnique,
  splitAddress,
  stringList,
} from "./common.ts";
import { patchOf } from "./patch.ts";

/** User roles: what a user may do when logging in. */
export const USER_ROLES = ["account-admin", "domain-admin", "email-user"] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The fields of a user. Key: address. */
export const UserFields = z.strictObject({
  address: address("The user's address and login name (key), e.g. `alice@example.com`."),
  firstName: singleLine("First name.", 100).default(""),
  lastName: singleLine("Last name.", 100).default(""),
  password: z
    .string()
    .min(1, { message: "must not be empty" })
    .max(1024)
    .optional()
    .meta({
      writeOnly: true,
      description:
        "Write-only secret. Required to create a user; omitted on update keeps the current one. Checked against the " +
        "scope's PasswordPolicy (or the base rule: 6–25 characters, an upper-case letter or a digit, no spaces), " +
        "stored hashed, never returned.",
    }),
  enabled: z
    .boolean()
    .default(true)
    .describe(
      "Disabled users cannot log in and their incoming mail is refused; a user must be disabled before deletion. Default true.",
    ),
  role: z
    .enum(USER_ROLES)
    .default("email-user")
    .describe("`account-admin`, `domain-admin` or `email-user`. Default `email-user`."),
  quotaMb: z
    .number()
    .int()
    .min(0)
    .max(1_048_576)
    .default(0)
    .describe("Mailbox quota in MiB; 0 for no limit. Default 0."),
  addresses: stringList(
    address("An extra address of the user, in the user's domain."),
    "Extra addresses of the user in its own domain (the user's aliases): mail to them lands in the user's mailbox, and the user may send as them. Each must be free: not another user's, alias's or group's address, nor another user's extra address (409 MP_CONFLICT). Sorted, once each; at most 20. Default none.",
  )
    .max(20, { message: "at most 20 extra addresses per user" })
    .default(() => []),
  forwardOnDelete: address("Where the user's mail goes once the user is deleted.")
    .nullable()
    .default(null)
    .describe(
      "Where the user's future mail is forwarded once the user is deleted (the departed address keeps forwarding until a User, Alias or Group of that address, or a user's extra address, is declared again or the domain is deleted); null: mail to the address is refused after deletion. Default null.",
    ),
  externalAddress: address("An address outside the platform for password resets and notifications.")
    .nullable()
    .default(null)
    .describe(
      "An address outside the platform for password resets and notifications (another domain of the platform is allowed, never the user's own addresses); null for none.",
    ),
  lostPasswordInstructions: lostPasswordInstructions(
    "What this user should do after losing their password (plain text, up to 2,000 characters); wins over the PasswordPolicy's. Null: the policy's. Default null.",
  ),
  loginAlerts: z
    .strictObject({
      failed: z
        .boolean()
        .default(true)
        .describe(
          "Mail the user when a sign-in or SMTP AUTH as them fails (at most one alert per clock hour). Default true.",
        ),
      successful: z
        .boolean()
        .default(false)
        .describe(
          "Mail the user when they sign in or log in to SMTP (at most one alert per client IP and day). Default false.",
        ),
    })
    .prefault({})
    .describe("Login alerts mailed to the user's own mailbox. Default: failed on, successful off."),
});

/**
 * A user as declared.
 * @example UserSpec.parse({ address: "Alice@Example.com", firstName: "Alice", password: "Correct-Horse-7" })
 */
export const UserSpec = UserFields.superRefine((spec, ctx) => {
  const domain = splitAddress(spec.address)?.domain;
  if (
    spec.forwardOnDelete !== null &&
    (spec.forwardOnDelete === spec.address || spec.addresses.includes(spec.forwardOnDelete))
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["forwardOnDelete"],
      message: "must be another address than the user's own (they go with the user)",
    });
  }
  spec.addresses.forEach((extra, i) => {
    // Only the user's own domain: an address elsewhere would take mail for a domain this object does not hold.
    if (splitAddress(extra)?.domain !== domain) {
      ctx.addIssue({ code: "custom", path: ["addresses", i], message: `must be an address in ${domain}` });
    } else if (extra === spec.address) {
      ctx.addIssue({
        code: "custom",
        path: ["addresses", i],
        message: "must differ from the user's own address",
      });
    }
  });
  // The user's own mailbox cannot receive a reset link its owner could read without the password.
  if (
    spec.externalAddress !== null &&
    (spec.externalAddress === spec.address || spec.addresses.includes(spec.externalAddress))
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["externalAddress"],
      message: "must differ from the user's own address",
    });
  }
})
  // After the rules (their paths use the order written): extra addresses sorted and de-duplicated.
  .overwrite((spec) => ({ ...spec, addresses: sortedUnique(spec.addresses) }))
  .meta({ id: "UserSpec", title: "UserSpec", description: "A mailbox user, as declared." });

/** The secret fields of a user: accepted on writes, never returned. */
export const USER_SECRET_FIELDS = ["password"] as const;

/** A user as the API returns it: no password, ever. */
export const User = UserFields.omit({ password: true })
  .extend({
    ...objectMeta,
    domain: z.string().describe("The domain the user belongs to (the address's domain)."),
    passwordChangedAt: z
      .string()
      .nullable()
      .describe(
        "When the password was last set (RFC 3339), null if it never was; the password itself is never returned.",
      ),
  })
  .strip()
  .meta({ id: "User", title: "User", description: "A mailbox user, as stored (without the password)." });

/** The PATCH body for a user: any field but the address; `{ "enabled": false }` disables. */
export const UserPatch = patchOf(UserFields, ["address"]).meta({
  id: "UserPatch",
  title: "UserPatch",
  description:
    "Fields to change on a user; each replaces the stored value. `{ enabled: false }` disables the user.",
});

export type UserSpecInput = z.input<typeof UserSpec>;
export type UserSpec = z.output<typeof UserSpec>;
export type User = z.output<typeof User>;
export type UserPatch = z.input<typeof UserPatch>;

/** A user's ID is their address. @example userId({ address: "alice@example.com" }) // "alice@example.com" */
export function userId(spec: Pick<UserSpec, "address">): string {
  return spec.address;
}

/** The domain a user belongs to. @example userDomain({ address: "alice@example.com" }) // "example.com" */
export function userDomain(spec: Pick<UserSpec, "address">): string {
  return splitAddress(spec.address)?.domain ?? "";
}
