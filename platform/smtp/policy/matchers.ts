/** O(1) matchers the policy uses: address lists (address or whole domain) and IP/CIDR sets. */
import { isIPv4, isIPv6 } from "node:net";

/** Splits `local@domain` at the last `@`; the domain is lower-cased. Undefined without `@`. */
export function splitMailbox(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return undefined;
  return { local: address.slice(0, at).toLowerCase(), domain: address.slice(at + 1).toLowerCase() };
}

/**
 * A sender/recipient list as the model stores it: entries `local@domain` or `*@domain` (a whole
 * domain). Lookups are two hash probes whatever the list size.
 *
 * @example
 * const list = new AddressList(["*@spam.example", "bob@example.net"]);
 * list.matches("anyone@spam.example") // true
 */
export class AddressList {
  readonly addresses = new Set<string>();
  readonly domains = new Set<string>();

  constructor(entries: Iterable<string> = []) {
    for (const entry of entries) this.add(entry);
  }

  add(entry: string): void {
    const value = entry.trim().toLowerCase();
    if (value.startsWith("*@")) this.domains.add(value.slice(2));
    else if (value.startsWith("@")) this.domains.add(value.slice(1));
    else if (!value.includes("@")) this.domains.add(value);
    else this.addresses.add(value);
  }

  get size(): number {
    return this.addresses.size + this.domains.size;
  }

  /** True when the address itself or its whole domain is listed. The null sender never matches. */
  matches(address: string): boolean {
    if (address === "") return false;
    const lower = address.toLowerCase();
    if (this.addresses.has(lower)) return true;
    const parts = splitMailbox(lower);
    return parts !== undefined && this.domains.has(parts.domain);
  }
}

/** IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 client it wraps. */
export function normaliseIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip.toLowerCase();
}

/** An IPv4 address as a 32-bit number. */
function ipv4ToBigInt(ip: string): bigint {
  return ip.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  const missing = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const groups = [...headParts, ...Array<string>(missing).fill("0"), ...tailParts];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group || "0", 16)), 0n);
}

/**
 * An IP address as a number and its family; undefined for anything that is not an address.
 * A zone (`fe80::1%eth0`) is dropped: it names an interface, not a different address.
 * @example ipNumber("10.0.0.1") // { v6: false, n: 167772161n }
 */
export function ipNumber(address: string): { v6: boolean; n: bigint } | undefined {
  const ip = normaliseIp(address).replace(/%.*$/, "");
  if (isIPv4(ip)) return { v6: false, n: ipv4ToBigInt(ip) };
  if (isIPv6(ip)) return { v6: true, n: ipv6ToBigInt(ip) };
  return undefined;
}

/** The dotted form of a 32-bit number. @example ipv4Text(2130706433n) // "127.0.0.1" */
export function ipv4Text(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 0xffn)).join(".");
}

interface Block {
  v6: boolean;
  network: bigint;
  mask: bigint;
  /** The entry as it was added, reported by {@link CidrSet.match}. */
  entry: string;
}

/**
 * A set of IP addresses and CIDR blocks (`192.0.2.0/24`, `2001:db8::/32`, `198.51.100.7`).
 * Single addresses are a hash probe; blocks are checked one by one, in the order they were added
 * (lists are short: SPF-exempt forwarders, the egress policy's special-purpose blocks).
 *
 * @example new CidrSet(["10.0.0.0/8"]).has("10.1.2.3") // true
 */
export class CidrSet {
  /** Single addresses, keyed by their number (so `::1` and `0:0::1` are one), to the entry given. */
  readonly #exact = new Map<string, string>();
  readonly #blocks: Block[] = [];

  constructor(entries: Iterable<string> = []) {
    for (const entry of entries) this.add(entry);
  }

  /** @throws Error naming the entry when it is not an address or a CIDR block. */
  add(entry: string): void {
    const [rawIp = "", prefixText] = entry.trim().split("/");
    const parsed = ipNumber(rawIp);
    if (!parsed || rawIp.includes("%")) throw new Error(`not an IP address or CIDR block: ${entry}`);
    const bits = parsed.v6 ? 128 : 32;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (prefixText === "" || !Number.isInteger(prefix) || prefix < 0 || prefix > bits)
      throw new Error(`bad prefix in ${entry}`);
    if (prefix === bits) {
      this.#exact.set(`${parsed.v6 ? 6 : 4}:${parsed.n.toString(16)}`, entry.trim());
      return;
    }
    const width = BigInt(bits);
    const mask = prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
    this.#blocks.push({ v6: parsed.v6, network: parsed.n & mask, mask, entry: entry.trim() });
  }

  get size(): number {
    return this.#exact.size + this.#blocks.length;
  }

  /** The entry `address` falls in (a listed address first, then the first block that holds it). */
  match(address: string): string | undefined {
    const parsed = ipNumber(address);
    if (!parsed) return undefined;
    const exact = this.#exact.get(`${parsed.v6 ? 6 : 4}:${parsed.n.toString(16)}`);
    if (exact !== undefined) return exact;
    return this.#blocks.find((b) => b.v6 === parsed.v6 && (parsed.n & b.mask) === b.network)?.entry;
  }

  has(address: string): boolean {
    return this.match(address) !== undefined;
  }
}
