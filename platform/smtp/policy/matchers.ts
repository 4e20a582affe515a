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

interface Block {
  v6: boolean;
  network: bigint;
  mask: bigint;
}

/**
 * A set of IP addresses and CIDR blocks (`192.0.2.0/24`, `2001:db8::/32`, `198.51.100.7`).
 * Single addresses are a hash probe; blocks are checked one by one (lists are short: SPF-exempt
 * forwarders).
 *
 * @example new CidrSet(["10.0.0.0/8"]).has("10.1.2.3") // true
 */
export class CidrSet {
  readonly #exact = new Set<string>();
  readonly #blocks: Block[] = [];

  constructor(entries: Iterable<string> = []) {
    for (const entry of entries) this.add(entry);
  }

  add(entry: string): void {
    const [rawIp = "", prefixText] = entry.trim().split("/");
    const ip = normaliseIp(rawIp);
    const v6 = isIPv6(ip);
    if (!v6 && !isIPv4(ip)) throw new Error(`not an IP address or CIDR block: ${entry}`);
    const bits = v6 ? 128 : 32;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new Error(`bad prefix in ${entry}`);
    if (prefix === bits) {
      this.#exact.add(v6 ? ipv6ToBigInt(ip).toString(16) : ip);
      return;
    }
    const width = BigInt(bits);
    const mask = prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
    const n = v6 ? ipv6ToBigInt(ip) : ipv4ToBigInt(ip);
    this.#blocks.push({ v6, network: n & mask, mask });
  }

  get size(): number {
    return this.#exact.size + this.#blocks.length;
  }

  has(address: string): boolean {
    const ip = normaliseIp(address);
    const v6 = isIPv6(ip);
    if (!v6 && !isIPv4(ip)) return false;
    const n = v6 ? ipv6ToBigInt(ip) : ipv4ToBigInt(ip);
    if (this.#exact.has(v6 ? n.toString(16) : ip)) return true;
    return this.#blocks.some((b) => b.v6 === v6 && (n & b.mask) === b.network);
  }
}
