/** TOTP (RFC 6238) on node:crypto's HMAC-SHA1: codes, verification window, base32 secrets, otpauth URIs, recovery codes. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Seconds per time step (RFC 6238 §4.1 X; the default every authenticator app uses). */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits per code (RFC 4226 §5.3 Digit). */
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now (RFC 6238 §5.2: allow for clock drift and typing time): ±1. */
export const TOTP_WINDOW = 1;
/** Bytes of a new secret: 20, the HMAC-SHA1 output size (RFC 4226 §4 R6 recommends 160 bits). */
export const TOTP_SECRET_BYTES = 20;
/** Recovery codes issued per enrolment. */
export const RECOVERY_CODES = 10;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 §6 base32 without padding (what otpauth URIs carry). @example base32Encode(Buffer.from("f")) // "MY" */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The RFC 6238 time step of `ms` (T = floor((now − T0) / X), T0 = 0).
 * @example timeStep(59_000) // 1
 */
export function timeStep(ms: number): number {
  return Math.floor(ms / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The HOTP value (RFC 4226 §5.3) of `secret` at counter `step`, as TOTP uses it (RFC 6238 §4.2):
 * HMAC-SHA1 over the 8-byte big-endian counter, dynamic truncation, modulo 10^digits.
 *
 * @example totpCode(Buffer.from("12345678901234567890"), timeStep(59_000), 8) // "94287082" (RFC 6238 appendix B)
 */
export function totpCode(secret: Buffer, step: number, digits = TOTP_DIGITS): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return binary.toString().padStart(digits, "0");
}

/**
 * The step within ±{@link TOTP_WINDOW} of `nowMs` whose code is `code`, or undefined. Compares in
 * constant time; the caller must still refuse a step already used (RFC 6238 §5.2).
 *
 * @example matchingStep(secret, "287082", Date.now()) // 58_000_123 or undefined
 */
export function matchingStep(secret: Buffer, code: string, nowMs: number): number | undefined {
  const given = Buffer.from(code.padEnd(TOTP_DIGITS, "x").slice(0, 16), "utf8");
  const current = timeStep(nowMs);
  let found: number | undefined;
  // Every candidate is computed and compared, so the time taken does not tell which one matched.
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const expected = Buffer.from(totpCode(secret, step), "utf8");
    if (given.length === expected.length && timingSafeEqual(given, expected) && found === undefined) {
      found = step;
    }
  }
  return found;
}

/** A new random TOTP secret. @example const secret = newTotpSecret(); base32Encode(secret) */
export function newTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

/**
 * The `otpauth://totp/…` URI an authenticator app scans (the Key Uri Format of Google Authenticator,
 * which every app follows): issuer and account label, base32 secret, SHA1, 6 digits, 30 s.
 *
 * @example otpauthUri(secret, "alice@example.com", "mailplane") // "otpauth://totp/mailplane:alice%40example.com?secret=…"
 */
export function otpauthUri(secret: Buffer, account: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}

/**
 * New recovery codes: {@link RECOVERY_CODES} of 10 base32 characters (50 bits) in two groups of five,
 * e.g. `K3M2Q-7ZPXA`; the store keeps {@link recoveryCodeHash} of each.
 */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODES }, () => {
    const code = base32Encode(randomBytes(7)).slice(0, 10);
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/**
 * sha256 of a recovery code in canonical form (upper case, no separators or spaces): 50 random bits
 * tried against a per-IP lockout need no slow hash.
 * @example recoveryCodeHash("k3m2q 7zpxa") === recoveryCodeHash("K3M2Q-7ZPXA") // true
 */
export function recoveryCodeHash(code: string): string {
  const canonical = code.toUpperCase().replace(/[^A-Z2-7]/g, "");
  return createHash("sha256").update(`recovery:${canonical}`, "utf8").digest("hex");
}
