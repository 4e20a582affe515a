/** The PasswordPolicy resource: password, lockout and session rules of the account or a domain (a singleton). */
import type * as pulumi from "@pulumi/pulumi";
import { passwordPolicyKind } from "../../../sdk/src/models/kinds.ts";
import type {
  PasswordPolicy as PasswordPolicyObject,
  PasswordPolicySpecInput,
} from "../../../sdk/src/models/password-policy.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link PasswordPolicy}; types and rules come from the model (`PasswordPolicySpec`). */
export interface PasswordPolicyArgs extends CommonArgs {
  /** `account` for the account-wide policy, or the domain it applies to (key). */
  scope: Arg<PasswordPolicySpecInput["scope"]>;
  /** Shortest password (6–128). Default 8. */
  minLength?: Arg<PasswordPolicySpecInput["minLength"]>;
  /** Longest password (6–1024, at least minLength). Default 128. */
  maxLength?: Arg<PasswordPolicySpecInput["maxLength"]>;
  /** Require an upper-case letter. Default false. */
  requireUpper?: Arg<PasswordPolicySpecInput["requireUpper"]>;
  /** Require a lower-case letter. Default false. */
  requireLower?: Arg<PasswordPolicySpecInput["requireLower"]>;
  /** Require a digit. Default false. */
  requireDigit?: Arg<PasswordPolicySpecInput["requireDigit"]>;
  /** Require a character that is not a letter or digit. Default false. */
  requireSymbol?: Arg<PasswordPolicySpecInput["requireSymbol"]>;
  /** Require at least this many of the four classes (upper, lower, digit, symbol). Default 2. */
  minCharacterClasses?: Arg<PasswordPolicySpecInput["minCharacterClasses"]>;
  /** Refuse passwords containing the user's local part or a 3+ character piece of it. Default true. */
  noUsernameParts?: Arg<PasswordPolicySpecInput["noUsernameParts"]>;
  /** Refuse common passwords (a bundled list of about 1,000), also with digits appended. Default true. */
  rejectCommon?: Arg<PasswordPolicySpecInput["rejectCommon"]>;
  /** Password reuse: last N passwords and those used within D days are refused. */
  reuse?: Arg<PasswordPolicySpecInput["reuse"]>;
  /** Password expiry and its warnings. */
  expiry?: Arg<PasswordPolicySpecInput["expiry"]>;
  /** Login lockout, per IP address (SMTP AUTH and the API). */
  lockout?: Arg<PasswordPolicySpecInput["lockout"]>;
  /** Idle timeout of a user's API session in minutes (5 minutes–8 hours); a session also ends 12 hours after sign-in whatever its use. Default 120. */
  sessionTimeoutMinutes?: Arg<PasswordPolicySpecInput["sessionTimeoutMinutes"]>;
  /** Users must sign in with a TOTP second factor; one without an enrolment can only enrol until they do. Default false. */
  requireTwoFactor?: Arg<PasswordPolicySpecInput["requireTwoFactor"]>;
  /** Per user role: whether its users may log in and may reset a lost password themselves. Default: every role may log in; account admins may not reset by mail (their external mailbox would be a way into the whole account). */
  rolePermissions?: Arg<PasswordPolicySpecInput["rolePermissions"]>;
  /** What a user who lost their password should do (plain text, up to 2,000 characters), shown by the sign-in flow (`GET /v1/sessions/lost-password`); a user's own instructions win over their domain policy's, which win over the account policy's. Null: none at this scope. Default null. */
  lostPasswordInstructions?: Arg<PasswordPolicySpecInput["lostPasswordInstructions"]>;
  /** Refuse API sign-in that did not come over TLS (HTTPS to the control plane, or through a trusted proxy that says so with X-Forwarded-Proto); SMTP AUTH is refused without TLS whatever this says. Default false. */
  requireTlsForSignIn?: Arg<PasswordPolicySpecInput["requireTlsForSignIn"]>;
}

/**
 * Password strength, reuse, expiry, login lockout and session rules of a domain (or, with
 * `scope: "account"`, the whole account). Enforced whenever a password is set and at every login.
 *
 * A singleton per scope: creating it takes over the policy that exists (reporting what differs) and
 * deleting it resets it to the defaults. Key: `scope`. The resource ID is `<scope>/password-policy`.
 *
 * @example
 * ```ts
 * new mailplane.PasswordPolicy("passwords", {
 *   scope: "account",
 *   minLength: 12,
 *   lockout: { failures: 3, windowMinutes: 15 },
 * });
 * ```
 */
export class PasswordPolicy extends MailplaneResource {
  /** `account` for the account-wide policy, or the domain it applies to (key). */
  declare readonly scope: pulumi.Output<PasswordPolicyObject["scope"]>;
  /** Shortest password (6–128). Default 8. */
  declare readonly minLength: pulumi.Output<PasswordPolicyObject["minLength"]>;
  /** Longest password (6–1024, at least minLength). Default 128. */
  declare readonly maxLength: pulumi.Output<PasswordPolicyObject["maxLength"]>;
  /** Require an upper-case letter. Default false. */
  declare readonly requireUpper: pulumi.Output<PasswordPolicyObject["requireUpper"]>;
  /** Require a lower-case letter. Default false. */
  declare readonly requireLower: pulumi.Output<PasswordPolicyObject["requireLower"]>;
  /** Require a digit. Default false. */
  declare readonly requireDigit: pulumi.Output<PasswordPolicyObject["requireDigit"]>;
  /** Require a character that is not a letter or digit. Default false. */
  declare readonly requireSymbol: pulumi.Output<PasswordPolicyObject["requireSymbol"]>;
  /** Require at least this many of the four classes (upper, lower, digit, symbol). Default 2. */
  declare readonly minCharacterClasses: pulumi.Output<PasswordPolicyObject["minCharacterClasses"]>;
  /** Refuse passwords containing the user's local part or a 3+ character piece of it. Default true. */
  declare readonly noUsernameParts: pulumi.Output<PasswordPolicyObject["noUsernameParts"]>;
  /** Refuse common passwords (a bundled list of about 1,000), also with digits appended. Default true. */
  declare readonly rejectCommon: pulumi.Output<PasswordPolicyObject["rejectCommon"]>;
  /** Password reuse: last N passwords and those used within D days are refused. */
  declare readonly reuse: pulumi.Output<PasswordPolicyObject["reuse"]>;
  /** Password expiry and its warnings. */
  declare readonly expiry: pulumi.Output<PasswordPolicyObject["expiry"]>;
  /** Login lockout, per IP address (SMTP AUTH and the API). */
  declare readonly lockout: pulumi.Output<PasswordPolicyObject["lockout"]>;
  /** Idle timeout of a user's API session in minutes (5 minutes–8 hours); a session also ends 12 hours after sign-in whatever its use. Default 120. */
  declare readonly sessionTimeoutMinutes: pulumi.Output<PasswordPolicyObject["sessionTimeoutMinutes"]>;
  /** Users must sign in with a TOTP second factor; one without an enrolment can only enrol until they do. Default false. */
  declare readonly requireTwoFactor: pulumi.Output<PasswordPolicyObject["requireTwoFactor"]>;
  /** Per user role: whether its users may log in and may reset a lost password themselves. Default: every role may log in; account admins may not reset by mail (their external mailbox would be a way into the whole account). */
  declare readonly rolePermissions: pulumi.Output<PasswordPolicyObject["rolePermissions"]>;
  /** What a user who lost their password should do (plain text, up to 2,000 characters), shown by the sign-in flow (`GET /v1/sessions/lost-password`); a user's own instructions win over their domain policy's, which win over the account policy's. Null: none at this scope. Default null. */
  declare readonly lostPasswordInstructions: pulumi.Output<PasswordPolicyObject["lostPasswordInstructions"]>;
  declare readonly requireTlsForSignIn: pulumi.Output<PasswordPolicyObject["requireTlsForSignIn"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<PasswordPolicyObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<PasswordPolicyObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<PasswordPolicyObject["updatedAt"]>;

  constructor(name: string, args: PasswordPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "PasswordPolicy",
      name,
      resourceProps(passwordPolicyKind, args),
      resourceOptions(passwordPolicyKind, opts),
    );
  }
}

/** What the runtime runs for a {@link PasswordPolicy}: check, diff, create, read, update, delete. */
export const passwordPolicyProvider = defineProvider(passwordPolicyKind, objectApi);
