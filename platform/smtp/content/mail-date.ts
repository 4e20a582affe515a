/** Dates and address literals as RFC 5322 and RFC 5321 write them in header and trace fields. */
import { isIPv6 } from "node:net";
import { normaliseIp } from "../policy/matchers.ts";

/**
 * A date-time with a numeric zone (RFC 5322 §3.3): `Thu, 03 Dec 2026 16:30:00 +0000`. The zone
 * name "GMT" that `Date#toUTCString` writes is obsolete syntax (§4.3), accepted by readers but not
 * to be generated.
 *
 * @example mailDate(new Date(0)) // "Thu, 01 Jan 1970 00:00:00 +0000"
 */
export function mailDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

/**
 * The address literal of a client's IP for a Received: field (RFC 5321 §4.1.3, §4.4 TCP-info):
 * `[192.0.2.1]`, `[IPv6:2001:db8::1]`; an IPv4-mapped IPv6 address is written as the IPv4 it is.
 *
 * @example addressLiteral("2001:db8::1") // "[IPv6:2001:db8::1]"
 */
export function addressLiteral(ip: string): string {
  const normal = normaliseIp(ip);
  return isIPv6(normal) ? `[IPv6:${normal}]` : `[${normal}]`;
}
