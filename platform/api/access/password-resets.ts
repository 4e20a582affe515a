/** Self-service password reset links: HMAC-signed, expiring tokens bound to the user and to their current password, so one use (or any password change) ends them. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The visible start of every reset token (sessions start `mps_`, tokens `mp_`), so logs can redact it. */
export const RESET_TOKEN_PREFIX = "mpr_";

/**
 * `text` with every reset token replaced by `mpr_[REDACTED]`: request paths carry the token
 * (`POST /v1/password-resets/{token}`), and neither logs nor error answers may.
 * @example redactResetTokens("/v1/password-resets/mpr_abc.def") // "/v1/password-resets/mpr_[REDACTED]"
 */
export function redactResetTokens(text: string): string {
  return text.replace(/mpr_[^/?#\s]*/g, `${RESET_TOKEN_PREFIX}[REDACTED]`);
}

/** The console's route for a reset link; the token follows it in the URL's fragment. */
export const RESET_PAGE_ROUTE = "/console/#/reset/";

/**
 * The link a reset mail carries: the web console's reset page with the token in the fragment, which
 * a browser never sends to a server (no request line, no Referer), so no log or third party sees it.
 * @example resetPageLink("https://mail.example.com", "mpr_abc.def") // "https://mail.example.com/console/#/reset/mpr_abc.def"
 */
export function resetPageLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${RESET_PAGE_ROUTE}${token}`;
}

/** How long a reset link is valid after it was sent: 60 minutes. */
export const RESET_LINK_MINUTES = 60;

/** What a token says, in the clear (it is signed, not sealed: it only names the user and the hour). */
export interface ResetClaims {
  /** The user's address. */
  address: string;
  /** When the link stops working (ms since epoch). */
  expiresAt: number;
}

/** The signing key: derived from the master key for this one purpose, so no other signature can pass for a reset. */
function resetKey(masterKey: Buffer): Buffer {
  return createHmac("sha256", masterKey).update("mailplane password-reset link v1").digest();
}

/**
 * The password version a token is bound to: a digest of the stored argon2id hash (each set has a new
 * salt, so every change, the reset itself included, gives a new version); "" for a user without one.
 */
function passwordVersion(hash: string | undefined): string {
  return hash === undefined ? "" : createHash("sha256").update(hash, "utf8").digest("base64url");
}

function signature(key: Buffer, payload: string, hash: string | undefined): Buffer {
  return createHmac("sha256", key)
    .update(`${payload}\n${passwordVersion(hash)}`, "utf8")
    .digest();
}

/**
 * Signs a reset token for `address` (HMAC-SHA256 under a key derived from the master key) over the
 * address, the expiry, a random nonce and the current password version.
 *
 * @example const token = signResetToken(masterKey, { address: "ana@example.com", expiresAt: Date.now() + 3_600_000 }, credential.hash);
 */
export function signResetToken(
  masterKey: Buffer,
  claims: ResetClaims,
  passwordHash: string | undefined,
): string {
  const payload = Buffer.from(
    JSON.stringify({ a: claims.address, e: claims.expiresAt, n: randomBytes(12).toString("base64url") }),
    "utf8",
  ).toString("base64url");
  const mac = signature(resetKey(masterKey), payload, passwordHash).toString("base64url");
  return `${RESET_TOKEN_PREFIX}${payload}.${mac}`;
}

/**
 * The claims of a token, unverified (to find whose password version to check against); undefined when
 * it is not shaped like one.
 * @example readResetClaims(token)?.address // "ana@example.com"
 */
export function readResetClaims(token: string): ResetClaims | undefined {
  if (!token.startsWith(RESET_TOKEN_PREFIX) || token.length > 500) return undefined;
  const [payload, mac, extra] = token.slice(RESET_TOKEN_PREFIX.length).split(".");
  if (!payload || !mac || extra !== undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof parsed.a !== "string" || typeof parsed.e !== "number" || typeof parsed.n !== "string") {
      return undefined;
    }
    return { address: parsed.a, expiresAt: parsed.e };
  } catch {
    return undefined;
  }
}

/**
 * Why a token does not verify, or "valid": its signature must match the user's current password
 * version (constant-time comparison), and `now` (ms) must be before its expiry.
 *
 * @example verifyResetToken(masterKey, token, credential?.hash, Date.now()) // "valid"
 */
export function verifyResetToken(
  masterKey: Buffer,
  token: string,
  passwordHash: string | undefined,
  now: number,
): "valid" | "malformed" | "bad-signature" | "expired" {
  const claims = readResetClaims(token);
  if (!claims) return "malformed";
  const [payload = "", mac = ""] = token.slice(RESET_TOKEN_PREFIX.length).split(".");
  const expected = signature(resetKey(masterKey), payload, passwordHash);
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "bad-signature";
  // Decoding ignores the spare bits of the last character and anything not base64url: only the one
  // encoding we issue counts, so a link changed in any character is refused (not only in most).
  if (given.toString("base64url") !== mac) return "bad-signature";
  // The expiry is only believed once the signature proved it was ours.
  if (!(claims.expiresAt > now)) return "expired";
  return "valid";
}
