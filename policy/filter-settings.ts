/** Rule `filter-settings-baseline`: spam-filter settings keep the quarantine on, a sane threshold and the default blocked extensions. */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
  DEFAULT_BLOCKED_EXTENSIONS,
  FilterSettingsFields,
  FilterSettingsSpec as FilterSettingsSchema,
  type FilterSettingsSpec,
  normaliseExtension,
} from "../sdk/src/models/filter-settings.ts";
import { mailplaneType, modelOf } from "./resources.ts";

/** The rule's settings (policy config), with the baseline as defaults. */
export interface FilterBaseline {
  /** Highest quarantine threshold (quarantineThreshold); above it nearly all spam is delivered. Default 0.95. */
  maxQuarantineThreshold: number;
  /** Extensions that must stay in blockedExtensions. Default the platform's: bat btm cmd com cpl dll exe msi pif. */
  requiredBlockedExtensions: string[];
}

/** The baseline: the seeds' defaults (threshold 0.90, blocked extensions) with a little room. */
export const FILTER_BASELINE: FilterBaseline = {
  maxQuarantineThreshold: 0.95,
  requiredBlockedExtensions: [...DEFAULT_BLOCKED_EXTENSIONS],
};

/**
 * What filter settings break of the baseline, one sentence each; empty when they comply.
 * @example filterSettingsFindings(FilterSettingsSpec.parse({ scope: "example.com", quarantineEnabled: false }), FILTER_BASELINE)
 *   // ["quarantineEnabled is false; the baseline keeps spam in the quarantine"]
 */
export function filterSettingsFindings(settings: FilterSettingsSpec, baseline: FilterBaseline): string[] {
  const findings: string[] = [];
  if (!settings.quarantineEnabled) {
    findings.push("quarantineEnabled is false; the baseline keeps spam in the quarantine");
  }
  if (settings.quarantineThreshold > baseline.maxQuarantineThreshold) {
    findings.push(
      `quarantineThreshold is ${settings.quarantineThreshold}; the baseline asks for at most ${baseline.maxQuarantineThreshold}`,
    );
  }
  const blocked = new Set(settings.blockedExtensions);
  const missing = baseline.requiredBlockedExtensions
    .map(normaliseExtension)
    .filter((ext) => !blocked.has(ext));
  if (missing.length > 0) {
    findings.push(
      `blockedExtensions drops ${missing.join(", ")}; the baseline keeps the default blocked extensions`,
    );
  }
  return findings;
}

/** Reports each finding of one FilterSettings resource. */
function validateFilterSettings(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
  if (args.type !== mailplaneType("FilterSettings")) return;
  const settings = modelOf(FilterSettingsSchema, FilterSettingsFields, args.props);
  if (settings === undefined) return;
  const baseline = { ...FILTER_BASELINE, ...args.getConfig<Partial<FilterBaseline>>() };
  for (const finding of filterSettingsFindings(settings, baseline)) {
    reportViolation(`FilterSettings ${settings.scope}: ${finding}.`);
  }
}

/**
 * The rule: quarantine on, quarantine threshold ≤ 0.95, the default blocked extensions kept; the
 * threshold and the list can be changed in the policy config.
 * @example new PolicyPack("mailplane-policy", { policies: [filterSettingsBaseline] })
 */
export const filterSettingsBaseline: ResourceValidationPolicy = {
  name: "filter-settings-baseline",
  description:
    "Spam-filter settings keep the quarantine on, a quarantine threshold ≤ 0.95 and the default blocked extensions (bat btm cmd com cpl dll exe msi pif).",
  configSchema: {
    properties: {
      maxQuarantineThreshold: {
        type: "number",
        minimum: 0,
        maximum: 1,
        default: FILTER_BASELINE.maxQuarantineThreshold,
      },
      requiredBlockedExtensions: {
        type: "array",
        items: { type: "string" },
        default: FILTER_BASELINE.requiredBlockedExtensions,
      },
    },
  },
  validateResource: validateFilterSettings,
};
