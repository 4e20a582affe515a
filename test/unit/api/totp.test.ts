/** TOTP (RFC 6238) against the RFC's own test vectors, base32 (RFC 4648), the ±1 step window and recovery codes. */
import { describe, expect, it } from "vitest";
import {
  base32Encode,
  matchingStep,
  newRecoveryCodes,
  otpauthUri,
  recoveryCodeHash,
  timeStep,
  totpCode,
} from "../../../platform/api/access/totp.ts";

/** RFC 6238 appendix B, the SHA1 rows: the ASCII seed "12345678901234567890", 8 digits. */
const RFC6238_SHA1: [seconds: number, code: string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];
const SEED = Buffer.from("12345678901234567890", "ascii");

describe("TOTP codes", () => {
  it.each(RFC6238_SHA1)("gives the RFC 6238 appendix B code at T=%i", (seconds, code) => {
    expect(totpCode(SEED, timeStep(seconds * 1000), 8)).toBe(code);
  });

  it("uses 6 digits by default (the last six of the RFC's 8-digit value)", () => {
    expect(totpCode(SEED, timeStep(59_000))).toBe("287082");
  });

  it("accepts the code of the previous, current and next step only", () => {
    const now = 1_234_567_890_000;
    const step = timeStep(now);
    for (const offset of [-1, 0, 1]) {
      expect(matchingStep(SEED, totpCode(SEED, step + offset), now)).toBe(step + offset);
    }
    for (const offset of [-2, 2]) {
      expect(matchingStep(SEED, totpCode(SEED, step + offset), now)).toBeUndefined();
    }
    expect(matchingStep(SEED, "", now)).toBeUndefined();
    expect(matchingStep(SEED, `${totpCode(SEED, step)}0`, now)).toBeUndefined();
  });
});

describe("base32 and otpauth URIs", () => {
  it.each([
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ])("encodes %j as RFC 4648 §10 says (without padding)", (text, encoded) => {
    expect(base32Encode(Buffer.from(text))).toBe(encoded);
  });

  it("builds an otpauth URI with issuer, account, secret, SHA1, 6 digits and 30 s", () => {
    const uri = new URL(otpauthUri(SEED, "alice@example.com", "mailplane"));
    expect(`${uri.protocol}//${uri.host}${decodeURIComponent(uri.pathname)}`).toBe(
      "otpauth://totp/mailplane:alice@example.com",
    );
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
      issuer: "mailplane",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
  });
});

describe("recovery codes", () => {
  it("issues ten distinct codes of two groups of five base32 characters", () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
  });

  it("hashes a code the same whatever its case and separators, and different codes differently", () => {
    expect(recoveryCodeHash("k3m2q 7zpxa")).toBe(recoveryCodeHash("K3M2Q-7ZPXA"));
    expect(recoveryCodeHash("K3M2Q-7ZPXB")).not.toBe(recoveryCodeHash("K3M2Q-7ZPXA"));
    expect(recoveryCodeHash("K3M2Q-7ZPXA")).toMatch(/^[0-9a-f]{64}$/);
  });
});
