/** Scenario: `pulumi preview` of an unchanged program — check and diff for every resource, nothing to do. */
import type { Scenario } from "../fixture.ts";

export const scenario: Scenario = {
  name: "no-op preview",
  description: "`pulumi preview --expect-no-changes` right after up: check + diff per resource, no HTTP",
  args: ["preview", "--expect-no-changes"],
  repeatable: true,
};
