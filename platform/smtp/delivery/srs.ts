/** Sender Rewriting Scheme (SRS0) for forwards: the envelope sender becomes an address of the forwarding domain, so SPF passes downstream, and bounces to it find the original sender. */
import { createHmac } from "node:crypto";

/** How long a rewritten address takes bounces: 21 days (the SRS0 timestamp counts days modulo 1024). */
export const SRS_MAX_AGE_DAYS = 21;

const DAY_MS = 86_400_000;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** The SRS key, derived from the platform's master key so every node sharing the store agrees. */
export function srsKeyFrom(masterKey: Buffer): Buffer {
  return createHmac("sha256", masterKey).update("mailplane SRS0 key").digest();
}

/** Two base32 characters of the day number modulo 1024. */
function timestamp(now: number): string {
  const day = Math.floor(now / DAY_MS) % 1024;
  return BASE32[day >> 5]! + BASE32[day & 31]!;
}

/** 8 hex characters of HMAC(key, tt + domain + local), lower-case: RCPT addresses arrive lower-cased. */
function hash(key: Buffer, tt: string, domain: string, local: string): string {
  return createHmac("sha256", key).update(`${tt}=${domain}=${local}`.toLowerCase()).digest("hex").slice(0, 8);
}

/**
 * The SRS0 address for `sender` forwarded by `forwardingDomain`:
 * `SRS0=<hash>=<tt>=<sender domain>=<sender local part>@<forwarding domain>`.
 *
 * @example srsForward(key, "ann@shop.example", "fwd.example", Date.now()) // "SRS0=1a2b3c4d=xy=shop.example=ann@fwd.example"
 */
export function srsForward(key: Buffer, sender: string, forwardingDomain: string, now: number): string {
  const at = sender.lastIndexOf("@");
  const local = sender.slice(0, at);
  const domain = sender.slice(at + 1).toLowerCase();
  const tt = timestamp(now);
  return `SRS0=${hash(key, tt, domain, local)}=${tt}=${domain}=${local}@${forwardingDomain}`;
}

/** Why an SRS0 address was not taken back, or the original sender it stands for. */
export type SrsReverse = { sender: string } | { refused: "hash" | "expired" };

/**
 * The original sender of an SRS0 local part (case-insensitive, as RCPT gives it), or why not: a hash
 * that does not match (forged), or a timestamp older than {@link SRS_MAX_AGE_DAYS} days. null when
 * `local` is not SRS0 at all.
 *
 * @example srsReverse(key, "srs0=1a2b3c4d=xy=shop.example=ann", Date.now()) // { sender: "ann@shop.example" }
 */
export function srsReverse(key: Buffer, local: string, now: number): SrsReverse | null {
  const m = /^srs0=([0-9a-f]{8})=([a-z2-7]{2})=([^=]+)=(.+)$/i.exec(local);
  if (!m) return null;
  const [, given, tt, domain, original] = m as unknown as [string, string, string, string, string];
  const expected = hash(key, tt.toLowerCase(), domain, original);
  if (given.toLowerCase() !== expected) return { refused: "hash" };
  const day = BASE32.indexOf(tt[0]!.toLowerCase()) * 32 + BASE32.indexOf(tt[1]!.toLowerCase());
  const age = (((Math.floor(now / DAY_MS) - day) % 1024) + 1024) % 1024;
  if (age > SRS_MAX_AGE_DAYS) return { refused: "expired" };
  return { sender: `${original}@${domain}` };
}
