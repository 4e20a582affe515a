/** The audit log: one entry per change — who, what, before and after (never a secret). */
import { z } from "zod";
import { timestamp } from "./common.ts";

/**
 * What happened to the object. `verify`: a domain name's ownership was checked or marked verified;
 * `evict`: the object was removed because another account proved it owns its unverified domain name;
 * `login-failed` (kind `Login`): a failed SMTP login, never with the password; `lock` / `unlock`
 * (kind `LoginLockout`): a client key was locked out by failed logins or an administrator lifted its
 * lockout. Kind `User`, made by the user's own session (`actor.tokenId` is the session ID): `sign-in`,
 * `sign-in-step` (a second factor or password change finished), `sign-out`, `totp-enrol`,
 * `totp-confirm`, `totp-remove`, `recovery-code` (one was used), `app-password-create`,
 * `app-password-revoke`, `release` (a user released their quarantined message, from their session or
 * through a digest's release link: actor `release-link`) — never with a secret, code or hash.
 */
export const AUDIT_ACTIONS = [
  "create",
  "update",
  "delete",
  "reset",
  "revoke",
  "verify",
  "evict",
  "login-failed",
  "lock",
  "unlock",
  "clear-callout-cache",
  "report-spam",
  "report-ham",
  "sign-in",
  "sign-in-step",
  "sign-out",
  "totp-enrol",
  "totp-confirm",
  "totp-remove",
  "recovery-code",
  "app-password-create",
  "app-password-revoke",
  "release",
  "quarantine-delete",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One audit log entry. */
export const AuditEntry = z
  .object({
    id: z.string().describe("The entry's ID; entries are listed newest first."),
    at: timestamp("When the change was committed."),
    account: z.string().describe("The account the object belongs to."),
    actor: z
      .object({
        tokenId: z
          .string()
          .nullable()
          .describe("The token that made the change; null for the platform itself."),
        role: z.string().nullable().describe("That token's role at the time."),
      })
      .describe("Who made the change."),
    action: z.enum(AUDIT_ACTIONS).describe("What happened."),
    kind: z.string().describe("The object's kind, e.g. `Domain`, `User`, `ApiToken`."),
    objectId: z.string().describe("The object's ID, e.g. `alice@example.com`."),
    before: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("The object before the change; null on create. Secrets are never recorded."),
    after: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("The object after the change; null on delete. Secrets are never recorded."),
    requestId: z.string().nullable().describe("The request that made the change."),
  })
  .meta({ id: "AuditEntry", title: "AuditEntry", description: "One change, as recorded in the audit log." });

/** Filters of `GET /v1/audit` (all optional, combined with AND). */
export const AuditQuery = z.strictObject({
  kind: z.string().optional().describe("Only entries for this kind, e.g. `User`."),
  objectId: z.string().optional().describe("Only entries for this object ID."),
  actor: z.string().optional().describe("Only changes made by this token ID."),
  action: z.enum(AUDIT_ACTIONS).optional().describe("Only this action."),
  since: timestamp("Only entries at or after this time.").optional(),
  until: timestamp("Only entries before this time.").optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe("Page size (1–500). Default 100."),
  cursor: z.string().optional().describe("`nextCursor` from the previous page."),
});

export type AuditEntry = z.output<typeof AuditEntry>;
/** What a caller passes to search the audit log. */
export type AuditQuery = Omit<z.input<typeof AuditQuery>, "limit"> & { limit?: number };
