/**
 * The policy pack (policy/) with the real Pulumi CLI, file backend, offline: `pulumi preview
 * --policy-pack policy` fails on a program that breaks the baselines with each rule's message,
 * follows the policy config (advisory levels, thresholds), feeds plan-summary through the streamed
 * preview JSON, and passes on every example program — in preview, and for examples/typescript also
 * at `up` and on the preview after it, when the Domain's DNS records are known to the stack rules.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizePlan } from "../../../cli/plan-summary.ts";
import type { PolicyResults } from "../../../cli/policy-results.ts";
import { previewFromEvents } from "../../../cli/preview-events.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const policyPack = join(root, "policy");
const violatingDir = join(import.meta.dirname, "program");
const tmp = join(root, ".pulumi", "tmp");
const RULES = [
  "dmarc-published",
  "filter-settings-baseline",
  "no-catch-all-with-user-reports",
  "password-policy-baseline",
];
/** The streamed form of `pulumi preview --json`: the one that carries policy events. */
const STREAMING = { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" };

describe("policy pack mailplane-policy with the real CLI", () => {
  let platform: TestPlatform;
  const workspaces: PulumiWorkspace[] = [];
  const cleanup: string[] = [];

  /** A stack of `dir` on the test's platform; its config file is removed afterwards. */
  async function stackOf(dir: string, stack: string): Promise<PulumiWorkspace> {
    const ws = await createPulumiWorkspace(dir, stack);
    workspaces.push(ws);
    if (!readFileSafe(join(dir, `Pulumi.${stack}.yaml`))) cleanup.push(join(dir, `Pulumi.${stack}.yaml`));
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    return ws;
  }

  /** `pulumi preview --json --policy-pack policy` streamed, parsed; the exit code beside it. */
  async function previewWithPolicies(ws: PulumiWorkspace, extra: string[] = []) {
    const result = await ws.run(["preview", "--json", "--policy-pack", policyPack, ...extra], STREAMING);
    const preview = previewFromEvents(result.stdout);
    // What a failing assertion on the exit code should show: the CLI's errors and the violations.
    const problems = JSON.stringify({
      diagnostics: preview.diagnostics,
      violations: preview.policies?.violations,
    });
    return { code: result.code, preview, stderr: `${result.stderr}${problems}` };
  }

  function expectAllPassed(policies: PolicyResults | undefined): void {
    expect(policies?.packs).toEqual([{ name: "mailplane-policy", version: "0.1.0" }]);
    expect(policies?.violations).toEqual([]);
    expect(policies?.passed).toEqual(RULES);
  }

  beforeAll(async () => {
    platform = await startTestPlatform("policy-pack", { rateLimit: false });
  });

  afterAll(async () => {
    // The platform (and what the stacks created on it) is thrown away with its data directory.
    for (const ws of workspaces) await ws.dispose();
    await platform?.close();
    for (const file of cleanup) rmSync(file, { recursive: true, force: true });
  });

  describe("on a program that breaks the baselines", () => {
    let ws: PulumiWorkspace;
    beforeAll(async () => {
      ws = await stackOf(violatingDir, `violations-${process.pid}`);
    });

    it("fails the preview with each mandatory rule's message", async () => {
      const result = await ws.run(["preview", "--policy-pack", policyPack]);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/\[mandatory\]\s+password-policy-baseline/);
      expect(result.stdout).toMatch(/\[mandatory\]\s+filter-settings-baseline/);
      for (const message of [
        "PasswordPolicy example.org: minLength is 8; the baseline asks for at least 12.",
        "PasswordPolicy example.org: expiry.days is not set (passwords never expire); the baseline asks for at most 365.",
        "PasswordPolicy example.org: requireTwoFactor is false; the baseline requires two-factor (TOTP) sign-in.",
        "FilterSettings example.org: quarantineEnabled is false; the baseline keeps spam in the quarantine.",
        "FilterSettings example.org: quarantineThreshold is 0.99; the baseline asks for at most 0.95.",
        "FilterSettings example.org: blockedExtensions drops btm, cmd, com, cpl, dll, exe, msi, pif; the baseline keeps the default blocked extensions.",
      ]) {
        expect(result.stdout).toContain(message);
      }
    });

    it("passes with warnings when the policy config makes the rules advisory, and applies its thresholds", async () => {
      const configFile = join(tmp, `policy-config-${process.pid}.json`);
      mkdirSync(tmp, { recursive: true });
      cleanup.push(configFile);
      writeFileSync(
        configFile,
        JSON.stringify({
          "password-policy-baseline": "advisory",
          "filter-settings-baseline": { enforcementLevel: "advisory", maxQuarantineThreshold: 0.99 },
        }),
      );
      const result = await ws.run([
        "preview",
        "--policy-pack",
        policyPack,
        "--policy-pack-config",
        configFile,
      ]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/\[advisory\]\s+password-policy-baseline/);
      expect(result.stdout).toContain("PasswordPolicy example.org: minLength is 8");
      expect(result.stdout).not.toContain("quarantineThreshold is 0.99");
      expect(result.stdout).not.toContain("[mandatory]");
    });

    it("plan-summary lists the violations from the streamed preview JSON", async () => {
      const { code, preview } = await previewWithPolicies(ws);
      expect(code).not.toBe(0);
      const markdown = summarizePlan(preview, { title: "Plan for `violations`" });
      expect(markdown).toContain("❌ **6 mandatory violations** — `mailplane-policy` 0.1.0");
      expect(markdown).toContain(
        "| 🚫 mandatory | `password-policy-baseline` | PasswordPolicy `weak-passwords` | PasswordPolicy example.org: minLength is 8; the baseline asks for at least 12. |",
      );
      expect(markdown).toContain("Passed: `dmarc-published`, `no-catch-all-with-user-reports`.");
      // The plan itself is still there.
      expect(markdown).toContain("#### ➕ create FilterSettings `lax-filter`");
    });
  });

  it("passes on examples/typescript in preview, at up, and on the preview after it (DNS records known)", async () => {
    const ws = await stackOf(join(root, "examples", "typescript"), `policy-ts-${process.pid}`);
    await ws.ok(["config", "set", "--secret", "adaPassword", "Analytical-Engine-1843"]);
    const before = await previewWithPolicies(ws);
    expect(before.code, before.stderr).toBe(0);
    expectAllPassed(before.preview.policies);

    const up = await ws.run(["up", "--yes", "--skip-preview", "--policy-pack", policyPack]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const outputs = await ws.json<{ dnsRecords: { purpose: string; name: string }[] }>(["stack", "output"]);
    expect(outputs.dnsRecords).toContainEqual(
      expect.objectContaining({ purpose: "dmarc", name: "_dmarc.example.org" }),
    );

    const after = await previewWithPolicies(ws, ["--expect-no-changes"]);
    expect(after.code, after.stderr).toBe(0);
    expectAllPassed(after.preview.policies);
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
  });

  it("passes on examples/yaml-manifest", async () => {
    const ws = await stackOf(join(root, "examples", "yaml-manifest"), `policy-yaml-${process.pid}`);
    await setPasswords(ws, ["ada@example.com", "grace@example.com"]);
    const { code, preview, stderr } = await previewWithPolicies(ws);
    expect(code, stderr).toBe(0);
    expectAllPassed(preview.policies);
  });

  it("passes on examples/gitops for dev, staging and prod", async () => {
    // A copy inside the checkout, as the gitops test does: the stacks' endpoint points at this platform.
    const dir = join(tmp, `policy-gitops-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    cpSync(join(root, "examples", "gitops"), dir, { recursive: true });
    cleanup.push(dir);
    for (const stack of ["dev", "staging", "prod"]) {
      const file = join(dir, `Pulumi.${stack}.yaml`);
      writeFileSync(file, readFileSync(file, "utf8").replace(/https:\/\/\S+/, platform.url));
      const ws = await stackOf(dir, stack);
      const domain = stack === "prod" ? "acme.example" : `${stack}.acme.example`;
      await setPasswords(ws, [`ada@${domain}`, `linus@${domain}`]);
      const { code, preview, stderr } = await previewWithPolicies(ws);
      expect(code, `${stack}: ${stderr}`).toBe(0);
      expectAllPassed(preview.policies);
    }
  });
});

/** The users' passwords, as the examples' READMEs set them: secrets under `passwords`. */
async function setPasswords(ws: PulumiWorkspace, addresses: string[]): Promise<void> {
  for (const address of addresses) {
    await ws.ok(["config", "set", "--secret", "--path", `passwords["${address}"]`, "Policy-Pack-e2e-2026"]);
  }
}

function readFileSafe(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
