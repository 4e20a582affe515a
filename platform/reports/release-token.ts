/** Signed one-click release links of quarantine digests: an HMAC-SHA256 token binding one held message, one recipient and an expiry. */
import { createHmac, timingSafeEqual } from "node:crypto";

/** What a release token grants: releasing message `message` to `recipient` of that domain lifetime, until `expiresAt`. */
export interface ReleaseGrant {
  /** The held message's queue ID. */
  message: string;
  /** The recipient (lower-case address) the message is released to; no one else. */
  recipient: string;
  /** The account, domain and domain generation the message was held for. */
  accountId: string;
  domain: string;
  generation: string;
  /** Unix seconds after which the token is refused (never later than the message's purge). */
  expiresAt: number;
}

/** Why a token was refused: the page says no more than "invalid or expired". */
export type TokenRefusal = "malformed" | "signature" | "expired";

const VERSION = "r1";

/**
 * The key release tokens are signed with: derived from the platform master key with a label, so a
 * release token can never pass for anything else the master key protects.
 * @example const key = releaseKey(masterKey);
 */
export function releaseKey(masterKey: Buffer): Buffer {
  return createHmac("sha256", masterKey).update("mailplane quarantine release link v1").digest();
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * Signs a grant: `r1.<payload>.<mac>`, URL-safe (base64url, RFC 4648 §5), about 200 characters.
 * @example signReleaseToken(key, { message: "01J…", recipient: "ana@example.com", accountId: "acme", domain: "example.com", generation: "g1", expiresAt: 1767225600 })
 */
export function signReleaseToken(key: Buffer, grant: ReleaseGrant): string {
  const payload = b64(
    JSON.stringify([
      grant.message,
      grant.recipient,
      grant.accountId,
      grant.domain,
      grant.generation,
      grant.expiresAt,
    ]),
  );
  const mac = b64(createHmac("sha256", key).update(`${VERSION}.${payload}`).digest());
  return `${VERSION}.${payload}.${mac}`;
}

/**
 * Verifies a token: its MAC (compared in constant time) and its expiry at `now` (ms).
 * @returns the grant, or the reason it is refused
 * @example const r = verifyReleaseToken(key, token, Date.now()); if ("refused" in r) …
 */
export function verifyReleaseToken(
  key: Buffer,
  token: string,
  now: number,
): ReleaseGrant | { refused: TokenRefusal } {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== VERSION || token.length > 2048) return { refused: "malformed" };
  const [, payload, mac] = parts as [string, string, string];
  const expected = createHmac("sha256", key).update(`${VERSION}.${payload}`).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: "signature" };
  // Decoding ignores the spare bits of the last character and anything not base64url: only the one
  // encoding we issue counts, so a token changed in any character is refused (not only in most).
  if (given.toString("base64url") !== mac) return { refused: "signature" };
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { refused: "malformed" };
  }
  if (
    !Array.isArray(fields) ||
    fields.length !== 6 ||
    !fields.slice(0, 5).every((f) => typeof f === "string") ||
    typeof fields[5] !== "number"
  ) {
    return { refused: "malformed" };
  }
  const [message, recipient, accountId, domain, generation, expiresAt] = fields as [
    string,
    string,
    string,
    string,
    string,
    number,
  ];
  if (now >= expiresAt * 1000) return { refused: "expired" };
  return { message, recipient, accountId, domain, generation, expiresAt };
}
