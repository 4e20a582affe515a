/** Rule `password-policy-baseline`: every PasswordPolicy meets the seeds' "maximal security" password settings. */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
  PasswordPolicyFields,
  PasswordPolicySpec as PasswordPolicySchema,
  type PasswordPolicySpec,
} from "../sdk/src/models/password-policy.ts";
import { mailplaneType, modelOf } from "./resources.ts";

/** The rule's settings (policy config), with the baseline as defaults. */
export interface PasswordBaseline {
  /** Shortest password allowed to be declared as minLength. Default 12. */
  minLength: number;
  /** Most failed logins before the lockout (lockout.failures). Default 5. */
  maxLockoutFailures: number;
  /** Shortest lockout, in minutes (lockout.durationMinutes). Default 10. */
  minLockoutMinutes: number;
  /** Fewest previous passwords refused (reuse.lastN). Default 4. */
  minReuseLastN: number;
  /** Fewest days in which used passwords are refused (reuse.withinDays). Default 365. */
  minReuseWithinDays: number;
  /** Longest password life in days (expiry.days; "never expires" breaks the rule). Default 365. */
  maxExpiryDays: number;
  /** Whether the policy must require two-factor sign-in (requireTwoFactor). Default true. */
  requireTwoFactor: boolean;
}

/** The baseline: LuxSci's "maximal security" button (16+ characters there; 12 is the floor we ask). */
export const PASSWORD_BASELINE: PasswordBaseline = {
  minLength: 12,
  maxLockoutFailures: 5,
  minLockoutMinutes: 10,
  minReuseLastN: 4,
  minReuseWithinDays: 365,
  maxExpiryDays: 365,
  requireTwoFactor: true,
};

/**
 * What a password policy breaks of the baseline, one sentence each; empty when it complies.
 * @example passwordPolicyFindings(PasswordPolicySpec.parse({ scope: "account" }), PASSWORD_BASELINE)
 *   // ["minLength is 8; the baseline asks for at least 12", "expiry.days is not set …"]
 */
export function passwordPolicyFindings(policy: PasswordPolicySpec, baseline: PasswordBaseline): string[] {
  const findings: string[] = [];
  if (policy.minLength < baseline.minLength) {
    findings.push(`minLength is ${policy.minLength}; the baseline asks for at least ${baseline.minLength}`);
  }
  if (policy.lockout.failures > baseline.maxLockoutFailures) {
    findings.push(
      `lockout.failures is ${policy.lockout.failures}; the baseline locks out after at most ${baseline.maxLockoutFailures} failed logins`,
    );
  }
  if (policy.lockout.durationMinutes < baseline.minLockoutMinutes) {
    findings.push(
      `lockout.durationMinutes is ${policy.lockout.durationMinutes}; the baseline locks out for at least ${baseline.minLockoutMinutes} minutes`,
    );
  }
  if (policy.reuse.lastN < baseline.minReuseLastN) {
    findings.push(
      `reuse.lastN is ${policy.reuse.lastN}; the baseline refuses at least the last ${baseline.minReuseLastN} passwords`,
    );
  }
  if (policy.reuse.withinDays < baseline.minReuseWithinDays) {
    findings.push(
      `reuse.withinDays is ${policy.reuse.withinDays}; the baseline refuses passwords used within ${baseline.minReuseWithinDays} days`,
    );
  }
  if (policy.expiry.days === null) {
    findings.push(
      `expiry.days is not set (passwords never expire); the baseline asks for at most ${baseline.maxExpiryDays}`,
    );
  } else if (policy.expiry.days > baseline.maxExpiryDays) {
    findings.push(
      `expiry.days is ${policy.expiry.days}; the baseline asks for at most ${baseline.maxExpiryDays}`,
    );
  }
  if (baseline.requireTwoFactor && !policy.requireTwoFactor) {
    findings.push("requireTwoFactor is false; the baseline requires two-factor (TOTP) sign-in");
  }
  return findings;
}

/** Reports each finding of one PasswordPolicy resource. */
function validatePasswordPolicy(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
  if (args.type !== mailplaneType("PasswordPolicy")) return;
  const policy = modelOf(PasswordPolicySchema, PasswordPolicyFields, args.props);
  if (policy === undefined) return;
  const baseline = { ...PASSWORD_BASELINE, ...args.getConfig<Partial<PasswordBaseline>>() };
  for (const finding of passwordPolicyFindings(policy, baseline)) {
    reportViolation(`PasswordPolicy ${policy.scope}: ${finding}.`);
  }
}

/**
 * The rule: minimum length, lockout, reuse and expiry at least as strict as the baseline; each
 * threshold can be changed in the policy config (`password-policy-baseline: { minLength: 14 }`).
 * @example new PolicyPack("mailplane-policy", { policies: [passwordPolicyBaseline] })
 */
export const passwordPolicyBaseline: ResourceValidationPolicy = {
  name: "password-policy-baseline",
  description:
    "Password policies meet the maximal-security baseline: minLength ≥ 12, lockout after ≤ 5 failures for ≥ 10 minutes, reuse of the last 4 passwords and of a year's refused, expiry ≤ 365 days, two-factor sign-in required.",
  configSchema: {
    properties: {
      minLength: { type: "integer", minimum: 6, maximum: 128, default: PASSWORD_BASELINE.minLength },
      maxLockoutFailures: {
        type: "integer",
        minimum: 1,
        maximum: 20,
        default: PASSWORD_BASELINE.maxLockoutFailures,
      },
      minLockoutMinutes: {
        type: "integer",
        minimum: 1,
        maximum: 1440,
        default: PASSWORD_BASELINE.minLockoutMinutes,
      },
      minReuseLastN: { type: "integer", minimum: 0, maximum: 24, default: PASSWORD_BASELINE.minReuseLastN },
      minReuseWithinDays: {
        type: "integer",
        minimum: 0,
        maximum: 730,
        default: PASSWORD_BASELINE.minReuseWithinDays,
      },
      maxExpiryDays: { type: "integer", minimum: 7, maximum: 365, default: PASSWORD_BASELINE.maxExpiryDays },
      requireTwoFactor: { type: "boolean", default: PASSWORD_BASELINE.requireTwoFactor },
    },
  },
  validateResource: validatePasswordPolicy,
};
