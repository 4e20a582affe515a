/** AccessRule decisions: may a client at this IP sign in to this service as this user? Shared by SMTP AUTH and the API. */
import type { AccessRuleSpec, AccessService } from "../sdk/src/index.ts";
import { CidrSet, ipNumber, ipv4Text } from "./smtp/policy/matchers.ts";

/** A rule's networks, compiled for lookups. */
export interface CompiledAccessRule {
  /** The rule's ID (`scope/service`), for logs and error details. */
  id: string;
  allow: CidrSet;
  deny: CidrSet;
}

/** The verdict for one sign-in. `rule` is the ID of the rule that decided, null when none applies. */
export interface AccessVerdict {
  allowed: boolean;
  rule: string | null;
}

/** IPv4-mapped IPv6 blocks (`::ffff:0:0/96` and longer) also hold the IPv4 clients they wrap. */
function mappedV4(entry: string): string | undefined {
  const [ip = "", prefixText] = entry.split("/");
  const parsed = ipNumber(ip);
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (!parsed?.v6 || prefix < 96 || parsed.n >> 32n !== 0xffffn) return undefined;
  return `${ipv4Text(parsed.n & 0xffffffffn)}/${prefix - 96}`;
}

/** A CIDR set of the entries, with each IPv4-mapped IPv6 block added as its IPv4 block too. */
function cidrSet(entries: readonly string[]): CidrSet {
  const set = new CidrSet(entries);
  for (const entry of entries) {
    const v4 = mappedV4(entry);
    if (v4) set.add(v4);
  }
  return set;
}

/**
 * Compiles one rule's allow and deny lists.
 * @example compileAccessRule({ scope: "account", service: "api", allow: [], deny: ["192.0.2.0/24"] })
 */
export function compileAccessRule(
  spec: Pick<AccessRuleSpec, "scope" | "service" | "allow" | "deny">,
): CompiledAccessRule {
  return { id: `${spec.scope}/${spec.service}`, allow: cidrSet(spec.allow), deny: cidrSet(spec.deny) };
}

/**
 * The scopes that may hold a rule for `address`, most specific first: the user, its domain, the account.
 * @example accessScopes("alice@example.com") // ["alice@example.com", "example.com", "account"]
 */
export function accessScopes(address: string): string[] {
  const at = address.lastIndexOf("@");
  return at < 0 ? ["account"] : [address, address.slice(at + 1), "account"];
}

/**
 * Decides one sign-in from the rules of its scopes, most specific first (see {@link accessScopes}):
 * the first scope that has a rule decides alone (a user's rule overrides its domain's and the
 * account's). Within that rule, deny wins over allow; a non-empty allow list admits only its
 * networks. No rule: allowed. An IPv4-mapped IPv6 client (`::ffff:192.0.2.1`) is its IPv4 address;
 * a client address that is not an IP (never the case on TCP) is refused by any rule that applies.
 *
 * @example decideAccess([undefined, rule, undefined], "192.0.2.7") // { allowed: false, rule: "example.com/api" }
 */
export function decideAccess(
  rulesBySpecificity: readonly (CompiledAccessRule | undefined)[],
  ip: string,
): AccessVerdict {
  const rule = rulesBySpecificity.find((r) => r !== undefined);
  if (!rule) return { allowed: true, rule: null };
  const parsed = ipNumber(ip);
  if (!parsed) return { allowed: false, rule: rule.id };
  // `::ffff:c000:201` is 192.0.2.1 too (the dotted form is already unwrapped by ipNumber).
  const client = parsed.v6 && parsed.n >> 32n === 0xffffn ? ipv4Text(parsed.n & 0xffffffffn) : ip;
  if (rule.deny.has(client)) return { allowed: false, rule: rule.id };
  if (rule.allow.size > 0 && !rule.allow.has(client)) return { allowed: false, rule: rule.id };
  return { allowed: true, rule: rule.id };
}

/**
 * An account's rules by ID, with the lookup SMTP AUTH and the API make.
 * @example new AccessRules(specs).decide("alice@example.com", "smtp-submission", "192.0.2.7")
 */
export class AccessRules {
  readonly #byId = new Map<string, CompiledAccessRule>();

  constructor(specs: Iterable<Pick<AccessRuleSpec, "scope" | "service" | "allow" | "deny">> = []) {
    for (const spec of specs) {
      const compiled = compileAccessRule(spec);
      this.#byId.set(compiled.id, compiled);
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  /** The verdict for `address` signing in to `service` from `ip`. */
  decide(address: string, service: AccessService, ip: string): AccessVerdict {
    return decideAccess(
      accessScopes(address).map((scope) => this.#byId.get(`${scope}/${service}`)),
      ip,
    );
  }
}
