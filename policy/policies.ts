/** The rules of mailplane's policy pack, in the order the CLI lists them. */
import type { Policies } from "@pulumi/policy";
import { noCatchAllWithUserReports } from "./catch-all.ts";
import { dmarcPublished } from "./dmarc.ts";
import { filterSettingsBaseline } from "./filter-settings.ts";
import { passwordPolicyBaseline } from "./password-policy.ts";

/**
 * Every rule; each is `mandatory` unless the policy config says otherwise
 * (`{ "dmarc-published": "advisory" }`, docs/policy.md).
 * @example new PolicyPack("mailplane-policy", { policies: mailplanePolicies })
 */
export const mailplanePolicies: Policies = [
  passwordPolicyBaseline,
  filterSettingsBaseline,
  dmarcPublished,
  noCatchAllWithUserReports,
];
