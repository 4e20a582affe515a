/** Password expiry warnings: mails before a user's password expires, at the PasswordPolicy's `expiry.warnDays`, queued in the store's notice outbox once per password and warning. */
import type { Store } from "../store/store.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";

const DAY_MS = 86_400_000;

/** How often the engine looks for passwords that are due a warning (ms): hourly. */
export const EXPIRY_SCAN_INTERVAL_MS = 3_600_000;

/**
 * Queues the expiry warnings due at `now` (ms) for every enabled user with a password in a domain
 * whose policy expires passwords: for a password with `d` days left, the warning of the smallest
 * warn day not below `d` (so a warning missed while no engine ran is sent late rather than never,
 * and a password never gets more warnings than the policy lists). The notice key holds the user,
 * when the password was set and the warn day: queued once across restarts and engines, and a new
 * password starts over. Returns how many were queued now.
 *
 * @example await queueExpiryWarnings(store, engine.policy.current(), Date.now())
 */
export async function queueExpiryWarnings(
  store: Store,
  snapshot: PolicySnapshot,
  now: number,
): Promise<number> {
  let queued = 0;
  const seen = new Set<string>();
  for (const domain of snapshot.domains.values()) {
    // The map holds each domain under its aliases too.
    if (seen.has(domain.name)) continue;
    seen.add(domain.name);
    const { expiryDays, expiryWarnDays = [] } = domain.auth;
    if (expiryDays === null || expiryWarnDays.length === 0) continue;
    for (const user of domain.users.values()) {
      if (!user.enabled) continue;
      const credential = await store.getCredential(user.address, user.accountId);
      if (!credential) continue;
      const expiresAt = Date.parse(credential.setAt) + expiryDays * DAY_MS;
      if (!(expiresAt > now)) continue;
      const daysLeft = (expiresAt - now) / DAY_MS;
      const due = expiryWarnDays.filter((w) => w >= daysLeft).sort((a, b) => a - b)[0];
      if (due === undefined) continue;
      const left = Math.ceil(daysLeft);
      const added = await store.enqueueNotice({
        key: `password-expiry/${user.address}/${credential.setAt}/${due}`,
        accountId: user.accountId,
        domain: domain.name,
        to: user.address,
        subject: `Your password expires in ${left} day${left === 1 ? "" : "s"}`,
        text: [
          `The password of ${user.address} expires on ${new Date(expiresAt).toISOString()}.`,
          "",
          "Change it before then: after that, signing in only lets you change it, and mail clients",
          "using it (SMTP AUTH) are refused until you do.",
        ].join("\n"),
      });
      if (added) queued++;
    }
  }
  return queued;
}
