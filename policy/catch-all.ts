/** Rule `no-catch-all-with-user-reports`: a domain with a catch-all does not send periodic user reports (the seeds' rule). */
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { splitAddress } from "../sdk/src/models/common.ts";
import { ReportSettingsFields, ReportSettingsSpec } from "../sdk/src/models/report-settings.ts";
import { known, mailplaneType, modelOf } from "./resources.ts";

/**
 * The domains with a catch-all in a stack: a Domain whose `catchAll` is set, or an Alias `*@domain`.
 * @example catchAllDomains(args.resources) // Map { "example.com" => "Domain example.com: catchAll inbox@example.com" }
 */
export function catchAllDomains(resources: readonly PolicyResource[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const resource of resources) {
    known(() => {
      const props = resource.props;
      if (resource.type === mailplaneType("Domain") && typeof props["catchAll"] === "string") {
        found.set(String(props["name"]), `catchAll ${props["catchAll"]}`);
      }
      if (resource.type === mailplaneType("Alias") && typeof props["address"] === "string") {
        const parts = splitAddress(props["address"]);
        if (parts?.local === "*") found.set(parts.domain, `alias ${props["address"]}`);
      }
    });
  }
  return found;
}

/**
 * The domains that send periodic user reports (ReportSettings with `userReport` or
 * `userReportAutoActivate` on), read through the model. Account-wide settings name no domain.
 * @example userReportsEnabled(args.resources) // Set { "example.com" }
 */
export function userReportsEnabled(resources: readonly PolicyResource[]): Set<string> {
  const found = new Set<string>();
  for (const resource of resources) {
    if (resource.type !== mailplaneType("ReportSettings")) continue;
    known(() => {
      const settings = modelOf(ReportSettingsSpec, ReportSettingsFields, resource.props);
      if (
        settings &&
        settings.scope !== "account" &&
        (settings.userReport || settings.userReportAutoActivate)
      ) {
        found.add(settings.scope);
      }
    });
  }
  return found;
}

function validateCatchAll(args: StackValidationArgs, reportViolation: ReportViolation): void {
  const reports = userReportsEnabled(args.resources);
  for (const [domain, catchAll] of catchAllDomains(args.resources)) {
    if (reports.has(domain)) {
      reportViolation(
        `Domain ${domain}: a catch-all (${catchAll}) and periodic user reports are declared together; a catch-all makes a report recipient of every made-up address, so turn one of them off.`,
      );
    }
  }
}

/**
 * The rule: no domain has both a catch-all and periodic user reports.
 * @example new PolicyPack("mailplane-policy", { policies: [noCatchAllWithUserReports] })
 */
export const noCatchAllWithUserReports: StackValidationPolicy = {
  name: "no-catch-all-with-user-reports",
  description:
    "A domain with a catch-all (Domain.catchAll or an alias *@domain) does not also send periodic user reports.",
  validateStack: validateCatchAll,
};
