/** The User resource: a mailbox and login, with a write-only secret password. */
import type * as pulumi from "@pulumi/pulumi";
import { userKind } from "../../../sdk/src/models/kinds.ts";
import type { User as UserObject, UserSpecInput } from "../../../sdk/src/models/user.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
  secretArgs,
} from "../lib/resource.ts";

/** The inputs of a {@link User}; types and rules come from the model (`UserSpec`). */
export interface UserArgs extends CommonArgs {
  /** The user's address and login name (key), e.g. `alice@example.com`. */
  address: Arg<UserSpecInput["address"]>;
  /** First name. */
  firstName?: Arg<UserSpecInput["firstName"]>;
  /** Last name. */
  lastName?: Arg<UserSpecInput["lastName"]>;
  /**
   * Write-only secret. Required to create a user; omitted on update keeps the current one. Checked
   * against the scope's PasswordPolicy (or the base rule: 6–25 characters, an upper-case letter or a
   * digit, no spaces), stored hashed, never returned.
   */
  password?: Arg<UserSpecInput["password"]>;
  /**
   * Disabled users cannot log in and their incoming mail is refused; a user must be disabled before
   * deletion. Default true.
   */
  enabled?: Arg<UserSpecInput["enabled"]>;
  /** `account-admin`, `domain-admin` or `email-user`. Default `email-user`. */
  role?: Arg<UserSpecInput["role"]>;
  /** Mailbox quota in MiB; 0 for no limit. Default 0. */
  quotaMb?: Arg<UserSpecInput["quotaMb"]>;
  /** Extra addresses of the user in its own domain (the user's aliases): mail to them lands in the user's mailbox, and the user may send as them. Each must be free: not another user's, alias's or group's address, nor another user's extra address (409 MP_CONFLICT). Sorted, once each; at most 20. Default none. */
  addresses?: Arg<UserSpecInput["addresses"]>;
  /** Where the user's future mail is forwarded once the user is deleted (the departed address keeps forwarding until a User, Alias or Group of that address, or a user's extra address, is declared again or the domain is deleted); null: mail to the address is refused after deletion. Default null. */
  forwardOnDelete?: Arg<UserSpecInput["forwardOnDelete"]>;
  /** An address outside the platform for password resets and notifications (another domain of the platform is allowed, never the user's own addresses); null for none. */
  externalAddress?: Arg<UserSpecInput["externalAddress"]>;
  /** What this user should do after losing their password (plain text, up to 2,000 characters); wins over the PasswordPolicy's. Null: the policy's. Default null. */
  lostPasswordInstructions?: Arg<UserSpecInput["lostPasswordInstructions"]>;
  /** Login alerts mailed to the user's own mailbox. Default: failed on, successful off. */
  loginAlerts?: Arg<UserSpecInput["loginAlerts"]>;
}

/**
 * A mailbox user and login. The password is a secret in and out: the class wraps it in
 * `pulumi.secret` and lists it in `additionalSecretOutputs`, so the state holds it only encrypted;
 * the platform stores a hash and never returns it. Changing the password updates the user in place;
 * a password changed on the platform (by the user) is not visible to `refresh`.
 *
 * Deleting a user disables it first (the platform refuses to delete an enabled user), then deletes.
 * Key: `address` — changing it replaces the user. The resource ID is the address.
 *
 * @example
 * ```ts
 * const config = new pulumi.Config();
 * const alice = new mailplane.User("alice", {
 *   address: "alice@example.com",
 *   firstName: "Alice",
 *   password: config.requireSecret("alicePassword"),
 *   quotaMb: 2048,
 * });
 * ```
 */
export class User extends MailplaneResource {
  /** The user's address and login name (key), e.g. `alice@example.com`. */
  declare readonly address: pulumi.Output<UserObject["address"]>;
  /** First name. */
  declare readonly firstName: pulumi.Output<UserObject["firstName"]>;
  /** Last name. */
  declare readonly lastName: pulumi.Output<UserObject["lastName"]>;
  /**
   * Disabled users cannot log in and their incoming mail is refused; a user must be disabled before
   * deletion. Default true.
   */
  declare readonly enabled: pulumi.Output<UserObject["enabled"]>;
  /** `account-admin`, `domain-admin` or `email-user`. Default `email-user`. */
  declare readonly role: pulumi.Output<UserObject["role"]>;
  /** Mailbox quota in MiB; 0 for no limit. Default 0. */
  declare readonly quotaMb: pulumi.Output<UserObject["quotaMb"]>;
  /** Extra addresses of the user in its own domain (the user's aliases): mail to them lands in the user's mailbox, and the user may send as them. Each must be free: not another user's, alias's or group's address, nor another user's extra address (409 MP_CONFLICT). Sorted, once each; at most 20. Default none. */
  declare readonly addresses: pulumi.Output<UserObject["addresses"]>;
  /** Where the user's future mail is forwarded once the user is deleted (the departed address keeps forwarding until a User, Alias or Group of that address, or a user's extra address, is declared again or the domain is deleted); null: mail to the address is refused after deletion. Default null. */
  declare readonly forwardOnDelete: pulumi.Output<UserObject["forwardOnDelete"]>;
  /** An address outside the platform for password resets and notifications (another domain of the platform is allowed, never the user's own addresses); null for none. */
  declare readonly externalAddress: pulumi.Output<UserObject["externalAddress"]>;
  /** What this user should do after losing their password (plain text, up to 2,000 characters); wins over the PasswordPolicy's. Null: the policy's. Default null. */
  declare readonly lostPasswordInstructions: pulumi.Output<UserObject["lostPasswordInstructions"]>;
  declare readonly loginAlerts: pulumi.Output<UserObject["loginAlerts"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<UserObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<UserObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<UserObject["updatedAt"]>;
  /** The domain the user belongs to (the address's domain). */
  declare readonly domain: pulumi.Output<UserObject["domain"]>;
  /**
   * When the password was last set (RFC 3339), null if it never was; the password itself is never
   * returned.
   */
  declare readonly passwordChangedAt: pulumi.Output<UserObject["passwordChangedAt"]>;

  constructor(name: string, args: UserArgs, opts?: pulumi.CustomResourceOptions) {
    super("User", name, resourceProps(userKind, secretArgs(userKind, args)), resourceOptions(userKind, opts));
  }
}

/** What the runtime runs for a {@link User}: check, diff, create, read, update, delete. */
export const userProvider = defineProvider(userKind, objectApi, {
  // An address names one recipient: a renamed user that keeps an extra address must give it up
  // (delete the old user) before the new one can claim it, or the platform refuses it (409).
  uniqueNames: (state) =>
    [state["address"], ...((state["addresses"] as string[] | undefined) ?? [])].map((a) =>
      String(a).toLowerCase(),
    ),
  check(olds, inputs) {
    // Creating needs a password; adopting keeps the one the user has, and an update may omit it.
    const creating = Object.keys(olds).length === 0;
    if (creating && inputs["password"] === undefined && inputs["adopt"] !== true) {
      return [
        {
          property: "password",
          reason: "is required to create a user (or set adopt: true to take one over)",
        },
      ];
    }
    return [];
  },
  async beforeDelete(api, path) {
    // The platform deletes only disabled users (MP_USER_ENABLED otherwise). Disable even when the
    // state says disabled: someone may have enabled the user since.
    await api.patch(path, { enabled: false });
  },
});
