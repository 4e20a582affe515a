/**
 * mailplane's CrossGuard policy pack: `pulumi preview --policy-pack policy` (config:
 * `--policy-pack-config <file.json>`, docs/policy.md). Runs the rules in policies.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { mailplanePolicies } from "./policies.ts";

new PolicyPack("mailplane-policy", {
  description: "Security baselines for mail tenancies declared with mailplane.",
  enforcementLevel: "mandatory",
  policies: mailplanePolicies,
});
