/** PasswordPolicy: defaults from the security list, bounds, cross-field rules and checkPassword. */
import { describe, expect, it } from "vitest";
import { COMMON_PASSWORDS, isCommonPassword } from "../../../../sdk/src/models/common-passwords.ts";
import {
  checkPassword,
  defaultPasswordPolicy,
  PasswordPolicySpec,
  passwordPolicyId,
} from "../../../../sdk/src/models/password-policy.ts";
import { issues } from "./helpers.ts";

const rules = (...args: Parameters<typeof checkPassword>) => checkPassword(...args).map((v) => v.rule);

describe("PasswordPolicySpec", () => {
  it("defaults to the security list's numbers", () => {
    expect(defaultPasswordPolicy("account")).toEqual({
      scope: "account",
      minLength: 8,
      maxLength: 128,
      requireUpper: false,
      requireLower: false,
      requireDigit: false,
      requireSymbol: false,
      minCharacterClasses: 2,
      noUsernameParts: true,
      rejectCommon: true,
      reuse: { lastN: 4, withinDays: 365 },
      expiry: { days: null, warnDays: [14, 3] },
      lockout: { failures: 5, windowMinutes: 10, durationMinutes: 10 },
      sessionTimeoutMinutes: 120,
      requireTwoFactor: false,
      requireTlsForSignIn: false,
    });
    expect(passwordPolicyId({ scope: "account" })).toBe("account/password-policy");
  });

  it("fills nested defaults around what is given", () => {
    const spec = PasswordPolicySpec.parse({ scope: "example.com", lockout: { failures: 3 } });
    expect(spec.lockout).toEqual({ failures: 3, windowMinutes: 10, durationMinutes: 10 });
    expect(passwordPolicyId(spec)).toBe("example.com/password-policy");
  });

  it("enforces the ranges of the seeds", () => {
    const lines = issues(PasswordPolicySpec, {
      scope: "account",
      minLength: 5,
      expiry: { days: 400 },
      lockout: { failures: 21, windowMinutes: 121 },
      sessionTimeoutMinutes: 4,
    });
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "minLength",
      "expiry.days",
      "lockout.failures",
      "lockout.windowMinutes",
      "sessionTimeoutMinutes",
    ]);
  });

  it("accepts the limits themselves", () => {
    const spec = PasswordPolicySpec.parse({
      scope: "account",
      minLength: 128,
      maxLength: 128,
      expiry: { days: 7, warnDays: [7] },
      lockout: { failures: 20, windowMinutes: 1 },
      sessionTimeoutMinutes: 480,
    });
    expect(spec.expiry).toEqual({ days: 7, warnDays: [7] });
  });

  it("requires maxLength >= minLength, on maxLength", () => {
    expect(issues(PasswordPolicySpec, { scope: "account", minLength: 20, maxLength: 10 })).toEqual([
      "maxLength: must be at least minLength (20)",
    ]);
  });

  it("rejects warnings later than the expiry, at the warning's index", () => {
    expect(issues(PasswordPolicySpec, { scope: "account", expiry: { days: 10, warnDays: [3, 14] } })).toEqual(
      ["expiry.warnDays[1]: must not exceed expiry.days (10)"],
    );
  });

  it("stores warnings latest first", () => {
    const spec = PasswordPolicySpec.parse({ scope: "account", expiry: { days: 30, warnDays: [3, 14] } });
    expect(spec.expiry.warnDays).toEqual([14, 3]);
  });

  it("rejects more than two warnings", () => {
    expect(
      issues(PasswordPolicySpec, { scope: "account", expiry: { days: 30, warnDays: [1, 2, 3] } })[0],
    ).toMatch(/^expiry\.warnDays: /);
  });
});

describe("checkPassword without a policy (the base rule)", () => {
  it("accepts 6–25 characters with an upper-case letter or a digit", () => {
    expect(checkPassword(null, "secret1", "alice@example.com")).toEqual([]);
    expect(checkPassword(null, "Secret", "alice@example.com")).toEqual([]);
  });

  it("names each broken rule", () => {
    expect(rules(null, "abc de", "alice@example.com")).toEqual(["noWhitespace", "upperOrDigit"]);
    expect(rules(null, "Ab1", "alice@example.com")).toEqual(["minLength"]);
    expect(rules(null, `A${"b".repeat(25)}`, "alice@example.com")).toEqual(["maxLength"]);
  });
});

describe("checkPassword with a policy", () => {
  const policy = defaultPasswordPolicy("account");

  it("accepts a long mixed password", () => {
    expect(checkPassword(policy, "Tr0ub4dor&3x", "alice@example.com")).toEqual([]);
  });

  it("rejects common passwords, also with digits appended", () => {
    expect(rules(policy, "password1", "alice@example.com")).toContain("rejectCommon");
    expect(rules(policy, "Dragon2024!", "alice@example.com")).toEqual(["rejectCommon"]);
  });

  it("rejects passwords containing the user name or a part of it", () => {
    expect(rules(policy, "x-Alice-2024-x", "alice@example.com")).toEqual(["noUsernameParts"]);
    expect(rules(policy, "Smith-is-great-9", "john.smith@example.com")).toEqual(["noUsernameParts"]);
  });

  it("reports each required class that is missing", () => {
    const strict = PasswordPolicySpec.parse({
      scope: "account",
      requireUpper: true,
      requireLower: true,
      requireDigit: true,
      requireSymbol: true,
      minCharacterClasses: 0,
    });
    expect(rules(strict, "zzzzqqqqxx", "alice@example.com")).toEqual([
      "requireUpper",
      "requireDigit",
      "requireSymbol",
    ]);
  });

  it("counts character classes", () => {
    const three = PasswordPolicySpec.parse({ scope: "account", minCharacterClasses: 3 });
    expect(rules(three, "zqxjwvkpmb12", "alice@example.com")).toEqual(["minCharacterClasses"]);
    expect(rules(three, "zqxjWvkpmb12", "alice@example.com")).toEqual([]);
  });

  it("applies the policy's lengths", () => {
    expect(rules(policy, "Zq1!", "alice@example.com")).toEqual(["minLength"]);
  });

  it("rejects control characters", () => {
    expect(rules(policy, "Zqxj\u0000wvkp12", "alice@example.com")).toEqual(["noControlCharacters"]);
  });
});

describe("the common-password list", () => {
  it("holds about a thousand lower-case entries", () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThan(950);
    for (const p of COMMON_PASSWORDS) expect(p).toBe(p.toLowerCase());
  });

  it("matches regardless of case", () => {
    expect(isCommonPassword("QWERTY")).toBe(true);
    expect(isCommonPassword("correct-horse-battery")).toBe(false);
  });
});
