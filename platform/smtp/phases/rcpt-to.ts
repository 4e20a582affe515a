/** RCPT TO phase: relay control, domain aliases, lists, users, aliases, catch-all and routes, loops cut. */
import { type SrsReverse, srsReverse } from "../delivery/srs.ts";
import { splitMailbox } from "../policy/matchers.ts";
import {
  type AliasPolicy,
  type DomainPolicy,
  type GroupPolicy,
  type PolicySnapshot,
  RESERVED_LOCAL_PARTS,
} from "../policy/snapshot.ts";
import type { AcceptedRecipient, ConnectionContext, DeliveryTarget, Transaction } from "../session.ts";
import { senderAllowed, senderBlocked } from "./mail-from.ts";
import { accept, defer, type PhaseResult, type Refusal, reject } from "./result.ts";

/** How deep forwards may nest before the branch is treated as a loop (RFC 5321 §6.3 asks for loop detection). */
export const MAX_FORWARD_DEPTH = 10;

/** The engine's per-message recipient caps (`mailplane serve|smtp` flags). */
export interface RcptLimits {
  /**
   * Recipients (RCPT TO) per message; beyond → 452 4.5.3 (RFC 5321 §4.5.3.1.10), the client sends
   * the rest in another transaction. RFC 5321 §4.5.3.1.8 asks for at least 100. Default 100.
   */
  maxRecipients: number;
  /**
   * Final targets alias expansion may produce for one message (all its recipients together, each
   * list's targets counted every time it is reached); beyond → 550 5.5.3 naming the alias. One
   * RCPT may also take at most ten times as many expansion steps. Default 1,000.
   */
  maxExpansion: number;
  /** Counts expansion steps (forward destinations followed, lists reused), for monitoring and tests. */
  meter?: { steps: number };
}

/** {@link RcptLimits} defaults: 100 recipients, 1,000 expanded targets per message. */
export const DEFAULT_RCPT_LIMITS: RcptLimits = { maxRecipients: 100, maxExpansion: 1_000 };

/** Raised inside an expansion that went over its budget; carries the list that tipped it. */
class ExpansionOverflow {
  readonly list: string;
  constructor(list: string) {
    this.list = list;
  }
}

/**
 * One RCPT's expansion: every hosted address is resolved once (`memo`; a list reached again adds
 * its known targets), `onPath` cuts cycles, and every target produced is charged to `budget`.
 * Without the memo, three nested 1,000-wide lists are 10⁹ paths; with it, work is linear in the
 * lists' sizes and stops at the budget.
 */
interface Walk {
  memo: Map<string, Resolution>;
  onPath: Set<string>;
  budget: number;
  /** Steps left: lists whose members yield nothing (disabled, blocked) spend no budget but cost work. */
  steps: number;
  meter: { steps: number } | undefined;
}

/** Expansion steps one RCPT may take, per target of {@link RcptLimits.maxExpansion}. */
const STEPS_PER_TARGET = 10;

/** Charges `n` targets produced at `list` to the walk; throws when the budget is gone. */
function charge(walk: Walk, list: string, n: number): void {
  walk.budget -= n;
  if (walk.budget < 0) throw new ExpansionOverflow(list);
}

const USER_UNKNOWN = (address: string) =>
  reject(550, "5.1.1", `<${address}>: Recipient address rejected: user unknown`, "unknown-recipient");

/** The outcome of resolving one address inside the platform. */
interface Resolution {
  targets: DeliveryTarget[];
  /** The first refusal met, reported when nothing could be delivered. */
  refusal?: Refusal;
  /** True when a forwarding loop was cut somewhere below. */
  loop: boolean;
}

/**
 * Resolves RCPT TO. Order (each step answers only if the earlier ones passed):
 * 0. more than `limits.maxRecipients` in the transaction → 452 4.5.3;
 * 1. unknown domain → 550 5.7.1 relay denied (authenticated clients may relay: `remote` target);
 * 2. a domain alias is rewritten to its main domain; the local part must exist there;
 * 3. a rejected local-part character → 550 5.1.3;
 * 4. the domain's sender block list (envelope sender, address or domain) → 550 5.7.1;
 * 5. the domain's recipient block list → 550 5.7.1;
 * 6. user: disabled → 550 5.2.1, else its mailbox;
 * 7. alias: reject → 550 5.7.1 with its text; forward → expanded (loops cut, 550 5.4.6 when only loops
 *    remain; more than `limits.maxExpansion` targets for the message → 550 5.5.3); auto-reply → the
 *    reply plus copies;
 * 8. local-recipients-only mode: anything else not listed → 550 5.1.1;
 * 9. catch-all (`Domain.catchAll` or the `*@domain` alias), last;
 * 10. the domain's routes: the downstream server owns the mailbox;
 * 11. otherwise 550 5.1.1 user unknown.
 * Finally an inbound transaction keeps one domain and one filtering mode (else 452 4.5.3) and a
 * declared SIZE over the domain's limit is refused early (RFC 1870 §6, 552 5.3.4).
 *
 * @example rcptTo(snapshot, conn, tx, "alice@example.org") // accept({ address: "alice@example.com", … })
 */
export function rcptTo(
  snapshot: PolicySnapshot,
  conn: ConnectionContext,
  tx: Transaction,
  rcpt: string,
  limits: RcptLimits = DEFAULT_RCPT_LIMITS,
): PhaseResult<AcceptedRecipient> {
  const given = rcpt.trim().toLowerCase();
  const parts = splitMailbox(given);
  if (!parts) return reject(501, "5.1.3", "Bad recipient address syntax");
  if (tx.recipients.length >= limits.maxRecipients && !tx.recipients.some((r) => r.rcpt === given)) {
    // RFC 5321 §4.5.3.1.10: 452 asks the client to send the rest in a later transaction.
    return defer(452, "4.5.3", `Too many recipients (at most ${limits.maxRecipients} per message)`);
  }
  const domain = snapshot.domains.get(parts.domain);
  if (!domain) {
    if (conn.user) {
      // RFC 5321 §2.4: the remote host decides what its local-parts mean, so the address goes on
      // as the client wrote it.
      const asGiven = rcpt.trim();
      return accept({
        rcpt: asGiven,
        address: asGiven,
        domain: null,
        filtered: false,
        targets: [{ kind: "remote", address: asGiven }],
      });
    }
    // RFC 5321 §3.6.2 / §7.1: only authenticated clients may relay to domains we do not host.
    return reject(550, "5.7.1", `<${given}>: Relay access denied`, "relay");
  }
  const srs = snapshot.srsKey ? srsReverse(snapshot.srsKey, parts.local, Date.now()) : null;
  if (srs) return srsRecipient(srs, given, domain.name, tx);
  const address = `${parts.local}@${domain.name}`;
  for (const ch of domain.rejectedLocalPartChars) {
    if (parts.local.includes(ch))
      return reject(550, "5.1.3", `<${given}>: Recipient address contains a rejected character`);
  }
  if (!conn.user) {
    const blocked = senderBlocked(domain, tx.mailFrom);
    if (blocked) return blocked;
  }
  if (domain.recipientBlock.matches(address)) {
    return reject(550, "5.7.1", `<${given}>: Recipient address rejected by policy`, "blocked");
  }
  const group =
    domain.users.has(parts.local) || domain.aliases.has(parts.local)
      ? undefined
      : domain.groups.get(parts.local);
  if (group && !groupAdmits(snapshot, domain, group, conn.user?.address ?? tx.mailFrom)) {
    const who = group.senders === "members" ? "its members" : `addresses of ${domain.name}`;
    return reject(550, "5.7.1", `<${given}>: only ${who} may send to this group`, "policy");
  }
  // The message's other recipients already spent part of the budget (a repeated RCPT replaces its own).
  const spent = tx.recipients.reduce((n, r) => (r.rcpt === given ? n : n + r.targets.length), 0);
  const walk: Walk = {
    memo: new Map(),
    onPath: new Set([address]),
    budget: limits.maxExpansion - spent,
    steps: limits.maxExpansion * STEPS_PER_TARGET,
    meter: limits.meter,
  };
  let resolution: Resolution;
  try {
    resolution = resolveLocal(snapshot, domain, parts.local, walk, 0, true);
  } catch (error) {
    if (!(error instanceof ExpansionOverflow)) throw error;
    const via = error.list === address ? "" : ` (through <${error.list}>)`;
    // RFC 3463 X.5.3: too many recipients. Permanent: the same alias expands the same way again.
    return reject(
      550,
      "5.5.3",
      `<${given}>: alias expands to more than ${limits.maxExpansion} recipients per message${via}`,
      "policy",
    );
  }
  if (resolution.targets.length === 0) {
    if (resolution.refusal) return resolution.refusal;
    if (resolution.loop) return reject(550, "5.4.6", `<${given}>: Routing loop detected`);
    return USER_UNKNOWN(given);
  }
  const filtered =
    !conn.user && !domain.recipientAllow.matches(address) && !senderAllowed(domain, tx.mailFrom);
  const accepted: AcceptedRecipient = {
    rcpt: given,
    address,
    domain: domain.name,
    filtered,
    targets: dedupe(resolution.targets),
  };
  const tooBig = declaredSizeRefusal(domain, tx);
  if (tooBig) return tooBig;
  const grouping = groupRefusal(conn, tx, accepted);
  if (grouping) return grouping;
  return accept(accepted);
}

/**
 * A bounce to an SRS0 address of ours goes back to the original sender of the forward. Only bounces
 * (MAIL FROM:<>) are taken: a valid SRS address must not make the platform an open relay for 21 days.
 */
function srsRecipient(
  srs: SrsReverse,
  given: string,
  domain: string,
  tx: Transaction,
): PhaseResult<AcceptedRecipient> {
  if ("refused" in srs) {
    const why = srs.refused === "hash" ? "forged or damaged" : "expired";
    return reject(550, "5.1.1", `<${given}>: SRS address ${why}`);
  }
  if (tx.mailFrom !== "") return reject(550, "5.7.1", `<${given}>: SRS addresses take bounces only`);
  return accept({
    rcpt: given,
    address: given,
    domain,
    filtered: true,
    targets: [{ kind: "remote", address: srs.sender }],
  });
}

/** The key that recipients of one transaction must share; see {@link Transaction.groupKey}. */
export function groupKeyOf(conn: ConnectionContext, recipient: AcceptedRecipient): string {
  return conn.user ? "submission" : `${recipient.domain}|${recipient.filtered ? "filtered" : "unfiltered"}`;
}

function groupRefusal(
  conn: ConnectionContext,
  tx: Transaction,
  recipient: AcceptedRecipient,
): Refusal | undefined {
  if (tx.groupKey === null || tx.groupKey === groupKeyOf(conn, recipient)) return undefined;
  // RFC 5321 §4.5.3.1.10: 452 makes the client send this recipient in a later transaction.
  return defer(
    452,
    "4.5.3",
    `<${recipient.rcpt}>: Too many recipients: send recipients of ${recipient.domain} in a separate transaction`,
  );
}

function declaredSizeRefusal(domain: DomainPolicy, tx: Transaction): Refusal | undefined {
  const limit = domain.filter.sizeLimitBytes;
  if (
    limit > 0 &&
    domain.filter.oversizedAction === "reject" &&
    tx.declaredSize !== null &&
    tx.declaredSize > limit
  ) {
    return reject(552, "5.3.4", `Message size exceeds the limit of ${domain.name} (${limit} bytes)`);
  }
  return undefined;
}

/**
 * Resolves a local part of a hosted domain to delivery targets. `visited` holds every address met
 * on this path (cycle detection); `top` is true for the RCPT address itself, whose refusals are
 * reported to the client, while refusals deeper in a forward are only noted.
 */
function resolveLocal(
  snapshot: PolicySnapshot,
  domain: DomainPolicy,
  local: string,
  walk: Walk,
  depth: number,
  top: boolean,
): Resolution {
  const address = `${local}@${domain.name}`;
  // A user's own address first, then the users' extra addresses: both reach the user's mailbox.
  const user = domain.users.get(local) ?? domain.userAddresses.get(local);
  if (user) {
    if (!user.enabled) {
      return {
        targets: [],
        loop: false,
        refusal: reject(550, "5.2.1", `<${address}>: Mailbox disabled, not accepting messages`),
      };
    }
    charge(walk, address, 1);
    return { targets: [{ kind: "mailbox", address: user.address, domain: domain.name }], loop: false };
  }
  const alias = domain.aliases.get(local);
  if (alias) return resolveAlias(snapshot, domain, alias, walk, depth);
  const group = domain.groups.get(local);
  if (group) return resolveGroup(snapshot, group, walk, depth);
  const departedTo = domain.departed.get(local);
  // A deleted user's forward (`UserSpec.forwardOnDelete`): the mail goes on like an alias's.
  if (departedTo) return expand(snapshot, departedTo, walk, depth + 1);
  if (domain.reservedTo && RESERVED_LOCAL_PARTS.has(local)) {
    // Declared users and aliases of these names win; otherwise the role mail reaches a person.
    return expand(snapshot, domain.reservedTo, walk, depth + 1);
  }
  if (domain.localRecipientsOnly && !domain.localRecipients.has(local)) {
    return { targets: [], loop: false, refusal: USER_UNKNOWN(address) };
  }
  if (domain.catchAllAlias) return resolveAlias(snapshot, domain, domain.catchAllAlias, walk, depth);
  if (domain.catchAll) {
    const below = expand(snapshot, domain.catchAll, walk, depth + 1);
    if (below.targets.length > 0 || !top) return below;
  }
  if (domain.routes.length > 0) {
    charge(walk, address, 1);
    return { targets: [{ kind: "relay", address, domain: domain.name }], loop: false };
  }
  return { targets: [], loop: false, refusal: USER_UNKNOWN(address) };
}

function resolveAlias(
  snapshot: PolicySnapshot,
  domain: DomainPolicy,
  alias: AliasPolicy,
  walk: Walk,
  depth: number,
): Resolution {
  const action = alias.action;
  if (action.type === "reject") {
    // The alias's own text (e.g. "Joe no longer works here"); RFC 3463 X.7.1: delivery not authorized.
    return { targets: [], loop: false, refusal: reject(550, "5.7.1", action.message) };
  }
  const result: Resolution = { targets: [], loop: false };
  const destinations = action.type === "forward" ? action.to : (action.copyTo ?? []);
  if (action.type === "autoReply") {
    charge(walk, alias.address, 1);
    result.targets.push({
      kind: "autoreply",
      alias: alias.address,
      domain: domain.name,
      subject: action.subject,
      body: action.body,
      periodDays: action.periodDays ?? 1,
    });
  }
  for (const to of destinations) {
    const below = expand(snapshot, to, walk, depth + 1);
    result.targets.push(...below.targets);
    result.loop ||= below.loop;
    result.refusal ??= below.refusal;
  }
  return result;
}

/** Delivers to every member (each expanded like a forward destination: a member may be a list itself). */
function resolveGroup(snapshot: PolicySnapshot, group: GroupPolicy, walk: Walk, depth: number): Resolution {
  const result: Resolution = { targets: [], loop: false };
  for (const member of group.members) {
    const below = expand(snapshot, member, walk, depth + 1);
    result.targets.push(...below.targets);
    result.loop ||= below.loop;
    result.refusal ??= below.refusal;
  }
  return result;
}

/**
 * Whether `sender` (the logged-in user, else the envelope sender; "" for the null sender) may write
 * to `group`. Addresses at a domain alias count as the main domain's. Only the RCPT address itself is
 * checked: a forward that leads to a group was the forward's owner's choice.
 */
function groupAdmits(
  snapshot: PolicySnapshot,
  domain: DomainPolicy,
  group: GroupPolicy,
  sender: string,
): boolean {
  if (group.senders === "anyone") return true;
  const from = canonicalAddress(snapshot, sender);
  if (from === undefined) return false;
  if (group.senders === "domain") return snapshot.domains.get(from.domain) === domain;
  return group.members.some((m) => canonicalAddress(snapshot, m)?.address === from.address);
}

/** An address with a hosted domain alias replaced by its main domain; undefined when not an address. */
function canonicalAddress(
  snapshot: PolicySnapshot,
  address: string,
): { address: string; domain: string } | undefined {
  const parts = splitMailbox(address);
  if (!parts) return undefined;
  const domain = snapshot.domains.get(parts.domain)?.name ?? parts.domain;
  return { address: `${parts.local}@${domain}`, domain };
}

/** Expands one forward destination: a hosted address recursively, anything else as a remote target. */
function expand(snapshot: PolicySnapshot, destination: string, walk: Walk, depth: number): Resolution {
  if (walk.meter) walk.meter.steps++;
  if (--walk.steps < 0) throw new ExpansionOverflow(destination.toLowerCase());
  const parts = splitMailbox(destination.toLowerCase());
  if (!parts) return { targets: [], loop: false };
  const domain = snapshot.domains.get(parts.domain);
  if (!domain) {
    const remote = `${parts.local}@${parts.domain}`;
    charge(walk, remote, 1);
    return { targets: [{ kind: "remote", address: remote }], loop: false };
  }
  const address = `${parts.local}@${domain.name}`;
  // A destination already on this path, or a chain deeper than any sane list, is a loop: cut it.
  if (walk.onPath.has(address) || depth > MAX_FORWARD_DEPTH) return { targets: [], loop: true };
  const known = walk.memo.get(address);
  if (known) {
    // Reached before by another branch: its targets again, charged again (the budget bounds the work).
    charge(walk, address, known.targets.length);
    return known;
  }
  if (domain.recipientBlock.matches(address)) return { targets: [], loop: false };
  walk.onPath.add(address);
  const result = resolveLocal(snapshot, domain, parts.local, walk, depth, false);
  walk.onPath.delete(address);
  walk.memo.set(address, result);
  return result;
}

function dedupe(targets: DeliveryTarget[]): DeliveryTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = t.kind === "autoreply" ? `autoreply:${t.alias}` : `${t.kind}:${t.address}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Where `RCPT TO:<Postmaster>` (no domain) goes: the operator's postmaster address. */
export interface OperatorPostmaster {
  address: string;
  /** True when the operator named the address (`--postmaster`): a remote one is then delivered remotely. */
  configured: boolean;
}

/**
 * `RCPT TO:<Postmaster>` without a domain, which RFC 5321 §4.1.1.3 says a server must accept: it is
 * resolved as the operator's postmaster address (by default `postmaster@<host name>`, delivered when
 * that domain is hosted here; `--postmaster` names any address, remote ones included). The recipient
 * keeps `postmaster` as the address the client gave. When no address can take it the refusal says
 * what the operator has to do.
 *
 * @example rcptToPostmaster(snapshot, conn, tx, { address: "noc@provider.example", configured: true })
 */
export function rcptToPostmaster(
  snapshot: PolicySnapshot,
  conn: ConnectionContext,
  tx: Transaction,
  postmaster: OperatorPostmaster,
  limits: RcptLimits = DEFAULT_RCPT_LIMITS,
): PhaseResult<AcceptedRecipient> {
  const verdict = rcptTo(snapshot, conn, tx, postmaster.address, limits);
  if (verdict.action === "accept") return accept({ ...verdict.value, rcpt: "postmaster" });
  if (verdict.action === "reject" && verdict.tag === "relay" && postmaster.configured) {
    const address = postmaster.address.toLowerCase();
    return accept({
      rcpt: "postmaster",
      address,
      domain: null,
      filtered: true,
      targets: [{ kind: "remote", address }],
    });
  }
  if (verdict.action === "defer") return verdict;
  return reject(
    550,
    "5.1.1",
    `<postmaster>: no postmaster mailbox on this server (the operator declares ${postmaster.address} or starts the engine with --postmaster)`,
    "unknown-recipient",
  );
}
