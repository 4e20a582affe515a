/**
 * plan-summary: the golden test on a preview captured from the real CLI (test/e2e/plan-summary
 * re-captures it with UPDATE_GOLDEN=1), plus the masking and folding rules on small previews.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../cli/mailplane.ts";
import { summarizePlan } from "../../../cli/plan-summary.ts";
import { policySection } from "../../../cli/policy-results.ts";
import { isEventStream, previewFromEvents } from "../../../cli/preview-events.ts";

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

describe("plan-summary with policy pack results (streamed preview JSON)", () => {
  // Captured from `PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --json --policy-pack policy`
  // of test/e2e/policy/program (debug messages and the serialized provider's body left out).
  const streamed = readFileSync(join(fixtures, "policy-preview.jsonl"), "utf8");

  it("lists each violation with level, rule, resource and finding, and the rules that passed", () => {
    const markdown = summarizePlan(previewFromEvents(streamed), { title: "Plan for `violations`" });
    expect(markdown).toContain(
      [
        "### Policies",
        "",
        "❌ **5 mandatory violations** — `mailplane-policy` 0.1.0",
        "",
        "| level | policy | resource | finding |",
        "|---|---|---|---|",
        "| 🚫 mandatory | `filter-settings-baseline` | FilterSettings `lax-filter` | FilterSettings example.org: quarantineEnabled is false; the baseline keeps spam in the quarantine. |",
        "| 🚫 mandatory | `filter-settings-baseline` | FilterSettings `lax-filter` | FilterSettings example.org: quarantineThreshold is 0.99; the baseline asks for at most 0.95. |",
        "| 🚫 mandatory | `filter-settings-baseline` | FilterSettings `lax-filter` | FilterSettings example.org: blockedExtensions drops btm, cmd, com, cpl, dll, exe, msi, pif; the baseline keeps the default blocked extensions. |",
        "| 🚫 mandatory | `password-policy-baseline` | PasswordPolicy `weak-passwords` | PasswordPolicy example.org: minLength is 8; the baseline asks for at least 12. |",
        "| 🚫 mandatory | `password-policy-baseline` | PasswordPolicy `weak-passwords` | PasswordPolicy example.org: expiry.days is not set (passwords never expire); the baseline asks for at most 365. |",
        "",
        "Passed: `dmarc-published`, `no-catch-all-with-user-reports`.",
      ].join("\n"),
    );
  });

  it("reads the steps and diagnostics of the event stream like the one-document form, provider stripped", () => {
    const markdown = summarizePlan(previewFromEvents(streamed), { title: "Plan for `violations`" });
    expect(markdown).toContain("| ➕ create | 3 |");
    expect(markdown).toContain("#### ➕ create PasswordPolicy `weak-passwords`");
    expect(markdown).toContain("| `minLength` | `8` |");
    expect(markdown).toContain("- **error**: error: preview failed");
    expect(markdown).not.toContain("__provider");
    expect(markdown).not.toContain("debug:");
  });

  it("says advisory for the engine's `warning` level, puts mandatory first, and marks stack-level findings", () => {
    const events = [
      {
        sequence: 1,
        policyEvent: {
          message:
            "Every Domain has a DMARC record…\nDomain a.org: a.org has no DMARC record (_dmarc.a.org).\n",
          policyName: "dmarc-published",
          policyPackName: "mailplane-policy",
          policyPackVersion: "0.1.0",
          enforcementLevel: "warning",
        },
      },
      {
        sequence: 2,
        policyEvent: {
          resourceUrn: "urn:pulumi:dev::p::pulumi-nodejs:dynamic/mailplane:PasswordPolicy::pw",
          message:
            "Password policies…\nPasswordPolicy a.org: minLength is 8; the baseline asks for at least 12.\n",
          policyName: "password-policy-baseline",
          policyPackName: "mailplane-policy",
          policyPackVersion: "0.1.0",
          enforcementLevel: "mandatory",
        },
      },
    ];
    const preview = previewFromEvents(events.map((e) => JSON.stringify(e)).join("\n"));
    const section = policySection(preview.policies!).join("\n");
    expect(section).toContain("❌ **1 mandatory violation**, 1 advisory — `mailplane-policy` 0.1.0");
    expect(section.indexOf("🚫 mandatory")).toBeLessThan(section.indexOf("⚠️ advisory"));
    expect(section).toContain(
      "| ⚠️ advisory | `dmarc-published` | (stack) | Domain a.org: a.org has no DMARC record (_dmarc.a.org). |",
    );
  });

  it("says when every rule passed, and adds no section when no pack ran", () => {
    const passed = previewFromEvents(
      JSON.stringify({
        sequence: 1,
        policyAnalyzeStackSummaryEvent: {
          policyPackName: "mailplane-policy",
          policyPackVersion: "0.1.0",
          passed: ["dmarc-published"],
        },
      }),
    );
    expect(summarizePlan(passed)).toContain(
      "✅ `mailplane-policy` 0.1.0: no violations.\n\nPassed: `dmarc-published`.",
    );
    expect(summarizePlan(previewFromEvents('{"sequence":0,"preludeEvent":{"config":{}}}'))).not.toContain(
      "### Policies",
    );
  });

  it("the command takes either form of the preview JSON from --input", async () => {
    const out: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(`ERR ${s}`), env: {} };
    expect(await main(["plan-summary", "--input", join(fixtures, "policy-preview.jsonl")], io)).toBe(0);
    expect(out.join("")).toContain("❌ **5 mandatory violations**");
    expect(isEventStream(readFileSync(join(fixtures, "preview.json"), "utf8"))).toBe(false);
  });
});
