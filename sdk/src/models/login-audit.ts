/** The login audit: every API sign-in step and SMTP AUTH attempt at a hosted domain, coalesced per hour, never with a secret. */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** Where a sign-in happened: the HTTP API (`POST /v1/sessions`) or SMTP AUTH on the submission port. */
export const LOGIN_SERVICES = ["api", "smtp-submission"] as const;
export type LoginService = (typeof LOGIN_SERVICES)[number];

/** Whether the attempt passed its step. */
export const LOGIN_RESULTS = ["success", "failure"] as const;
export type LoginResult = (typeof LOGIN_RESULTS)[number];

/**
 * Why an attempt failed. `bad-credentials`: unknown address, no password, wrong password (one reason
 * for all, as the client was told); `second-factor`: a wrong TOTP or recovery code;
 * `app-password-required`: the account password of a user with a second factor at SMTP AUTH;
 * `locked-out`: the client's IP was locked out by earlier failures; `access-rule`: an AccessRule
 * keeps the client's network out; `tls-required`: the attempt came without TLS; `disabled`: the
 * user is disabled; `expired-password`: the password expired (SMTP AUTH; the API lets such a user
 * change it).
 */
export const LOGIN_FAILURE_REASONS = [
  "bad-credentials",
  "second-factor",
  "app-password-required",
  "locked-out",
  "access-rule",
  "tls-required",
  "disabled",
  "expired-password",
] as const;
export type LoginFailureKind = (typeof LOGIN_FAILURE_REASONS)[number];

/**
 * What the client proved (or tried): the account `password`, an `app-password`, a `totp` code or a
 * `recovery-code`. null when a failure came before any credential was checked, or when a wrong
 * secret matched no kind.
 */
export const LOGIN_CREDENTIALS = ["password", "app-password", "totp", "recovery-code"] as const;
export type LoginCredential = (typeof LOGIN_CREDENTIALS)[number];

/** How long login audit entries are kept (days) before they are purged. */
export const LOGIN_AUDIT_RETENTION_DAYS = 90;

/** One login audit entry: attempts with the same facts within one clock hour, counted. */
export const LoginAuditEntry = z
  .object({
    id: z.string().describe("The entry's ID; entries are listed newest first."),
    service: z.enum(LOGIN_SERVICES).describe("Where the attempt was made."),
    result: z.enum(LOGIN_RESULTS).describe("Whether it passed."),
    reason: z.enum(LOGIN_FAILURE_REASONS).nullable().describe("Why it failed; null on success."),
    credential: z
      .enum(LOGIN_CREDENTIALS)
      .nullable()
      .describe("The kind of credential checked; null when none was (or a wrong one matched no kind)."),
    address: z
      .string()
      .describe(
        "The address signed in as (lower-cased). An address of the domain that is no user is recorded too: the client was not told.",
      ),
    userExists: z.boolean().describe("Whether the address was a user of the domain at the time."),
    domain: z.string().describe("The hosted domain of the address."),
    ip: z
      .string()
      .describe(
        "The client's IP address; `*` on the entry that gathers attempts past the per-domain hourly cap.",
      ),
    count: z.number().int().min(1).describe("How many attempts this entry stands for."),
    firstAt: timestamp("The first of them."),
    lastAt: timestamp("The latest of them."),
  })
  .meta({
    id: "LoginAuditEntry",
    title: "LoginAuditEntry",
    description:
      "Sign-in attempts with the same address, IP, service, result, reason and credential kind within one clock hour.",
  });

const filters = {
  result: z.enum(LOGIN_RESULTS).optional().describe("Only successes or only failures."),
  service: z.enum(LOGIN_SERVICES).optional().describe("Only this service."),
  since: timestamp("Only entries whose latest attempt is at or after this time.").optional(),
  until: timestamp("Only entries whose first attempt is before this time.").optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe("Page size (1–500). Default 100."),
  cursor: z.string().optional().describe("`nextCursor` from the previous page; absent for the first page."),
};

/** Filters of `GET /v1/domains/{domain}/login-audit` (all optional, combined with AND). */
export const LoginAuditQuery = z.strictObject({
  user: z.string().optional().describe("Only attempts to sign in as this address."),
  ...filters,
});

/** Filters of `GET /v1/me/login-audit`. */
export const MyLoginAuditQuery = z.strictObject(filters);

export type LoginAuditEntry = z.output<typeof LoginAuditEntry>;
/** What a caller passes to search a domain's login audit. */
export type LoginAuditQuery = Omit<z.input<typeof LoginAuditQuery>, "limit"> & { limit?: number };
/** What a user passes to search their own login audit. */
export type MyLoginAuditQuery = Omit<z.input<typeof MyLoginAuditQuery>, "limit"> & { limit?: number };
