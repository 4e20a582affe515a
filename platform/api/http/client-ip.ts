/** The client IP behind trusted reverse proxies: X-Forwarded-For read only through `--trusted-proxies`, as Fastify's `trustProxy` function. */
import type { CidrSet } from "../../smtp/policy/matchers.ts";

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, a dual-stack socket's IPv4 peer) as its IPv4 address. */
function unmapped(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/**
 * Fastify's `trustProxy` for the control plane: `request.ip` — what lockouts, access rules, the login
 * audit and per-IP throttles see — is the TCP peer, unless the peer is a trusted proxy. Then it is
 * the rightmost `X-Forwarded-For` entry that is not a trusted proxy (each proxy appends the address
 * it was reached from, so everything left of the nearest untrusted entry was written by the client;
 * the same rule as RFC 7239 §5.2 for `for=`). With no trusted proxies the header is never read
 * (false). Default: none trusted.
 *
 * @example Fastify({ trustProxy: forwardedForTrust(new CidrSet(["10.0.0.0/8"])) })
 * // peer 10.0.0.5 with "X-Forwarded-For: 6.6.6.6, 198.51.100.7": request.ip is 198.51.100.7
 * // peer 203.0.113.9 with the same header: request.ip is 203.0.113.9
 */
export function forwardedForTrust(trusted: CidrSet): ((address: string) => boolean) | false {
  if (trusted.size === 0) return false;
  return (address) => trusted.has(unmapped(address.trim()));
}
