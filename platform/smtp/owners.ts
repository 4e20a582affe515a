/** Whose message data a record is: an account, one of its domains and that domain's lifetime, and what each may see. */
import type { DeclaredDomain, DomainPolicy, PolicySnapshot } from "./policy/snapshot.ts";
import type { AuthenticatedUser } from "./session.ts";

/**
 * The owner of a message record: the account, the domain (main name) and the domain's generation —
 * the store's ID of this lifetime of the Domain. A Domain deleted and created again (by anyone) has
 * another generation, so what the first lifetime recorded never shows in the second.
 */
export interface Owner {
  accountId: string;
  domain: string;
  /** '' for a Domain created before generations existed (its records carry no stamp). */
  generation: string;
}

/**
 * One account's view of a message: the owner and the recipients it may see. The sender's account
 * sees every recipient of its user's submission; a recipient domain sees only its own recipients
 * (so a Bcc to another account never shows).
 */
export interface MessageView {
  owner: Owner;
  recipients: string[];
}

/** The owner of a domain policy's records. @example ownerOf(snapshot.domains.get("example.com")!) */
export function ownerOf(policy: Pick<DomainPolicy, "accountId" | "name" | "generation">): Owner {
  return { accountId: policy.accountId, domain: policy.name, generation: policy.generation };
}

/** The owner of a declared domain's records. */
export function declaredOwner(d: DeclaredDomain): Owner {
  return { accountId: d.accountId, domain: d.domain, generation: d.generation };
}

/**
 * One domain lifetime's key: generations are unique, so domain and generation name it (the
 * directory name of its Maildirs and message log, see maildir.ts).
 * @example lifetimeKey({ accountId: "acme", domain: "example.com", generation: "g1f…" }) // "example.com@g1f…"
 */
export function lifetimeKey(owner: Pick<Owner, "domain" | "generation">): string {
  return `${owner.domain}@${owner.generation}`;
}

/**
 * True when a record stamped `stamp` belongs to `owner`. Records written before owners were stamped
 * carry only a domain (accountId ''): they belong to the domain's pre-generation lifetime ('').
 */
export function ownedBy(stamp: Owner, owner: Owner): boolean {
  return (
    stamp.domain === owner.domain &&
    stamp.generation === owner.generation &&
    (stamp.accountId === owner.accountId || (stamp.accountId === "" && stamp.generation === ""))
  );
}

/** The stamp of a record from before owners were stamped: its domain only. */
export function legacyOwner(domain: string | null): Owner | null {
  return domain ? { accountId: "", domain, generation: "" } : null;
}

/** The view `owner` has of a message with `views`, or undefined when the message is none of its business. */
export function viewOf(views: readonly MessageView[], owner: Owner): MessageView | undefined {
  return views.find((v) => ownedBy(v.owner, owner));
}

/**
 * The views narrowed to `addresses` (a message released to some of its recipients, or kept for the
 * others): each view keeps only those recipients, and a view left with none is dropped.
 * @example narrowViews(views, ["ana@example.com"])
 */
export function narrowViews(views: readonly MessageView[], addresses: readonly string[]): MessageView[] {
  const keep = new Set(addresses.map((a) => a.toLowerCase()));
  return views.flatMap((v) => {
    const recipients = v.recipients.filter((r) => keep.has(r.toLowerCase()));
    return recipients.length > 0 ? [{ ...v, recipients }] : [];
  });
}

/**
 * The views of one transaction: the authenticated sender's domain first (every recipient: it is
 * its user's message), then one per hosted recipient domain with that domain's recipients. A
 * recipient domain of the sender's own lifetime adds nothing to the sender's view.
 *
 * @example
 * transactionViews(snapshot, user, [{ address: "a@a.example", domain: "a.example" }, { address: "b@b.example", domain: "b.example" }])
 * // [{ owner: a.example's, recipients: both }, { owner: b.example's, recipients: ["b@b.example"] }]
 */
export function transactionViews(
  snapshot: PolicySnapshot,
  user: AuthenticatedUser | null,
  recipients: readonly { address: string; domain: string | null }[],
): MessageView[] {
  const views: MessageView[] = [];
  const all = recipients.map((r) => r.address);
  if (user) {
    const policy = snapshot.domains.get(user.domain);
    // The user's domain as it is now: gone or held by another account (deleted mid-session) means
    // nobody's sender view.
    if (policy && policy.name === user.domain && policy.accountId === user.accountId) {
      views.push({ owner: ownerOf(policy), recipients: all });
    }
  }
  for (const r of recipients) {
    if (!r.domain) continue;
    const policy = snapshot.domains.get(r.domain);
    if (!policy) continue;
    const owner = ownerOf(policy);
    const existing = views.find((v) => ownedBy(v.owner, owner));
    if (!existing) views.push({ owner, recipients: [r.address] });
    else if (!existing.recipients.includes(r.address)) existing.recipients.push(r.address);
  }
  return views;
}

/**
 * The views of a queued or quarantined message: those stamped on it, or for a message from before
 * views existed, one view of its `domain`'s pre-generation lifetime with every recipient.
 */
export function viewsOfMessage(meta: {
  views?: MessageView[];
  domain: string | null;
  recipients: readonly { address: string }[];
}): MessageView[] {
  if (meta.views) return meta.views;
  const owner = legacyOwner(meta.domain);
  return owner ? [{ owner, recipients: meta.recipients.map((r) => r.address) }] : [];
}
