/** Rule password-policy-baseline: each threshold of the maximal-security baseline, config overrides, other kinds ignored. */
import { describe, expect, it } from "vitest";
import {
  PASSWORD_BASELINE,
  passwordPolicyBaseline,
  passwordPolicyFindings,
} from "../../../policy/password-policy.ts";
import { PasswordPolicySpec } from "../../../sdk/src/models/password-policy.ts";
import { policyResource, validateResource } from "./support.ts";

/** A policy that meets the baseline; each test breaks one thing. */
const compliant = { scope: "example.org", minLength: 12, expiry: { days: 365 }, requireTwoFactor: true };

function findings(overrides: Record<string, unknown>): string[] {
  return passwordPolicyFindings(PasswordPolicySpec.parse({ ...compliant, ...overrides }), PASSWORD_BASELINE);
}

describe("password-policy-baseline", () => {
  it("accepts a policy at the baseline", () => {
    expect(findings({})).toEqual([]);
  });

  it("refuses minLength below 12", () => {
    expect(findings({ minLength: 11 })).toEqual(["minLength is 11; the baseline asks for at least 12"]);
  });

  it("refuses a lockout that allows more than 5 failures or lasts under 10 minutes", () => {
    expect(findings({ lockout: { failures: 6 } })).toEqual([
      "lockout.failures is 6; the baseline locks out after at most 5 failed logins",
    ]);
    expect(findings({ lockout: { durationMinutes: 9 } })).toEqual([
      "lockout.durationMinutes is 9; the baseline locks out for at least 10 minutes",
    ]);
  });

  it("refuses reuse rules weaker than the last 4 passwords and a year", () => {
    expect(findings({ reuse: { lastN: 3 } })).toEqual([
      "reuse.lastN is 3; the baseline refuses at least the last 4 passwords",
    ]);
    expect(findings({ reuse: { withinDays: 364 } })).toEqual([
      "reuse.withinDays is 364; the baseline refuses passwords used within 365 days",
    ]);
  });

  it("refuses a policy that does not require two-factor sign-in, unless the config waives it", () => {
    expect(findings({ requireTwoFactor: false })).toEqual([
      "requireTwoFactor is false; the baseline requires two-factor (TOTP) sign-in",
    ]);
    const waived = { ...PASSWORD_BASELINE, requireTwoFactor: false };
    expect(
      passwordPolicyFindings(PasswordPolicySpec.parse({ ...compliant, requireTwoFactor: false }), waived),
    ).toEqual([]);
  });

  it("refuses passwords that never expire, and an expiry past the configured maximum", () => {
    expect(findings({ expiry: { days: null } })).toEqual([
      "expiry.days is not set (passwords never expire); the baseline asks for at most 365",
    ]);
    const strict = { ...PASSWORD_BASELINE, maxExpiryDays: 90 };
    expect(
      passwordPolicyFindings(PasswordPolicySpec.parse({ ...compliant, expiry: { days: 180 } }), strict),
    ).toEqual(["expiry.days is 180; the baseline asks for at most 90"]);
  });

  it("reports each finding of a PasswordPolicy resource, naming its scope, with the model's defaults applied", async () => {
    // Defaults: minLength 8, expiry never, no two-factor — the three findings of an undeclared policy.
    const reported = await validateResource(
      passwordPolicyBaseline,
      policyResource("PasswordPolicy", "passwords", {
        scope: "example.org",
        __provider: "exports.handler = …",
      }),
    );
    expect(reported).toEqual([
      "PasswordPolicy example.org: minLength is 8; the baseline asks for at least 12.",
      "PasswordPolicy example.org: expiry.days is not set (passwords never expire); the baseline asks for at most 365.",
      "PasswordPolicy example.org: requireTwoFactor is false; the baseline requires two-factor (TOTP) sign-in.",
    ]);
  });

  it("takes its thresholds from the policy config", async () => {
    const resource = policyResource("PasswordPolicy", "passwords", { ...compliant, minLength: 12 });
    expect(await validateResource(passwordPolicyBaseline, resource, { minLength: 14 })).toEqual([
      "PasswordPolicy example.org: minLength is 12; the baseline asks for at least 14.",
    ]);
  });

  it("leaves other kinds, and properties the model refuses (check reports those), alone", async () => {
    expect(
      await validateResource(
        passwordPolicyBaseline,
        policyResource("FilterSettings", "f", { scope: "x.org" }),
      ),
    ).toEqual([]);
    expect(
      await validateResource(
        passwordPolicyBaseline,
        policyResource("PasswordPolicy", "p", { scope: "example.org", minLength: 2 }),
      ),
    ).toEqual([]);
  });
});
