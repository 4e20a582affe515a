/** A mail user's endpoints: sign-in sessions (`/v1/sessions`) and their own data (`/v1/me/…`: password, TOTP, application passwords, quarantine, message log). */
import { z } from "zod";
import { LoginAuditEntry, MyLoginAuditQuery } from "../models/login-audit.ts";
import { pageOf } from "../models/page.ts";
import {
  AppPassword,
  AppPasswordCreated,
  AppPasswordSpec,
  Me,
  OneTimeCode,
  PasswordChange,
  Session,
  SignIn,
  TotpEnrolment,
} from "../models/session.ts";
import {
  MessageLogEntry,
  MessageLogQuery,
  QuarantinedMessage,
  QuarantineEntry,
  QuarantineQuery,
  QuarantineRelease,
} from "./operations.ts";
import type { Endpoint } from "./types.ts";

const NONE: Endpoint["headers"] = { ifMatch: "none", idempotencyKey: "none", account: "none" };
const user = { tag: "Me", access: "user", headers: NONE, etag: false } as const;
const MessageParams = z.strictObject({
  message: z.string().min(1).describe("The message's queue ID."),
});
/** What a JSON body can be refused for besides its fields. */
const BODY_ERRORS = ["MP_UNSUPPORTED_MEDIA_TYPE", "MP_PAYLOAD_TOO_LARGE", "MP_VALIDATION_FAILED"] as const;
const AppPasswordParams = z.strictObject({ appPassword: z.string().min(1).describe("`app_…`") });

/** The endpoints of signed-in mail users. Admin tokens are refused here (403), sessions everywhere else. */
export const endpoints: readonly Endpoint[] = [
  {
    ...user,
    operationId: "createSession",
    method: "POST",
    path: "/v1/sessions",
    summary:
      "Sign in as a mail user with address and password: a session whose stage says whether a second factor, a password change or a TOTP enrolment comes first. Counts failures per IP (the PasswordPolicy lockout).",
    access: "public",
    body: SignIn,
    response: Session,
    successStatuses: [201],
    // Public, so none of the common errors apply by default: a malformed body is still 400.
    errors: [
      "MP_BAD_REQUEST",
      "MP_UNSUPPORTED_MEDIA_TYPE",
      "MP_PAYLOAD_TOO_LARGE",
      "MP_VALIDATION_FAILED",
      "MP_SIGN_IN_FAILED",
      "MP_ACCESS_DENIED",
      "MP_LOGIN_LOCKED",
      "MP_INTERNAL",
      "MP_UNAVAILABLE",
    ],
  },
  {
    ...user,
    operationId: "completeSecondFactor",
    method: "POST",
    path: "/v1/sessions/second-factor",
    summary:
      "Finish a `second-factor` session with a TOTP code (or a recovery code): answers a new `active` session and ends the pending one.",
    body: OneTimeCode,
    response: Session,
    successStatuses: [201],
    stages: ["second-factor"],
    errors: [...BODY_ERRORS, "MP_SIGN_IN_FAILED", "MP_LOGIN_LOCKED"],
  },
  {
    ...user,
    operationId: "deleteSession",
    method: "DELETE",
    path: "/v1/sessions/current",
    summary: "Sign out: the session's token stops working.",
    response: null,
    successStatuses: [204],
    stages: ["second-factor", "password-change", "two-factor-enrolment"],
    errors: [],
  },
  {
    ...user,
    operationId: "getMe",
    method: "GET",
    path: "/v1/me",
    summary: "The signed-in user, their second factor and their session.",
    response: Me,
    successStatuses: [200],
    stages: ["password-change", "two-factor-enrolment"],
    errors: [],
  },
  {
    ...user,
    operationId: "changeMyPassword",
    method: "PUT",
    path: "/v1/me/password",
    summary:
      "Change the own password (the current one is required); the only thing a session of an expired password may do. Ends the user's other sessions.",
    body: PasswordChange,
    response: Session,
    successStatuses: [200],
    stages: ["password-change"],
    errors: [...BODY_ERRORS, "MP_PASSWORD_POLICY_VIOLATION", "MP_SIGN_IN_FAILED", "MP_LOGIN_LOCKED"],
  },
  {
    ...user,
    operationId: "enrolTotp",
    method: "POST",
    path: "/v1/me/totp",
    summary:
      "Start a TOTP enrolment: the otpauth URI, its secret and ten recovery codes, shown only now. 409 when TOTP is already on.",
    response: TotpEnrolment,
    successStatuses: [201],
    stages: ["two-factor-enrolment"],
    errors: ["MP_CONFLICT"],
  },
  {
    ...user,
    operationId: "confirmTotp",
    method: "POST",
    path: "/v1/me/totp/confirm",
    summary:
      "Confirm the enrolment with a code from the app: TOTP is on from now (a `two-factor-enrolment` session becomes `active`: answered as a new session).",
    body: OneTimeCode,
    response: Session,
    successStatuses: [200],
    stages: ["two-factor-enrolment"],
    errors: [...BODY_ERRORS, "MP_SIGN_IN_FAILED", "MP_CONFLICT", "MP_LOGIN_LOCKED"],
  },
  {
    ...user,
    operationId: "removeTotp",
    method: "DELETE",
    path: "/v1/me/totp",
    summary: "Turn TOTP off (with a current code). 409 when the PasswordPolicy requires two factors.",
    body: OneTimeCode,
    response: null,
    successStatuses: [204],
    errors: [...BODY_ERRORS, "MP_SIGN_IN_FAILED", "MP_CONFLICT", "MP_NOT_FOUND", "MP_LOGIN_LOCKED"],
  },
  {
    ...user,
    operationId: "listAppPasswords",
    method: "GET",
    path: "/v1/me/app-passwords",
    summary: "The user's application passwords with their last use (never their secrets).",
    response: pageOf(AppPassword),
    successStatuses: [200],
    errors: [],
  },
  {
    ...user,
    operationId: "createAppPassword",
    method: "POST",
    path: "/v1/me/app-passwords",
    summary:
      "Create an application password for a mail client (scope `smtp`: SMTP AUTH). Its secret is answered once and stored hashed.",
    body: AppPasswordSpec,
    response: AppPasswordCreated,
    successStatuses: [201],
    errors: [...BODY_ERRORS],
  },
  {
    ...user,
    operationId: "revokeAppPassword",
    method: "DELETE",
    path: "/v1/me/app-passwords/:appPassword",
    summary: "Revoke an application password: SMTP AUTH refuses it from now.",
    params: AppPasswordParams,
    response: null,
    successStatuses: [204],
    errors: ["MP_NOT_FOUND"],
  },
  {
    ...user,
    operationId: "listMyLoginAudit",
    method: "GET",
    path: "/v1/me/login-audit",
    summary:
      "The user's own login audit, newest first: sign-ins and SMTP AUTH as this address, with IP, service, result and reason.",
    query: MyLoginAuditQuery,
    response: pageOf(LoginAuditEntry),
    successStatuses: [200],
    errors: [],
  },
  {
    ...user,
    operationId: "listMyQuarantine",
    appPasswords: true,
    method: "GET",
    path: "/v1/me/quarantine",
    summary: "The user's quarantined messages (addressed to them), newest first.",
    query: QuarantineQuery,
    response: pageOf(QuarantineEntry),
    successStatuses: [200],
    errors: ["MP_ACCESS_DENIED", "MP_UNAVAILABLE"],
  },
  {
    ...user,
    operationId: "getMyQuarantinedMessage",
    appPasswords: true,
    method: "GET",
    path: "/v1/me/quarantine/:message",
    summary: "View one of the user's quarantined messages, raw content included.",
    params: MessageParams,
    response: QuarantinedMessage,
    successStatuses: [200],
    errors: ["MP_NOT_FOUND", "MP_ACCESS_DENIED", "MP_UNAVAILABLE"],
  },
  {
    ...user,
    operationId: "releaseMyQuarantinedMessage",
    appPasswords: true,
    method: "POST",
    path: "/v1/me/quarantine/:message/release",
    summary:
      "Release one of the user's quarantined messages. 409 when it is also held for other recipients (an administrator releases those).",
    params: MessageParams,
    response: QuarantineRelease,
    successStatuses: [200],
    errors: ["MP_NOT_FOUND", "MP_CONFLICT", "MP_ACCESS_DENIED", "MP_UNAVAILABLE"],
  },
  {
    ...user,
    operationId: "searchMyMessageLog",
    appPasswords: true,
    method: "GET",
    path: "/v1/me/message-log",
    summary: "The message-log entries of mail to or from the user, newest first.",
    query: MessageLogQuery,
    response: pageOf(MessageLogEntry),
    successStatuses: [200],
    errors: ["MP_ACCESS_DENIED", "MP_UNAVAILABLE"],
  },
];
