/** Login alerts: which sign-in attempts mail the user (per their `loginAlerts`), throttled by the notice's key, and what the mail says. */
import type { User } from "../sdk/src/models/user.ts";
import type { LoginAttemptInput } from "./store/contract/login-audit-store.ts";
import type { OutboxNotice } from "./store/contract/notice-outbox-store.ts";

/** At most one failed-login alert per user in each window of this length (ms): one clock hour. */
export const FAILED_ALERT_WINDOW_MS = 3_600_000;

/** At most one successful-login alert per user, client IP and window of this length (ms): one UTC day. */
export const SUCCESS_ALERT_WINDOW_MS = 86_400_000;

/** A user's alert settings with the defaults for users stored before the field existed. */
export function alertSettings(spec: Partial<Pick<User, "loginAlerts">> | undefined): User["loginAlerts"] {
  return { failed: true, successful: false, ...spec?.loginAlerts };
}

const SERVICE_NAMES = { api: "the web sign-in", "smtp-submission": "SMTP (sending mail)" } as const;

/**
 * The alert an attempt calls for, or undefined: failures when `failed` is on (the key holds the
 * hour, so an attacker hammering the login gets the user one mail an hour), successes when
 * `successful` is on (one per client IP and day: a mail client logs in with every message). Only
 * for existing users: an unknown address has no mailbox. Never names the secret that was tried.
 *
 * @example loginAlert(attempt, { failed: true, successful: false })?.subject // "Failed sign-in to alice@example.com"
 */
export function loginAlert(
  attempt: LoginAttemptInput,
  settings: User["loginAlerts"],
): OutboxNotice | undefined {
  if (!attempt.userExists) return undefined;
  const when = new Date(attempt.at).toISOString();
  const where = SERVICE_NAMES[attempt.service];
  const base = { accountId: attempt.accountId, domain: attempt.domain, to: attempt.address };
  if (attempt.result === "failure") {
    if (!settings.failed) return undefined;
    return {
      ...base,
      key: `login-failed/${attempt.address}/${Math.floor(attempt.at / FAILED_ALERT_WINDOW_MS)}`,
      subject: `Failed sign-in to ${attempt.address}`,
      text: [
        `A sign-in as ${attempt.address} to ${where} failed at ${when}`,
        `from ${attempt.ip} (reason: ${attempt.reason ?? "unknown"}).`,
        "",
        "If this was not you, someone may be guessing your password: change it and turn on two-step sign-in.",
        "Further failures within the hour are not mailed; your login audit lists them all.",
      ].join("\n"),
    };
  }
  if (!settings.successful) return undefined;
  return {
    ...base,
    key: `login-ok/${attempt.address}/${attempt.ip}/${Math.floor(attempt.at / SUCCESS_ALERT_WINDOW_MS)}`,
    subject: `New sign-in to ${attempt.address}`,
    text: [
      `${attempt.address} signed in to ${where} at ${when} from ${attempt.ip}.`,
      "",
      "If this was not you, change your password now.",
    ].join("\n"),
  };
}
