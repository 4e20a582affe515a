/**
 * What the declaration says the inbound listener answers to one envelope: the platform's documented
 * recipient rules (docs/architecture.md), read from the declared objects — written apart
 * from the SMTP engine's code on purpose, so verify checks the engine instead of repeating it.
 */
import type { AliasSpec } from "../../sdk/src/models/alias.ts";
import type { DomainSpec } from "../../sdk/src/models/domain.ts";
import type { VerifyTenant } from "./tenant.ts";

/** How deep forwards nest before the platform treats the branch as a loop (the engine's limit). */
const MAX_FORWARD_DEPTH = 10;

/** Which declared rule decides the answer. */
export type Decider =
  | "not-hosted"
  | "rejected-character"
  | "sender-block"
  | "recipient-block"
  | "user"
  | "disabled-user"
  | "alias"
  | "local-recipients-only"
  | "catch-all"
  | "routes"
  | "unknown";

/** The answer the declaration predicts for RCPT TO (MAIL FROM is admitted on the inbound listener). */
export type Expected =
  | { verdict: "accept"; by: Decider; why: string }
  | {
      verdict: "refuse";
      code: 550;
      by: Decider;
      why: string;
      /** The exact reply text when the declaration configures it (a reject alias). */
      text?: string;
    }
  /** Not hosted by this tenant: the declaration says nothing about it. */
  | { verdict: "unknown"; by: Decider; why: string };

/** Lookup tables over a tenant, built once per run. */
export interface Rules {
  tenant: VerifyTenant;
  /** Main domains and domain aliases → the main domain. */
  domainOf: Map<string, DomainSpec>;
  users: Map<string, { address: string; enabled: boolean }>;
  aliases: Map<string, AliasSpec>;
  routed: Set<string>;
  lists: Map<string, DomainLists>;
}

/** A domain's sender and recipient lists (entries `local@domain` or `*@domain`). */
export interface DomainLists {
  senderBlock: Set<string>;
  recipientBlock: Set<string>;
  senderAllow: Set<string>;
  recipientAllow: Set<string>;
}

/** Builds the lookup tables. @example const rules = rulesOf(tenant); */
export function rulesOf(tenant: VerifyTenant): Rules {
  const domainOf = new Map<string, DomainSpec>();
  for (const d of tenant.domains) domainOf.set(d.name, d);
  // A name declared both as a domain and as another's alias stays the main domain (as the engine does).
  for (const d of tenant.domains) for (const a of d.aliases) if (!domainOf.has(a)) domainOf.set(a, d);
  const lists = new Map<string, DomainLists>();
  for (const d of tenant.domains) {
    lists.set(d.name, {
      senderBlock: new Set(),
      recipientBlock: new Set(),
      senderAllow: new Set(),
      recipientAllow: new Set(),
    });
  }
  for (const l of tenant.senderLists) {
    const entry = lists.get(l.domain);
    if (!entry) continue;
    const key = `${l.target}${l.kind === "block" ? "Block" : "Allow"}` as keyof DomainLists;
    for (const e of l.entries) entry[key].add(e);
  }
  return {
    tenant,
    domainOf,
    users: new Map(tenant.users.map((u) => [u.address, { address: u.address, enabled: u.enabled }])),
    aliases: new Map(tenant.aliases.map((a) => [a.address, a])),
    routed: new Set(tenant.routes.map((r) => r.domain)),
    lists,
  };
}

/** True when `address` or its whole domain (`*@domain`) is on the list; the null sender never is. */
export function listed(list: ReadonlySet<string>, address: string): boolean {
  if (address === "") return false;
  const at = address.lastIndexOf("@");
  return list.has(address) || (at >= 0 && list.has(`*${address.slice(at)}`));
}

function split(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf("@");
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** Whether a forward destination ends in at least one delivery target. */
function delivers(rules: Rules, destination: string, visited: Set<string>, depth: number): boolean {
  const { local, domain: name } = split(destination.toLowerCase());
  const domain = rules.domainOf.get(name);
  // Another tenant's or the outside world's address: the platform relays it.
  if (!domain) return true;
  const address = `${local}@${domain.name}`;
  if (visited.has(address) || depth > MAX_FORWARD_DEPTH) return false;
  if (listed(rules.lists.get(domain.name)!.recipientBlock, address)) return false;
  const below = resolveLocal(rules, domain, local, new Set(visited).add(address), depth);
  return below.verdict === "accept";
}

function resolveAlias(
  rules: Rules,
  alias: AliasSpec,
  visited: Set<string>,
  depth: number,
  by: Decider,
): Expected {
  const { action } = alias;
  if (action.type === "reject") {
    return { verdict: "refuse", code: 550, by, why: `alias ${alias.address} rejects`, text: action.message };
  }
  if (action.type === "autoReply") {
    return { verdict: "accept", by, why: `alias ${alias.address} answers automatically` };
  }
  const reached = action.to.filter((to) => delivers(rules, to, visited, depth + 1));
  return reached.length > 0
    ? { verdict: "accept", by, why: `alias ${alias.address} forwards to ${reached.join(", ")}` }
    : {
        verdict: "refuse",
        code: 550,
        by,
        why: `alias ${alias.address} forwards only to addresses that refuse mail or loop`,
      };
}

function resolveLocal(
  rules: Rules,
  domain: DomainSpec,
  local: string,
  visited: Set<string>,
  depth: number,
  top = false,
): Expected {
  const address = `${local}@${domain.name}`;
  const user = rules.users.get(address);
  if (user) {
    return user.enabled
      ? { verdict: "accept", by: "user", why: `user ${address}` }
      : { verdict: "refuse", code: 550, by: "disabled-user", why: `user ${address} is disabled` };
  }
  const alias = rules.aliases.get(address);
  if (alias) return resolveAlias(rules, alias, visited, depth, "alias");
  if (domain.localRecipientsOnly && !domain.localRecipients.includes(local)) {
    return {
      verdict: "refuse",
      code: 550,
      by: "local-recipients-only",
      why: `${domain.name} accepts only its local recipients`,
    };
  }
  const catchAllAlias = rules.aliases.get(`*@${domain.name}`);
  if (catchAllAlias) return resolveAlias(rules, catchAllAlias, visited, depth, "catch-all");
  // Domain.catchAll: a destination that delivers nothing lets the recipient fall through at the top.
  if (domain.catchAll !== null && delivers(rules, domain.catchAll, visited, depth + 1)) {
    return { verdict: "accept", by: "catch-all", why: `catch-all of ${domain.name} → ${domain.catchAll}` };
  }
  if (domain.catchAll !== null && !top) {
    return { verdict: "refuse", code: 550, by: "catch-all", why: `catch-all ${domain.catchAll} refuses` };
  }
  if (rules.routed.has(domain.name)) {
    return { verdict: "accept", by: "routes", why: `${domain.name} relays unknown recipients to its routes` };
  }
  return { verdict: "refuse", code: 550, by: "unknown", why: `no such recipient at ${domain.name}` };
}

/**
 * The answer the declaration predicts for an unauthenticated MAIL FROM `sender`, RCPT TO `rcpt` on the
 * inbound listener. Order: domain (aliases rewritten) → rejected local-part characters → sender block
 * list → recipient block list → user (disabled refuses) → alias → local-recipients-only → catch-all
 * (alias `*@domain`, then `Domain.catchAll`) → routes → unknown.
 * @example expectRecipient(rules, "bob@example.net", "joe@example.com") // { verdict: "refuse", code: 550, text: "Joe no longer works here", … }
 */
export function expectRecipient(rules: Rules, sender: string, rcpt: string): Expected {
  const { local, domain: name } = split(rcpt.trim().toLowerCase());
  const domain = rules.domainOf.get(name);
  if (!domain) return { verdict: "unknown", by: "not-hosted", why: `${name} is not a domain of this tenant` };
  const address = `${local}@${domain.name}`;
  for (const ch of domain.rejectedLocalPartChars) {
    if (local.includes(ch)) {
      return {
        verdict: "refuse",
        code: 550,
        by: "rejected-character",
        why: `${JSON.stringify(ch)} is rejected`,
      };
    }
  }
  const lists = rules.lists.get(domain.name)!;
  if (listed(lists.senderBlock, sender.toLowerCase())) {
    return {
      verdict: "refuse",
      code: 550,
      by: "sender-block",
      why: `${domain.name} blocks sender ${sender}`,
    };
  }
  if (listed(lists.recipientBlock, address)) {
    return {
      verdict: "refuse",
      code: 550,
      by: "recipient-block",
      why: `${domain.name} blocks recipient ${address}`,
    };
  }
  return resolveLocal(rules, domain, local, new Set([address]), 0, true);
}
