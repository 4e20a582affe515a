/** Where the relay may connect: special-purpose address blocks refused unless the platform admin allows them, and never the platform's own listeners. */
import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { DnsResolver } from "../content/spf.ts";
import { CidrSet, ipNumber, ipv4Text } from "../policy/matchers.ts";

/**
 * IPv4 blocks a tenant's route or a remote MX may not point at: the IANA IPv4 Special-Purpose
 * Address Registry (RFC 6890) entries that are not globally reachable, plus multicast and the
 * reserved class E. Order matters: the first block that holds an address names it.
 */
const SPECIAL_V4: readonly (readonly [string, string])[] = [
  ["255.255.255.255/32", "the limited broadcast address"],
  ["0.0.0.0/8", "an unspecified (this-network) address"],
  ["10.0.0.0/8", "a private address"],
  ["100.64.0.0/10", "a shared (carrier-grade NAT) address"],
  ["127.0.0.0/8", "a loopback address"],
  ["169.254.0.0/16", "a link-local address"],
  ["172.16.0.0/12", "a private address"],
  ["192.0.0.0/24", "an IETF protocol assignment"],
  ["192.0.2.0/24", "a documentation address"],
  ["192.88.99.0/24", "a reserved (former 6to4 relay) address"],
  ["192.168.0.0/16", "a private address"],
  ["198.18.0.0/15", "a benchmarking address"],
  ["198.51.100.0/24", "a documentation address"],
  ["203.0.113.0/24", "a documentation address"],
  ["224.0.0.0/4", "a multicast address"],
  ["240.0.0.0/4", "a reserved address"],
];

/**
 * IPv6 blocks, from the IANA IPv6 Special-Purpose Address Registry. Everything outside 2000::/3
 * (global unicast) is refused as well; the IPv4-mapped, NAT64 and 6to4 forms are judged by the
 * IPv4 address they carry (see {@link embeddedIpv4}).
 */
const SPECIAL_V6: readonly (readonly [string, string])[] = [
  ["::/128", "an unspecified address"],
  ["::1/128", "a loopback address"],
  ["::/96", "a reserved (IPv4-compatible) address"],
  ["64:ff9b:1::/48", "a local-use NAT64 address"],
  ["100::/64", "a discard-only address"],
  ["2001::/23", "an IETF protocol assignment"],
  ["2001:db8::/32", "a documentation address"],
  ["3fff::/20", "a documentation address"],
  ["5f00::/16", "a segment-routing address"],
  ["fc00::/7", "a unique local address"],
  ["fe80::/10", "a link-local address"],
  ["fec0::/10", "a reserved (site-local) address"],
  ["ff00::/8", "a multicast address"],
];

const SPECIAL = new CidrSet([...SPECIAL_V4, ...SPECIAL_V6].map(([cidr]) => cidr));
const LABELS = new Map([...SPECIAL_V4, ...SPECIAL_V6]);
const GLOBAL_UNICAST_V6 = new CidrSet(["2000::/3"]);

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the translation forms that reach
 * IPv4 hosts: IPv4-mapped `::ffff:0:0/96` (RFC 4291 §2.5.5.2), NAT64 `64:ff9b::/96` (RFC 6052)
 * and 6to4 `2002::/16` (RFC 3056). `::ffff:7f00:1` is 127.0.0.1 to the kernel.
 * @example embeddedIpv4("64:ff9b::a00:1") // "10.0.0.1"
 */
export function embeddedIpv4(address: string): string | undefined {
  const parsed = ipNumber(address);
  if (!parsed) return undefined;
  // `::ffff:1.2.3.4` is normalised to its IPv4 address already.
  if (!parsed.v6) return address.includes(":") ? ipv4Text(parsed.n) : undefined;
  const { n } = parsed;
  if (n >> 32n === 0xffffn || n >> 32n === 0x64ff9b0000000000000000n) return ipv4Text(n & 0xffffffffn);
  if (n >> 112n === 0x2002n) return ipv4Text((n >> 80n) & 0xffffffffn);
  return undefined;
}

/**
 * Why an address is special, or undefined for an ordinary global unicast address.
 * @example specialPurpose("169.254.169.254") // { block: "169.254.0.0/16", label: "a link-local address" }
 */
export function specialPurpose(address: string): { block: string; label: string } | undefined {
  const inner = embeddedIpv4(address);
  if (inner !== undefined) return specialPurpose(inner);
  const parsed = ipNumber(address);
  if (!parsed) return { block: address, label: "not an IP address" };
  const block = SPECIAL.match(address);
  if (block !== undefined) return { block, label: LABELS.get(block)! };
  if (parsed.v6 && !GLOBAL_UNICAST_V6.has(address))
    return { block: "2000::/3", label: "outside global unicast" };
  return undefined;
}

/** A listen address of the platform; host `0.0.0.0`, `::` or "" stands for every local address. */
export interface OwnListener {
  host: string;
  port: number;
}

/** Options of {@link EgressPolicy}. */
export interface EgressPolicyOptions {
  /** CIDR blocks (or single addresses) the platform admin allows although they are special; default none. */
  allow?: Iterable<string>;
  /** The platform's own listeners: never a destination, whatever `allow` says. */
  listeners?: Iterable<OwnListener>;
  /** This machine's addresses, for listeners on a wildcard address; default `os.networkInterfaces()`. */
  localAddresses?: () => string[];
}

const WILDCARD = new Set(["", "0.0.0.0", "::", "[::]"]);

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/**
 * Which addresses the relay may connect to. Loopback, private (RFC 1918, ULA), link-local (cloud
 * metadata at 169.254.169.254), shared/CGNAT, multicast, unspecified, broadcast, documentation,
 * benchmarking and reserved blocks are refused unless a block of `allow` holds the address; the
 * platform's own listeners are refused always (a route there would loop mail back in, or talk
 * SMTP to the API). Checked when a route is written and again before every connection.
 *
 * @example
 * const egress = new EgressPolicy({ allow: ["127.0.0.0/8"], listeners: [{ host: "127.0.0.1", port: 2525 }] });
 * egress.refusal("10.0.0.1", 25)   // "10.0.0.1 is a private address (10.0.0.0/8)"
 * egress.refusal("127.0.0.1", 2526) // undefined: allowed by the admin
 * egress.refusal("127.0.0.1", 2525) // "127.0.0.1:2525 is one of the platform's own listeners"
 */
export class EgressPolicy {
  readonly allowed: CidrSet;
  readonly #listeners: OwnListener[] = [];
  readonly #localAddresses: () => string[];
  #local: { at: number; keys: Set<string> } | undefined;

  /** @throws Error naming an `allow` entry that is not an address or CIDR block. */
  constructor(opts: EgressPolicyOptions = {}) {
    this.allowed = new CidrSet(opts.allow ?? []);
    this.#localAddresses = opts.localAddresses ?? interfaceAddresses;
    for (const l of opts.listeners ?? []) this.addListener(l);
  }

  /** Adds a listener of the platform (the engine's SMTP listeners, the API), once it is bound. */
  addListener(listener: OwnListener): void {
    this.#listeners.push({ host: listener.host.replace(/^\[(.*)\]$/, "$1"), port: listener.port });
  }

  /** The reason the relay may not connect to `address:port`, or undefined when it may. */
  refusal(address: string, port: number): string | undefined {
    const shown = address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
    if (this.#isOwnListener(address, port)) return `${shown} is one of the platform's own listeners`;
    const special = specialPurpose(address);
    if (!special) return undefined;
    const inner = embeddedIpv4(address);
    if (this.allowed.has(address) || (inner !== undefined && this.allowed.has(inner))) return undefined;
    const via = inner === undefined ? "" : ` (it reaches ${inner})`;
    return `${address}${via} is ${special.label} (${special.block})`;
  }

  /**
   * The reason a route may not name `host:port`, checked when the route is written: an IP literal
   * is judged as {@link refusal} judges it, and `localhost` (RFC 6761 §6.3: always loopback) as
   * 127.0.0.1 and ::1. Other names are judged by what they resolve to, before every connection.
   * @example egress.routeRefusal("169.254.169.254", 25) // "169.254.169.254:25 … is a link-local address (169.254.0.0/16)"
   */
  routeRefusal(host: string, port: number): string | undefined {
    const literal = host.replace(/^\[(.*)\]$/, "$1");
    if (isIP(literal)) return this.refusal(literal, port);
    const name = literal.toLowerCase().replace(/\.$/, "");
    if (name === "localhost" || name.endsWith(".localhost")) {
      const why = this.refusal("127.0.0.1", port) ?? this.refusal("::1", port);
      return why === undefined ? undefined : `${host} is always loopback: ${why}`;
    }
    return undefined;
  }

  #isOwnListener(address: string, port: number): boolean {
    const inner = embeddedIpv4(address);
    const candidates = [address, ...(inner === undefined ? [] : [inner])];
    const keys = candidates.map(ipKey);
    return this.#listeners.some((l) => {
      if (l.port !== port) return false;
      if (!WILDCARD.has(l.host)) return keys.includes(ipKey(l.host));
      // A wildcard listener answers on every local address, loopback included.
      const local = this.#localKeys();
      return candidates.some((c) => LOOPBACK.has(c) || local.has(ipKey(c)));
    });
  }

  /** The machine's addresses, re-read at most every 10 s (interfaces change rarely; checks are frequent). */
  #localKeys(): Set<string> {
    const now = Date.now();
    if (!this.#local || now - this.#local.at > 10_000) {
      this.#local = { at: now, keys: new Set(this.#localAddresses().map(ipKey)) };
    }
    return this.#local.keys;
  }
}

const LOOPBACK = new CidrSet(["127.0.0.0/8", "::1"]);

/** One key per address whatever its spelling (`::1` and `0:0::1`). */
function ipKey(address: string): string {
  const parsed = ipNumber(address.replace(/^\[(.*)\]$/, "$1"));
  return parsed ? `${parsed.v6 ? 6 : 4}:${parsed.n.toString(16)}` : address;
}

/**
 * Parses a comma-separated CIDR list as `--allow-route-cidr` takes it; empty items are skipped.
 * @throws Error naming the first bad entry
 * @example parseCidrList("127.0.0.0/8, ::1") // ["127.0.0.0/8", "::1"]
 */
export function parseCidrList(text: string): string[] {
  const entries = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  new CidrSet(entries);
  return entries;
}

/** Turns a host into the addresses to check and connect to. */
export type AddressLookup = (host: string) => Promise<string[]>;

/** The system's resolver (getaddrinfo: the hosts file, then DNS), every address. */
export const systemLookup: AddressLookup = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function notFound(code: string | undefined): boolean {
  return code === "ENOTFOUND" || code === "ENODATA";
}

/**
 * The addresses of a destination host, for the relay: an IP literal is itself; a name is looked
 * up as A and AAAA through the engine's resolver (the one tests and `--no-dns` control), and, when
 * DNS knows no such name, through the system (`/etc/hosts`). Every address found is checked
 * before a connection is made to one of them, so no answer can slip past the policy.
 *
 * @throws Error with `code` ENOTFOUND when nothing knows the name, or the resolver's error
 * @example await addressLookup(tableResolver({ "A mx.example.net": ["192.0.2.10"] }))("mx.example.net") // ["192.0.2.10"]
 */
export function addressLookup(resolver: DnsResolver, system: AddressLookup = systemLookup): AddressLookup {
  return async (host) => {
    const literal = host.replace(/^\[(.*)\]$/, "$1");
    if (isIP(literal)) return [literal];
    const answers = await Promise.allSettled([resolver(host, "A"), resolver(host, "AAAA")]);
    const addresses = answers.flatMap((a) =>
      a.status === "fulfilled" ? (a.value as string[]).filter((x) => typeof x === "string") : [],
    );
    if (addresses.length > 0) return addresses;
    const failure = answers.find(
      (a): a is PromiseRejectedResult =>
        a.status === "rejected" && !notFound((a.reason as { code?: string }).code),
    );
    if (failure) throw failure.reason;
    try {
      const found = await system(host);
      if (found.length > 0) return found;
    } catch (err) {
      if (!notFound((err as { code?: string }).code)) throw err;
    }
    throw Object.assign(new Error(`${host}: no such host`), { code: "ENOTFOUND" });
  };
}
