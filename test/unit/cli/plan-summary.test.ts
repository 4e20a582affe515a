/**
 * plan-summary: the golden test on a preview captured from the real CLI (test/e2e/plan-summary
 * re-captures it with UPDATE_GOLDEN=1), plus the masking and folding rules on small previews.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { summarizePlan } from "../../../cli/plan-summary.ts";

const fixtures = join(import.meta.dirname, "..", "..", "fixtures", "plan-summary");

describe("plan-summary", () => {
  it("renders the captured preview (update, replace, create, delete) as the golden Markdown", () => {
    const preview = JSON.parse(readFileSync(join(fixtures, "preview.json"), "utf8"));
    const expected = readFileSync(join(fixtures, "expected.md"), "utf8");
    expect(summarizePlan(preview, { title: "Plan for `review`" })).toBe(expected);
  });

  it("masks secrets even when the preview shows them (--show-secrets)", () => {
    const markdown = summarizePlan({
      steps: [
        {
          op: "update",
          urn: "urn:pulumi:dev::p::pulumi-nodejs:dynamic/mailplane:User::ada",
          oldState: { inputs: { address: "ada@example.org", password: "old-Secret-1" } },
          newState: {
            inputs: { address: "ada@example.org", password: "new-Secret-2", note: "x|y" },
            additionalSecretOutputs: ["password"],
          },
        },
      ],
    });
    expect(markdown).not.toMatch(/old-Secret-1|new-Secret-2/);
    expect(markdown).toContain("| `password` | `[secret]` | `[secret]` |");
    expect(markdown).toContain('| `note` | — | `"x\\|y"` |');
  });

  it("strips the serialized provider and folds --show-replacement-steps into one replace", () => {
    const urn = "urn:pulumi:dev::p::pulumi-nodejs:dynamic/mailplane:Route::primary";
    const markdown = summarizePlan({
      steps: [
        {
          op: "create-replacement",
          urn,
          newState: { inputs: { __provider: "exports.handler = …", port: 2525 } },
        },
        {
          op: "replace",
          urn,
          oldState: { inputs: { __provider: "exports.handler = …", port: 25 } },
          newState: { inputs: { __provider: "exports.handler = …", port: 2525 } },
          replaceReasons: ["port"],
        },
        { op: "delete-replaced", urn, oldState: { inputs: { port: 25 } } },
      ],
    });
    expect(markdown).toContain("| ♻️ replace | 1 |");
    expect(markdown).toContain("> - Route `primary` — `port` changed");
    expect(markdown).toContain("| `port` | `25` | `2525` |");
    expect(markdown).not.toContain("__provider");
    expect(markdown).not.toContain("exports.handler");
  });

  it("says so when nothing changes", () => {
    const markdown = summarizePlan({
      steps: [{ op: "same", urn: "urn:pulumi:dev::p::pulumi-nodejs:dynamic/mailplane:Domain::example.org" }],
    });
    expect(markdown).toContain("**No changes.**");
    expect(markdown).toContain("| unchanged | 1 |");
  });

  it("lists errors from the preview's diagnostics", () => {
    const markdown = summarizePlan({
      steps: [],
      diagnostics: [{ severity: "error", message: "routes[0].port: must be at least 1\n" }],
    });
    expect(markdown).toContain("- **error**: routes[0].port: must be at least 1");
  });
});
