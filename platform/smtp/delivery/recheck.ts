/** Delivery-time check of a queued target against the policy in force: mail waiting in the queue follows later changes. */
import { splitMailbox } from "../policy/matchers.ts";
import type { PolicySnapshot } from "../policy/snapshot.ts";
import type { DeliveryTarget } from "../session.ts";

/** Why a target resolved at arrival may no longer be delivered: a permanent failure with its RFC 3463 code. */
export interface TargetRefusal {
  status_code: string;
  detail: string;
}

/**
 * Checks a mailbox or relay target against `snapshot`: a user disabled since the message arrived
 * fails with 5.2.1 (mailbox disabled), a user or domain deleted since with 5.1.1 (bad destination
 * mailbox address); both are permanent, so the sender gets a DSN. Remote and auto-reply targets
 * pass (their rules are the remote side's and the alias's, checked when they run).
 * @example targetRefusal(snapshot, { kind: "mailbox", address: "bob@example.com", domain: "example.com" })
 * // { status_code: "5.2.1", detail: "<bob@example.com>: Mailbox disabled, not accepting messages" }
 */
export function targetRefusal(snapshot: PolicySnapshot, target: DeliveryTarget): TargetRefusal | undefined {
  if (target.kind !== "mailbox" && target.kind !== "relay") return undefined;
  const domain = snapshot.domains.get(target.domain);
  const local = splitMailbox(target.address)?.local ?? "";
  const user = domain?.users.get(local);
  if (user && !user.enabled)
    return { status_code: "5.2.1", detail: `<${target.address}>: Mailbox disabled, not accepting messages` };
  if (!domain) return { status_code: "5.1.1", detail: `<${target.address}>: domain no longer hosted here` };
  if (target.kind === "mailbox" && !user)
    return { status_code: "5.1.1", detail: `<${target.address}>: Recipient address rejected: user unknown` };
  return undefined;
}
