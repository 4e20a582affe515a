/** Login lockouts: which client addresses SMTP AUTH refuses after failed logins, keyed per IPv4 address or IPv6 /64. */
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { canonicalCidr, timestamp } from "./common.ts";

/** `::ffff:0:0/96`, the IPv4-mapped IPv6 block (RFC 4291 §2.5.5.2), as canonicalCidr prints it. */
const MAPPED_BLOCK = "::ffff:0:0/96";

/**
 * The lockout key of a client address: the IPv4 address itself, or the /64 of an IPv6 address (a
 * single IPv6 subscriber usually holds a whole /64, so counting per address would let it rotate
 * past the lockout; RFC 6177 §3). IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 client it
 * wraps. Also accepts a key itself (`192.0.2.1/32`, `2001:db8::/64`) and IPv6 zone IDs
 * (`fe80::1%eth0`). Returns undefined for anything else.
 *
 * @example
 * loginLockoutKey("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 * loginLockoutKey("::ffff:192.0.2.1")     // "192.0.2.1"
 */
export function loginLockoutKey(address: string): string | undefined {
  const trimmed = address.trim().toLowerCase();
  const [rawIp = "", prefix, ...rest] = trimmed.split("/");
  if (rest.length > 0) return undefined;
  const ip = rawIp.replace(/^\[(.*)\]$/, "$1").replace(/%[^%]*$/, "");
  if (isIPv4(ip)) {
    if (prefix !== undefined && prefix !== "32") return undefined;
    return canonicalCidr(ip).replace(/\/32$/, "");
  }
  if (!isIPv6(ip)) return undefined;
  if (canonicalCidr(`${ip}/96`) === MAPPED_BLOCK) {
    if (prefix !== undefined && prefix !== "128") return undefined;
    const groups = canonicalCidr(ip)
      .replace(/\/128$/, "")
      .split(":");
    const high = Number.parseInt(groups.at(-2) ?? "0", 16);
    const low = Number.parseInt(groups.at(-1) ?? "0", 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
  }
  if (prefix !== undefined && prefix !== "64" && prefix !== "128") return undefined;
  return canonicalCidr(`${ip}/64`);
}

/** A domain the failed logins of a lockout key aimed at. */
export const LoginLockoutDomain = z
  .object({
    domain: z
      .string()
      .nullable()
      .describe("The hosted domain whose user was attempted; null for names no account hosts."),
    account: z
      .string()
      .nullable()
      .describe("The account holding that domain (null for names no account hosts)."),
    failures: z.number().int().describe("Failed logins at this domain since the key's record began."),
    lastFailureAt: timestamp("The latest of them."),
  })
  .meta({
    id: "LoginLockoutDomain",
    title: "LoginLockoutDomain",
    description: "Failed logins of one lockout key at one domain.",
  });

/** One lockout key's state: failures counted towards a lockout and, when locked, until when. */
export const LoginLockout = z
  .object({
    key: z
      .string()
      .describe("The IPv4 address (`192.0.2.1`) or IPv6 /64 (`2001:db8:1:2::/64`) the lockout applies to."),
    failures: z
      .number()
      .int()
      .describe("Failed logins counted towards the next lockout (reset when the key is locked)."),
    lastFailureAt: timestamp("When the latest failed login happened."),
    lockedAt: timestamp("When the key was locked; null while it is not locked.").nullable(),
    lockedUntil: timestamp(
      "Until when SMTP AUTH from this key answers 454 4.7.0; null while it is not locked.",
    ).nullable(),
    domains: z
      .array(LoginLockoutDomain)
      .describe(
        "The domains the failed logins aimed at. An account admin sees only its own account's domains.",
      ),
  })
  .meta({
    id: "LoginLockout",
    title: "LoginLockout",
    description:
      "Failed SMTP logins from one IPv4 address or IPv6 /64, and its lockout. Listed while failures count or the lock holds.",
  });

/** Filters of `GET /v1/lockouts`. */
export const LoginLockoutQuery = z.strictObject({
  locked: z
    .enum(["true", "false"])
    .optional()
    .describe("`true`: only keys locked now; `false`: only keys not locked now. Default both."),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe("Page size (1–500). Default 100."),
  cursor: z.string().optional().describe("`nextCursor` from the previous page; absent for the first page."),
});

export type LoginLockout = z.output<typeof LoginLockout>;
export type LoginLockoutDomain = z.output<typeof LoginLockoutDomain>;
/** What a caller passes to list lockouts. */
export type LoginLockoutQuery = Omit<z.input<typeof LoginLockoutQuery>, "limit"> & { limit?: number };
