/** Domain ownership helpers: tokens, the DNS check's verdicts and words, and the back-off of background checks. */
import { describe, expect, it } from "vitest";
import {
  checkDue,
  checkVerificationRecord,
  verificationToken,
} from "../../../platform/api/domain-ownership.ts";
import { tableResolver } from "../../../platform/smtp/content/spf.ts";
import type { DomainNameHold } from "../../../platform/store/contract/domain-name-store.ts";

const HOUR = 3_600_000;

describe("verificationToken", () => {
  it("is 32 hex digits, the same for one account and name, different for another account or name", () => {
    const token = verificationToken("acme", "example.com");
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(verificationToken("acme", "example.com")).toBe(token);
    expect(verificationToken("other", "example.com")).not.toBe(token);
    expect(verificationToken("acme", "example.org")).not.toBe(token);
  });
});

describe("checkVerificationRecord", () => {
  const token = verificationToken("acme", "example.com");
  const owner = "TXT _mailplane-verify.example.com";

  it("finds the account's record among others, its character-strings joined (RFC 1035 §3.3.14)", async () => {
    const resolver = tableResolver({ [owner]: [["v=spf1 -all"], ["mailplane-verification=", token]] });
    expect(await checkVerificationRecord(resolver, "example.com", token)).toMatchObject({
      result: "verified",
    });
  });

  it("says what to publish when there is no record, and quotes what it found on a mismatch", async () => {
    const missing = await checkVerificationRecord(tableResolver({}), "example.com", token);
    expect(missing).toMatchObject({ result: "missing" });
    expect(missing.detail).toContain(
      `publish _mailplane-verify.example.com TXT "mailplane-verification=${token}"`,
    );
    const other = verificationToken("other", "example.com");
    const mismatch = await checkVerificationRecord(
      tableResolver({ [owner]: [[`mailplane-verification=${other}`]] }),
      "example.com",
      token,
    );
    expect(mismatch).toMatchObject({ result: "mismatch" });
    expect(mismatch.detail).toContain(other);
  });

  it("reports a failed lookup as an error, not as a missing record", async () => {
    const failing = async () => {
      throw Object.assign(new Error("timeout"), { code: "ETIMEOUT" });
    };
    expect(await checkVerificationRecord(failing, "example.com", token)).toMatchObject({
      result: "error",
      found: expect.stringContaining("ETIMEOUT"),
    });
  });
});

describe("checkDue", () => {
  const hold = (createdAgo: number, checkedAgo: number | null, now: number): DomainNameHold => ({
    name: "example.com",
    accountId: "acme",
    domain: "example.com",
    verification: {
      name: "example.com",
      status: "pending",
      method: null,
      verifiedAt: null,
      checkedAt: checkedAgo === null ? null : new Date(now - checkedAgo).toISOString(),
      checkResult: checkedAgo === null ? null : "missing",
      checkDetail: null,
      createdAt: new Date(now - createdAgo).toISOString(),
    },
  });
  const now = Date.parse("2026-01-10T00:00:00Z");
  const interval = 15 * 60_000;

  it("checks a never-checked name at once and a new name every interval", () => {
    expect(checkDue(hold(0, null, now), interval, now)).toBe(true);
    expect(checkDue(hold(HOUR, interval, now), interval, now)).toBe(true);
    expect(checkDue(hold(HOUR, interval - 1, now), interval, now)).toBe(false);
  });

  it("waits a quarter of the name's age between checks, a day at most", () => {
    expect(checkDue(hold(8 * HOUR, HOUR, now), interval, now)).toBe(false);
    expect(checkDue(hold(8 * HOUR, 2 * HOUR, now), interval, now)).toBe(true);
    expect(checkDue(hold(30 * 24 * HOUR, 23 * HOUR, now), interval, now)).toBe(false);
    expect(checkDue(hold(30 * 24 * HOUR, 24 * HOUR, now), interval, now)).toBe(true);
  });
});
