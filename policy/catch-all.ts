/** Rule `no-catch-all-with-user-reports`: a domain with a catch-all does not send periodic user reports (the seeds' rule). */
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { splitAddress } from "../sdk/src/models/common.ts";
import { known, mailplaneType } from "./resources.ts";

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
 * The domains that send periodic user reports, from ReportSettings resources. ReportSettings is
 * planned (issue 17.5: "periodic user report with auto-activate for all recipients, refused when the
 * domain has a catch-all") and not in the model yet: this reads its planned shape,
 * `{ domain, userReport: { enabled, autoActivate } }`. When the kind lands, take its fields from
 * the model here and nowhere else.
 * @example userReportsEnabled(args.resources) // Set { "example.com" }
 */
export function userReportsEnabled(resources: readonly PolicyResource[]): Set<string> {
  const found = new Set<string>();
  for (const resource of resources) {
    if (resource.type !== mailplaneType("ReportSettings")) continue;
    known(() => {
      const report = resource.props["userReport"] as
        | { enabled?: unknown; autoActivate?: unknown }
        | undefined;
      const domain = resource.props["domain"];
      if (typeof domain === "string" && (report?.enabled === true || report?.autoActivate === true)) {
        found.add(domain);
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
