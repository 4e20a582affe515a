/** The GitOps example's pull-request workflow runs the policy pack and hands its results to plan-summary. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const workflow = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "examples",
  "gitops",
  ".github",
  "workflows",
  "preview.yml",
);

interface Workflow {
  on: { pull_request: { paths: string[] } };
  jobs: { preview: { env: Record<string, string>; steps: { name?: string; run?: string }[] } };
}

describe("examples/gitops preview.yml", () => {
  const parsed = parse(readFileSync(workflow, "utf8")) as Workflow;
  const job = parsed.jobs.preview;
  const preview = job.steps.find((step) => step.name?.startsWith("Preview"))?.run ?? "";

  it("previews with the policy pack, streaming the JSON that carries policy results", () => {
    expect(preview).toMatch(
      /pulumi preview [^\n]*--json[\s\S]*--policy-pack "\$POLICY_PACK" > preview\.jsonl/,
    );
    expect(job.env["PULUMI_ENABLE_STREAMING_JSON_PREVIEW"]).toBe("true");
    expect(job.env["POLICY_PACK"]).toContain("'policy'");
  });

  it("summarises that same stream for the comment and fails the check on a mandatory violation", () => {
    expect(preview).toContain("npx mailplane plan-summary --input preview.jsonl");
    // The preview's exit status (non-zero on a mandatory violation) is kept and returned last.
    expect(preview).toContain("|| status=$?");
    expect(preview.trim().split("\n").at(-1)).toMatch(/^exit \$\{status:-0\}$/);
  });

  it("runs on changes to the pack too", () => {
    expect(parsed.on.pull_request.paths).toContain("policy/**");
  });
});
