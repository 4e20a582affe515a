/** The PasswordPolicy kind (a singleton per scope) and `checkPassword`, which the API and SMTP AUTH enforce. */
import { z } from "zod";
import { objectMeta, scope } from "./common.ts";
import { isCommonPassword } from "./common-passwords.ts";
import { patchOf } from "./patch.ts";

const reuse = z
  .strictObject({
    lastN: z
      .number()
      .int()
      .min(0)
      .max(24)
      .default(4)
      .describe("A new password must differ from this many previous ones (0–24). Default 4."),
    withinDays: z
      .number()
      .int()
      .min(0)
      .max(730)
      .default(365)
      .describe("…and from every password used in this many days (0–730). Default 365."),
  })
  .describe("Password reuse: last N passwords and those used within D days are refused.");

const expiry = z
  .strictObject({
    days: z
      .number()
      .int()
      .min(7)
      .max(365)
      .nullable()
      .default(null)
      .describe("Days after which a password must be changed (7–365); null never expires. Default null."),
    warnDays: z
      .array(z.number().int().min(1).max(365))
      .max(2)
      .default(() => [14, 3])
      .describe(
        "Days before expiry that a warning is sent (at most two); stored descending. Default 14 and 3.",
      ),
  })
  .describe("Password expiry and its warnings.");

const lockout = z
  .strictObject({
    failures: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe("Failed logins from one IP that lock it out (1–20). Default 5."),
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(120)
      .default(10)
      .describe("Window in which the failures are counted, in minutes (1–120). Default 10."),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(1440)
      .default(10)
      .describe("How long the IP stays locked out, in minutes (1–1440). Default 10."),
  })
  .describe("Login lockout, per IP address (SMTP AUTH and the API).");

/** The fields of a password policy. Key: scope. */
export const PasswordPolicyFields = z.strictObject({
  scope: scope("`account` for the account-wide policy, or the domain it applies to (key)."),
  minLength: z.number().int().min(6).max(128).default(8).describe("Shortest password (6–128). Default 8."),
  maxLength: z
    .number()
    .int()
    .min(6)
    .max(1024)
    .default(128)
    .describe("Longest password (6–1024, at least minLength). Default 128."),
  requireUpper: z.boolean().default(false).describe("Require an upper-case letter. Default false."),
  requireLower: z.boolean().default(false).describe("Require a lower-case letter. Default false."),
  requireDigit: z.boolean().default(false).describe("Require a digit. Default false."),
  requireSymbol: z
    .boolean()
    .default(false)
    .describe("Require a character that is not a letter or digit. Default false."),
  minCharacterClasses: z
    .number()
    .int()
    .min(0)
    .max(4)
    .default(2)
    .describe("Require at least this many of the four classes (upper, lower, digit, symbol). Default 2."),
  noUsernameParts: z
    .boolean()
    .default(true)
    .describe(
      "Refuse passwords containing the user's local part or a 3+ character piece of it. Default true.",
    ),
  rejectCommon: z
    .boolean()
    .default(true)
    .describe(
      "Refuse common passwords (a bundled list of about 1,000), also with digits appended. Default true.",
    ),
  reuse: reuse.prefault({}),
  expiry: expiry.prefault({}),
  lockout: lockout.prefault({}),
  sessionTimeoutMinutes: z
    .number()
    .int()
    .min(5)
    .max(480)
    .default(120)
    .describe(
      "Idle timeout of a user's API session in minutes (5 minutes–8 hours); a session also ends 12 hours after sign-in whatever its use. Default 120.",
    ),
  requireTwoFactor: z
    .boolean()
    .default(false)
    .describe(
      "Users must sign in with a TOTP second factor; one without an enrolment can only enrol until they do. Default false.",
    ),
  requireTlsForSignIn: z
    .boolean()
    .default(false)
    .describe(
      "Refuse API sign-in that did not come over TLS (HTTPS to the control plane, or through a trusted proxy that says so with X-Forwarded-Proto); SMTP AUTH is refused without TLS whatever this says. Default false.",
    ),
});

/**
 * A password policy as declared.
 * @example PasswordPolicySpec.parse({ scope: "account", minLength: 12, lockout: { failures: 3 } })
 */
export const PasswordPolicySpec = PasswordPolicyFields.superRefine((spec, ctx) => {
  if (spec.maxLength < spec.minLength) {
    ctx.addIssue({
      code: "custom",
      path: ["maxLength"],
      message: `must be at least minLength (${spec.minLength})`,
    });
  }
  const required = [spec.requireUpper, spec.requireLower, spec.requireDigit, spec.requireSymbol].filter(
    Boolean,
  ).length;
  if (spec.minLength < Math.max(required, spec.minCharacterClasses)) {
    ctx.addIssue({
      code: "custom",
      path: ["minLength"],
      message: "must be at least the number of required character classes",
    });
  }
  if (spec.expiry.days !== null) {
    const days = spec.expiry.days;
    spec.expiry.warnDays.forEach((warn, i) => {
      if (warn > days) {
        ctx.addIssue({
          code: "custom",
          path: ["expiry", "warnDays", i],
          message: `must not exceed expiry.days (${days})`,
        });
      }
    });
  }
})
  // After the rules (their paths use the order written): warnings once each, latest first.
  .overwrite((spec) => ({
    ...spec,
    expiry: { ...spec.expiry, warnDays: [...new Set(spec.expiry.warnDays)].sort((a, b) => b - a) },
  }))
  .meta({
    id: "PasswordPolicySpec",
    title: "PasswordPolicySpec",
    description:
      "Password strength, reuse, expiry, lockout and session rules of an account or domain, as declared.",
  });

/** A password policy as the API returns it. */
export const PasswordPolicy = PasswordPolicyFields.extend(objectMeta).strip().meta({
  id: "PasswordPolicy",
  title: "PasswordPolicy",
  description: "Password rules of an account or domain, as stored.",
});

/** The PATCH body for a password policy: any field but the scope. */
export const PasswordPolicyPatch = patchOf(PasswordPolicyFields, ["scope"]).meta({
  id: "PasswordPolicyPatch",
  title: "PasswordPolicyPatch",
  description:
    "Fields to change on a password policy; each replaces the stored value (nested objects whole).",
});

export type PasswordPolicySpecInput = z.input<typeof PasswordPolicySpec>;
export type PasswordPolicySpec = z.output<typeof PasswordPolicySpec>;
export type PasswordPolicy = z.output<typeof PasswordPolicy>;
export type PasswordPolicyPatch = z.input<typeof PasswordPolicyPatch>;

/** @example passwordPolicyId({ scope: "account" }) // "account/password-policy" */
export function passwordPolicyId(spec: Pick<PasswordPolicySpec, "scope">): string {
  return `${spec.scope}/password-policy`;
}

/**
 * The defaults for a scope (what `DELETE` resets to).
 * @example defaultPasswordPolicy("account").lockout.failures // 5
 */
export function defaultPasswordPolicy(scopeName: string): PasswordPolicySpec {
  return PasswordPolicySpec.parse({ scope: scopeName });
}

/** Names of the rules {@link checkPassword} reports. */
export type PasswordRule =
  | "minLength"
  | "maxLength"
  | "noWhitespace"
  | "noControlCharacters"
  | "upperOrDigit"
  | "requireUpper"
  | "requireLower"
  | "requireDigit"
  | "requireSymbol"
  | "minCharacterClasses"
  | "noUsernameParts"
  | "rejectCommon";

/** One broken rule: its name (stable, for programs) and a sentence (for people). */
export interface PasswordViolation {
  rule: PasswordRule;
  message: string;
}

/**
 * The platform's rule when no policy applies (the seeds' user-password rule): 6–25 characters,
 * an upper-case letter or a digit, no spaces.
 */
export const BASE_PASSWORD_RULE = { minLength: 6, maxLength: 25 } as const;

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{Nd}/u;
const SYMBOL = /[^\p{L}\p{Nd}]/u;

/** Pieces of the username a password must not contain: the local part and its 3+ character parts. */
function usernameParts(username: string): string[] {
  const local = (username.split("@")[0] ?? "").toLowerCase();
  const parts = local.split(/[._+-]+/).filter((p) => p.length >= 3);
  return [...new Set(local.length >= 3 ? [local, ...parts] : parts)];
}

/**
 * Checks a password against a policy (or, with `null`, the platform's base rule) and returns every
 * rule it breaks; an empty list means it is acceptable. Reuse and expiry need the user's history
 * and are the caller's part.
 * @example checkPassword(null, "abc de", "alice@example.com") // [{ rule: "noWhitespace", … }, { rule: "upperOrDigit", … }]
 * @example checkPassword(policy, "Tr0ub4dor&3", "alice@example.com") // []
 */
export function checkPassword(
  policy: PasswordPolicySpec | null,
  password: string,
  username: string,
): PasswordViolation[] {
  const violations: PasswordViolation[] = [];
  const add = (rule: PasswordRule, message: string) => violations.push({ rule, message });
  const length = [...password].length;
  if (/\p{Cc}/u.test(password)) add("noControlCharacters", "must not contain control characters");

  if (policy === null) {
    const { minLength, maxLength } = BASE_PASSWORD_RULE;
    if (length < minLength) add("minLength", `must be at least ${minLength} characters`);
    if (length > maxLength) add("maxLength", `must be at most ${maxLength} characters`);
    if (/\s/.test(password)) add("noWhitespace", "must not contain spaces");
    if (!UPPER.test(password) && !DIGIT.test(password)) {
      add("upperOrDigit", "must contain an upper-case letter or a digit");
    }
    return violations;
  }

  if (length < policy.minLength) add("minLength", `must be at least ${policy.minLength} characters`);
  if (length > policy.maxLength) add("maxLength", `must be at most ${policy.maxLength} characters`);
  const classes = {
    upper: UPPER.test(password),
    lower: LOWER.test(password),
    digit: DIGIT.test(password),
    symbol: SYMBOL.test(password),
  };
  if (policy.requireUpper && !classes.upper) add("requireUpper", "must contain an upper-case letter");
  if (policy.requireLower && !classes.lower) add("requireLower", "must contain a lower-case letter");
  if (policy.requireDigit && !classes.digit) add("requireDigit", "must contain a digit");
  if (policy.requireSymbol && !classes.symbol)
    add("requireSymbol", "must contain a symbol (not a letter or digit)");
  const present = Object.values(classes).filter(Boolean).length;
  if (present < policy.minCharacterClasses) {
    add(
      "minCharacterClasses",
      `must mix at least ${policy.minCharacterClasses} of upper-case, lower-case, digits and symbols`,
    );
  }
  if (policy.noUsernameParts) {
    const lower = password.toLowerCase();
    const part = usernameParts(username).find((p) => lower.includes(p));
    if (part !== undefined) add("noUsernameParts", "must not contain the user name or a part of it");
  }
  if (policy.rejectCommon && isCommonPassword(password)) add("rejectCommon", "is too common");
  return violations;
}
