/** A mail user's own side of the API: sign-in sessions, the TOTP second factor and application passwords. */
import { z } from "zod";

/** What a session may do: `active` is signed in; the others allow one step only. */
export const SESSION_STAGES = ["active", "second-factor", "password-change", "two-factor-enrolment"] as const;
export type SessionStage = (typeof SESSION_STAGES)[number];

/** Longest a session lives after sign-in whatever its use: 12 hours (the idle timeout is the policy's). */
export const SESSION_ABSOLUTE_MINUTES = 12 * 60;

/** Longest a session waiting for its second factor lives: 5 minutes. */
export const SECOND_FACTOR_MINUTES = 5;

/**
 * The body of `POST /v1/sessions`.
 * @example SignIn.parse({ address: "alice@example.com", password: "Correct-Horse-7" })
 */
export const SignIn = z
  .strictObject({
    address: z.string().min(1).max(254).describe("The user's address (their login name)."),
    password: z
      .string()
      .min(1)
      .max(1024)
      .meta({ writeOnly: true, description: "The account password (application passwords are refused)." }),
  })
  .meta({ id: "SignIn", title: "SignIn", description: "A mail user's address and password." });

/** A one-time code: a 6-digit TOTP code, or a recovery code where the endpoint says so. */
export const OneTimeCode = z
  .strictObject({
    code: z
      .string()
      .trim()
      .min(6)
      .max(32)
      .describe(
        "The 6-digit code of the authenticator app (RFC 6238), or at the second-factor step one unused recovery code.",
      ),
  })
  .meta({ id: "OneTimeCode", title: "OneTimeCode", description: "A TOTP or recovery code." });

/** A session as issued: its bearer secret is shown only here. */
export const Session = z
  .object({
    id: z.string().describe("The session's ID (`ses_…`)."),
    token: z
      .string()
      .describe("The bearer secret (`mps_…`), shown once: send `Authorization: Bearer <token>`."),
    address: z.string().describe("The signed-in user."),
    stage: z
      .enum(SESSION_STAGES)
      .describe(
        "`active`: signed in. Otherwise the one step the session may take: `second-factor` (POST /v1/sessions/second-factor), `password-change` (the password expired: PUT /v1/me/password) or `two-factor-enrolment` (the policy requires TOTP: POST /v1/me/totp, then …/confirm).",
      ),
    idleTimeoutMinutes: z.number().int().describe("Minutes without a request after which the session ends."),
    expiresAt: z.string().describe("When the session ends whatever its use (RFC 3339)."),
  })
  .meta({ id: "Session", title: "Session", description: "A mail user's API session." });

/** The signed-in user's view of themselves. */
export const Me = z
  .object({
    address: z.string(),
    domain: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    passwordChangedAt: z.string().nullable(),
    twoFactor: z
      .enum(["off", "pending", "on"])
      .describe("TOTP: `off`, `pending` (enrolled, not confirmed) or `on`."),
    recoveryCodesLeft: z.number().int().describe("Unused recovery codes (0 without TOTP)."),
    session: z.object({
      id: z.string(),
      stage: z.enum(SESSION_STAGES),
      idleTimeoutMinutes: z.number().int(),
      expiresAt: z.string(),
    }),
  })
  .meta({ id: "Me", title: "Me", description: "The signed-in mail user and their session." });

/** The body of `PUT /v1/me/password`. */
export const PasswordChange = z
  .strictObject({
    currentPassword: z
      .string()
      .min(1)
      .max(1024)
      .meta({ writeOnly: true, description: "The password in use now." }),
    newPassword: z
      .string()
      .min(1)
      .max(1024)
      .meta({ writeOnly: true, description: "The new password; checked against the user's PasswordPolicy." }),
  })
  .meta({ id: "PasswordChange", title: "PasswordChange", description: "A user's own password change." });

/** The answer of a TOTP enrolment: the only time the secret and recovery codes are shown. */
export const TotpEnrolment = z
  .object({
    otpauthUri: z
      .string()
      .describe("`otpauth://totp/…` for the authenticator app (as a QR code); SHA1, 6 digits, 30 s."),
    secret: z.string().describe("The same secret in base32, for typing in."),
    recoveryCodes: z
      .array(z.string())
      .describe("Ten single-use codes for when the app is lost; stored hashed, shown only now."),
  })
  .meta({
    id: "TotpEnrolment",
    title: "TotpEnrolment",
    description: "A pending TOTP enrolment; confirm it with a code from the app.",
  });

/** Scopes of an application password. */
export const APP_PASSWORD_SCOPES = ["smtp", "api"] as const;

/** The body of `POST /v1/me/app-passwords`. */
export const AppPasswordSpec = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      // A refinement rather than a pattern: JSON Schema generators cannot build \p{…} classes.
      .refine((v) => !/\p{Cc}/u.test(v), { message: "must be one line without control characters" })
      .describe("What it is for, e.g. `Thunderbird on the laptop`."),
    scopes: z
      .array(z.enum(APP_PASSWORD_SCOPES))
      .min(1)
      .max(2)
      .refine((s) => new Set(s).size === s.length, { message: "must not repeat a scope" })
      .describe(
        "`smtp`: SMTP AUTH on submission; `api`: the bearer of the user's own quarantine and message-log endpoints (scripts). Never valid for interactive sign-in.",
      ),
  })
  .meta({ id: "AppPasswordSpec", title: "AppPasswordSpec", description: "A new application password." });

/** An application password as listed: never its secret. */
export const AppPassword = z
  .object({
    id: z.string().describe("`app_…`"),
    name: z.string(),
    scopes: z.array(z.enum(APP_PASSWORD_SCOPES)),
    prefix: z.string().describe("The first characters of the secret, to recognise it."),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().describe("Last successful use (RFC 3339), null if never used."),
    revokedAt: z.string().nullable().describe("When it was revoked, null while valid."),
  })
  .meta({ id: "AppPassword", title: "AppPassword", description: "An application password (no secret)." });

/** An application password just created, with its secret shown once. */
export const AppPasswordCreated = AppPassword.extend({
  password: z.string().describe("The secret, shown only now: give it to the mail client."),
}).meta({
  id: "AppPasswordCreated",
  title: "AppPasswordCreated",
  description: "A new application password and its secret (shown once).",
});

export type SignIn = z.input<typeof SignIn>;
export type Session = z.output<typeof Session>;
export type Me = z.output<typeof Me>;
export type TotpEnrolment = z.output<typeof TotpEnrolment>;
export type AppPasswordScope = (typeof APP_PASSWORD_SCOPES)[number];
export type AppPasswordSpec = z.input<typeof AppPasswordSpec>;
export type AppPassword = z.output<typeof AppPassword>;
export type AppPasswordCreated = z.output<typeof AppPasswordCreated>;

/**
 * The body of `POST /v1/password-resets`: the address whose password was lost.
 * @example PasswordResetRequest.parse({ address: "alice@example.com" })
 */
export const PasswordResetRequest = z
  .strictObject({
    address: z.string().min(1).max(254).describe("The user's address (their login name)."),
  })
  .meta({
    id: "PasswordResetRequest",
    title: "PasswordResetRequest",
    description: "Ask for a password reset link, mailed to the user's external address.",
  });

/** The one answer of `POST /v1/password-resets`, whoever asked (it never says whether a link was sent). */
export const PasswordResetAccepted = z
  .object({
    linkValidMinutes: z
      .number()
      .int()
      .describe("How long a link, if one is sent, stays valid (minutes). The same for every request."),
  })
  .meta({
    id: "PasswordResetAccepted",
    title: "PasswordResetAccepted",
    description:
      "The request was taken. When the address is a user whose role may reset its password and who has an external address, a link goes there; the answer is the same either way.",
  });

/**
 * The body of `POST /v1/password-resets/{token}`: the new password.
 * @example PasswordResetCompletion.parse({ password: "Correct-Horse-8" })
 */
export const PasswordResetCompletion = z
  .strictObject({
    password: z
      .string()
      .min(1)
      .max(1024)
      .meta({ writeOnly: true, description: "The new password; the user's PasswordPolicy applies." }),
  })
  .meta({ id: "PasswordResetCompletion", title: "PasswordResetCompletion", description: "A new password." });

/** The query of `GET /v1/sessions/lost-password`. */
export const LostPasswordQuery = z
  .strictObject({
    address: z.string().min(1).max(254).describe("The address the person tried to sign in with."),
  })
  .meta({ id: "LostPasswordQuery", title: "LostPasswordQuery", description: "Whose lost-password help." });

/** What the sign-in flow shows a person who lost their password. */
export const LostPasswordHelp = z
  .object({
    instructions: z
      .string()
      .nullable()
      .describe(
        "The lost-password instructions that apply: the user's own, else their domain policy's, else the account policy's (for an address that is not a user: the domain's, else the account's); null when none are set.",
      ),
    selfServiceReset: z
      .boolean()
      .describe(
        "Whether the domain's mail users (role `email-user`) may reset a lost password by mail (`POST /v1/password-resets`). Answered per domain, never per user, so it does not tell which users exist.",
      ),
  })
  .meta({
    id: "LostPasswordHelp",
    title: "LostPasswordHelp",
    description: "Lost-password instructions and whether self-service reset is offered.",
  });

export type PasswordResetRequest = z.input<typeof PasswordResetRequest>;
export type PasswordResetAccepted = z.output<typeof PasswordResetAccepted>;
export type LostPasswordHelp = z.output<typeof LostPasswordHelp>;
