/** Scenario: `pulumi refresh` — every resource read back from the platform. */
import type { Scenario } from "../fixture.ts";

export const scenario: Scenario = {
  name: "refresh",
  description: "`pulumi refresh --skip-preview`: every resource read from the platform",
  args: ["refresh", "--yes", "--skip-preview"],
  repeatable: true,
};
