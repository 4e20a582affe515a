/** Rule filter-settings-baseline: quarantine on, threshold ≤ 0.95, default blocked extensions kept. */
import { describe, expect, it } from "vitest";
import {
  FILTER_BASELINE,
  filterSettingsBaseline,
  filterSettingsFindings,
} from "../../../policy/filter-settings.ts";
import { FilterSettingsSpec } from "../../../sdk/src/models/filter-settings.ts";
import { policyResource, validateResource } from "./support.ts";

function findings(overrides: Record<string, unknown>): string[] {
  return filterSettingsFindings(
    FilterSettingsSpec.parse({ scope: "example.org", ...overrides }),
    FILTER_BASELINE,
  );
}

describe("filter-settings-baseline", () => {
  it("accepts the platform's defaults and a threshold of exactly 0.95", () => {
    expect(findings({})).toEqual([]);
    expect(findings({ quarantineThreshold: 0.95 })).toEqual([]);
  });

  it("refuses settings with the quarantine off", () => {
    expect(findings({ quarantineEnabled: false })).toEqual([
      "quarantineEnabled is false; the baseline keeps spam in the quarantine",
    ]);
  });

  it("refuses a quarantine threshold above 0.95", () => {
    expect(findings({ quarantineThreshold: 0.96 })).toEqual([
      "quarantineThreshold is 0.96; the baseline asks for at most 0.95",
    ]);
  });

  it("refuses a blocked-extension list that drops a default, naming what is missing; extras are fine", () => {
    expect(findings({ blockedExtensions: ["bat", "cmd", "exe", "js", "scr"] })).toEqual([
      "blockedExtensions drops btm, com, cpl, dll, msi, pif; the baseline keeps the default blocked extensions",
    ]);
    expect(
      findings({ blockedExtensions: ["bat", "btm", "cmd", "com", "cpl", "dll", "exe", "msi", "pif", "js"] }),
    ).toEqual([]);
  });

  it("reports on a FilterSettings resource and takes the threshold and the list from the policy config", async () => {
    const resource = policyResource("FilterSettings", "filter", {
      scope: "example.org",
      quarantineThreshold: 0.9,
      blockedExtensions: ["exe"],
    });
    expect(
      await validateResource(filterSettingsBaseline, resource, {
        maxQuarantineThreshold: 0.8,
        requiredBlockedExtensions: [".EXE"],
      }),
    ).toEqual(["FilterSettings example.org: quarantineThreshold is 0.9; the baseline asks for at most 0.8."]);
    expect(await validateResource(filterSettingsBaseline, resource)).toEqual([
      "FilterSettings example.org: blockedExtensions drops bat, btm, cmd, com, cpl, dll, msi, pif; the baseline keeps the default blocked extensions.",
    ]);
  });

  it("leaves other kinds alone", async () => {
    const resource = policyResource("PasswordPolicy", "p", {
      scope: "example.org",
      quarantineEnabled: false,
    });
    expect(await validateResource(filterSettingsBaseline, resource)).toEqual([]);
  });
});
