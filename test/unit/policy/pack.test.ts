/** The pack as the engine sees it: every rule listed once, each config schema's defaults equal to the baseline the code applies. */
import { describe, expect, it } from "vitest";
import { FILTER_BASELINE } from "../../../policy/filter-settings.ts";
import { PASSWORD_BASELINE } from "../../../policy/password-policy.ts";
import { mailplanePolicies } from "../../../policy/policies.ts";

describe("mailplane-policy pack", () => {
  it("lists the four rules under their documented names", () => {
    expect(mailplanePolicies.map((p) => p.name)).toEqual([
      "password-policy-baseline",
      "filter-settings-baseline",
      "dmarc-published",
      "no-catch-all-with-user-reports",
    ]);
  });

  it("declares config defaults equal to the baselines, so `pulumi policy` tooling shows what is enforced", () => {
    const defaults = (name: string) =>
      Object.fromEntries(
        Object.entries(mailplanePolicies.find((p) => p.name === name)?.configSchema?.properties ?? {}).map(
          ([key, schema]) => [key, (schema as { default?: unknown }).default],
        ),
      );
    expect(defaults("password-policy-baseline")).toEqual(PASSWORD_BASELINE);
    expect(defaults("filter-settings-baseline")).toEqual(FILTER_BASELINE);
  });
});
