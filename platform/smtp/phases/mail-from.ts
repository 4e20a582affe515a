/** MAIL FROM phase: submission needs AUTH and an owned sender; sender allow/block lists of a recipient domain. */
import { splitMailbox } from "../policy/matchers.ts";
import type { DomainPolicy, PolicySnapshot } from "../policy/snapshot.ts";
import type { ConnectionContext } from "../session.ts";
import { accept, type PhaseResult, type Refusal, reject } from "./result.ts";

/**
 * Checks MAIL FROM. On the submission listener the client must have authenticated (RFC 4954 §6:
 * 530 5.7.0) and may only send as itself or as an alias that forwards to it (553 5.7.1), never
 * with the null sender. On the inbound listener every sender is admitted here: sender lists belong
 * to a recipient domain, so they are applied at RCPT once that domain is known — as Postfix does
 * with `smtpd_delay_reject` — see {@link senderBlocked}.
 *
 * @example mailFrom(snapshot, conn, "bob@example.net") // accept("bob@example.net") on the inbound listener
 */
export function mailFrom(
  snapshot: PolicySnapshot,
  conn: ConnectionContext,
  sender: string,
): PhaseResult<string> {
  // RFC 5321 §2.4: a local-part is case-sensitive to every host but its own, so the reverse path
  // is kept as given (relays and bounces use it); only the comparisons ignore case.
  const address = sender.trim();
  if (conn.listener === "submission") {
    if (!conn.user) return reject(530, "5.7.0", "Authentication required");
    if (!ownsSender(snapshot, conn.user.address, address.toLowerCase())) {
      return reject(553, "5.7.1", `Sender address <${address}> not owned by user ${conn.user.address}`);
    }
  }
  return accept(address);
}

/**
 * True when the authenticated user may use `sender`: their own address, one of their extra addresses
 * (`UserSpec.addresses`) or an alias forwarding to them.
 */
export function ownsSender(snapshot: PolicySnapshot, user: string, sender: string): boolean {
  if (sender === user) return true;
  const parts = splitMailbox(sender);
  if (!parts) return false;
  const domain = snapshot.domains.get(parts.domain);
  if (domain?.userAddresses.get(parts.local)?.address === user) return true;
  const alias = domain?.aliases.get(parts.local);
  return alias?.action.type === "forward" && alias.action.to.includes(user);
}

/**
 * The recipient domain's sender block list against the envelope sender (address or whole domain).
 * Blocked senders are refused with 550 5.7.1 and never quarantined (SpamPanel: "The messages are
 * rejected with a 5xx SMTP error code").
 */
export function senderBlocked(domain: DomainPolicy, sender: string): Refusal | undefined {
  if (domain.senderBlock.matches(sender)) {
    return reject(550, "5.7.1", `Sender <${sender}> is blocked by ${domain.name}`, "blocked");
  }
  return undefined;
}

/**
 * The recipient domain's sender allow list: the envelope sender, or the From: header address once
 * DATA has it (SpamPanel: "based on the MAIL FROM … or the From: header"). Allowed senders skip
 * all filtering.
 */
export function senderAllowed(domain: DomainPolicy, sender: string, fromHeader?: string): boolean {
  return (
    domain.senderAllow.matches(sender) || (fromHeader !== undefined && domain.senderAllow.matches(fromHeader))
  );
}
