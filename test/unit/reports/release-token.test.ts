/** Release tokens: what they bind, and that tampered, expired and foreign-key tokens are refused. */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type ReleaseGrant,
  releaseKey,
  signReleaseToken,
  verifyReleaseToken,
} from "../../../platform/reports/release-token.ts";

const key = releaseKey(randomBytes(32));
const grant: ReleaseGrant = {
  message: "01JABCDEF",
  recipient: "ana@example.com",
  accountId: "acme",
  domain: "example.com",
  generation: "g1",
  expiresAt: 2_000_000_000,
};

describe("release tokens", () => {
  it("round-trips the grant before its expiry", () => {
    const token = signReleaseToken(key, grant);
    expect(token).toMatch(/^r1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyReleaseToken(key, token, 1_999_999_999_000)).toEqual(grant);
  });

  it("refuses a MAC changed only in the spare bits of its last character (decoded, it is the same)", () => {
    const token = signReleaseToken(key, grant);
    // 32 bytes are 43 base64url characters, 258 bits: the last character's 2 low bits are spare.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const variant = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]}`;
    expect(variant).not.toBe(token);
    expect(Buffer.from(variant.split(".")[2]!, "base64url")).toEqual(
      Buffer.from(token.split(".")[2]!, "base64url"),
    );
    expect(verifyReleaseToken(key, variant, 0)).toEqual({ refused: "signature" });
  });

  it("refuses a token at and after its expiry", () => {
    const token = signReleaseToken(key, grant);
    expect(verifyReleaseToken(key, token, 2_000_000_000_000)).toEqual({ refused: "expired" });
  });

  it("refuses a token whose payload names another recipient (signature)", () => {
    const token = signReleaseToken(key, grant);
    const [v, , mac] = token.split(".");
    const other = Buffer.from(
      JSON.stringify(["01JABCDEF", "bob@example.com", "acme", "example.com", "g1", 2_000_000_000]),
    ).toString("base64url");
    expect(verifyReleaseToken(key, `${v}.${other}.${mac}`, 0)).toEqual({ refused: "signature" });
  });

  it("refuses a token with one character of the MAC changed", () => {
    const token = signReleaseToken(key, grant);
    const flipped = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    expect(verifyReleaseToken(key, flipped, 0)).toEqual({ refused: "signature" });
  });

  it("refuses a token signed under another master key", () => {
    const token = signReleaseToken(releaseKey(randomBytes(32)), grant);
    expect(verifyReleaseToken(key, token, 0)).toEqual({ refused: "signature" });
  });

  it("refuses malformed tokens", () => {
    for (const bad of ["", "r1", "r1.a", "r2.a.b", "x.y.z.w", `r1.${"a".repeat(3000)}.b`]) {
      expect(verifyReleaseToken(key, bad, 0)).toHaveProperty("refused");
    }
  });
});
