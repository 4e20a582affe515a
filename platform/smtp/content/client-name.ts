/** The client's verified host name (forward-confirmed reverse DNS), as MTAs pass it to filters and trace fields. */
import { isIP } from "node:net";
import type { DnsResolver } from "./spf.ts";

/** At most this many PTR names are forward-checked (Postfix checks them in turn too). */
const MAX_PTR_NAMES = 5;

/** The `in-addr.arpa` / `ip6.arpa` name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string | null {
  if (isIP(ip) === 4) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  if (isIP(ip) !== 6) return null;
  const [head = "", tail = ""] = ip.split("::");
  const groups = (part: string) => (part ? part.split(":") : []);
  const left = groups(head);
  const right = groups(tail);
  const full = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  const nibbles = full.map((g) => g.padStart(4, "0")).join("");
  return `${[...nibbles].reverse().join(".")}.ip6.arpa`;
}

/** True for addresses whose name nobody publishes: loopback, private and link-local ranges. */
export function isLocalAddress(address: string): boolean {
  const ip = unmapped(address);
  if (ip === "::1" || ip.startsWith("127.")) return true;
  if (/^(10\.|192\.168\.|169\.254\.)/.test(ip)) return true;
  if (/^172\.(1[6-9]|2\d|3[01])\./.test(ip)) return true;
  return /^f[cd]|^fe80:/i.test(ip);
}

/**
 * The client's host name when its reverse DNS is forward-confirmed: a PTR name of `ip` whose own
 * A/AAAA records include `ip` (what Postfix calls the "verified" name, and what rspamd's `Hostname`
 * expects). Null when the address has no such name, when DNS fails, and for loopback and private
 * addresses (nothing is asked for those).
 *
 * @example
 * await verifiedClientName("192.0.2.25", resolver); // "mx.example.net", or null
 */
export async function verifiedClientName(
  ip: string,
  resolver: DnsResolver,
  timeoutMs = 5_000,
): Promise<string | null> {
  const mapped = unmapped(ip);
  const name = reverseName(mapped);
  if (name === null || isLocalAddress(mapped)) return null;
  let timer: NodeJS.Timeout | undefined;
  // A slow resolver must not hold the message: no name then, as when DNS fails.
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([forwardConfirmed(name, mapped, resolver), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it is. */
function unmapped(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** The first PTR name of `name` whose A/AAAA records include `ip`; null when none does or DNS fails. */
async function forwardConfirmed(name: string, mapped: string, resolver: DnsResolver): Promise<string | null> {
  try {
    const ptrs = (await resolver(name, "PTR")) as string[];
    const family = isIP(mapped) === 4 ? "A" : "AAAA";
    for (const ptr of ptrs.slice(0, MAX_PTR_NAMES)) {
      const host = String(ptr).replace(/\.$/, "").toLowerCase();
      const addresses = (await resolver(host, family).catch(() => [])) as string[];
      if (addresses.some((a) => sameAddress(String(a), mapped))) return host;
    }
    return null;
  } catch {
    return null;
  }
}

/** Two spellings of one address (IPv6 may be written with or without zeros). */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  return isIP(a) === 6 && isIP(b) === 6 && reverseName(a) === reverseName(b);
}
