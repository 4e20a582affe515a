/** Reset tokens: signed over the address, expiry and password version; each alteration, a changed password and the end of the hour refuse them; redaction. */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  readResetClaims,
  redactResetTokens,
  resetPageLink,
  signResetToken,
  verifyResetToken,
} from "../../../platform/api/access/password-resets.ts";

const KEY = randomBytes(32);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
const T0 = Date.parse("2026-12-03T12:00:00Z");
const claims = { address: "ana@example.com", expiresAt: T0 + 3_600_000 };

/**
 * The token with the last character of its signature changed in a bit the encoding does not use:
 * 32 bytes are 43 base64url characters, 258 bits, the last 2 spare.
 */
function withSpareBitFlipped(token: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(token.at(-1)!);
  return `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
}

describe("password reset tokens", () => {
  it("verifies a token signed for the current password before its expiry, and reads its claims", () => {
    const token = signResetToken(KEY, claims, HASH);
    expect(token).toMatch(/^mpr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyResetToken(KEY, token, HASH, T0)).toBe("valid");
    expect(readResetClaims(token)).toEqual(claims);
    // Two links for the same user differ (a nonce), so one leaking says nothing of the other.
    expect(signResetToken(KEY, claims, HASH)).not.toBe(token);
  });

  it("refuses a signature changed only in the spare bits of its last character (decoded, it is the same)", () => {
    const token = signResetToken(KEY, claims, HASH);
    const variant = withSpareBitFlipped(token);
    expect(variant).not.toBe(token);
    expect(Buffer.from(variant.split(".")[1]!, "base64url")).toEqual(
      Buffer.from(token.split(".")[1]!, "base64url"),
    );
    expect(verifyResetToken(KEY, variant, HASH, T0)).toBe("bad-signature");
  });

  it("refuses another key, another password version, the end of the hour and any altered byte", () => {
    const token = signResetToken(KEY, claims, HASH);
    expect(verifyResetToken(randomBytes(32), token, HASH, T0)).toBe("bad-signature");
    expect(verifyResetToken(KEY, token, `${HASH}x`, T0)).toBe("bad-signature");
    expect(verifyResetToken(KEY, token, undefined, T0)).toBe("bad-signature");
    expect(verifyResetToken(KEY, token, HASH, claims.expiresAt)).toBe("expired");
    const [payload, mac] = token.slice(4).split(".") as [string, string];
    const later = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, "base64url").toString()),
        e: claims.expiresAt + 1,
      }),
    ).toString("base64url");
    expect(verifyResetToken(KEY, `mpr_${later}.${mac}`, HASH, T0)).toBe("bad-signature");
    expect(verifyResetToken(KEY, `mpr_${payload}.${mac.slice(0, -2)}`, HASH, T0)).toBe("bad-signature");
    for (const bad of [
      "",
      "mpr_",
      "mpr_abc",
      "mp_x.y",
      `mpr_${payload}.${mac}.z`,
      `mpr_${"a".repeat(600)}.b`,
    ]) {
      expect(verifyResetToken(KEY, bad, HASH, T0)).toBe("malformed");
    }
  });

  it("links to the console's reset page with the token in the fragment (never in a path or query a server sees)", () => {
    const token = signResetToken(KEY, claims, HASH);
    const link = new URL(resetPageLink("https://mail.example.com/", token));
    expect(link.origin + link.pathname).toBe("https://mail.example.com/console/");
    expect(link.search).toBe("");
    expect(link.hash).toBe(`#/reset/${token}`);
  });

  it("redacts every reset token in a text", () => {
    expect(redactResetTokens("/v1/password-resets/mpr_abc.def?x=1")).toBe(
      "/v1/password-resets/mpr_[REDACTED]?x=1",
    );
    expect(redactResetTokens("a mpr_x.y b mpr_z.w")).toBe("a mpr_[REDACTED] b mpr_[REDACTED]");
  });
});
