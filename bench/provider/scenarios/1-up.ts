/** Scenario: `pulumi up` of a new stack — every resource created. */
import type { Scenario } from "../fixture.ts";

export const scenario: Scenario = {
  name: "up",
  description: "`pulumi up --skip-preview` of a new stack: every resource is created",
  args: ["up", "--yes", "--skip-preview"],
  repeatable: false,
};
