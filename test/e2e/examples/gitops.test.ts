/**
 * examples/gitops with the real Pulumi CLI against a real control plane, doing what its workflows do:
 * preview every stack and summarise the plan for the pull request, roll out, and run the drift check
 * — clean after the rollout, failing after a change made outside code.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizePlan } from "../../../cli/plan-summary.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const root = join(import.meta.dirname, "..", "..", "..");
// A copy inside the checkout (git-ignored): module resolution finds `mailplane` and @pulumi/pulumi,
// and the test can point the stacks' endpoint at its own control plane without editing the example.
const programDir = join(root, ".pulumi", "tmp", `gitops-${process.pid}`);
const stacks = ["dev", "staging", "prod"] as const;

describe("examples/gitops", () => {
  let platform: TestPlatform;
  const ws: Partial<Record<(typeof stacks)[number], PulumiWorkspace>> = {};

  beforeAll(async () => {
    platform = await startTestPlatform("gitops", { rateLimit: false });
    mkdirSync(join(root, ".pulumi", "tmp"), { recursive: true });
    cpSync(join(root, "examples", "gitops"), programDir, { recursive: true });
    for (const stack of stacks) {
      const file = join(programDir, `Pulumi.${stack}.yaml`);
      writeFileSync(file, readFileSync(file, "utf8").replace(/https:\/\/\S+/, platform.url));
      const w = await createPulumiWorkspace(programDir, stack);
      await w.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
      await w.ok([
        "config",
        "set",
        "--secret",
        "--path",
        `passwords["ada@${domainOf(stack)}"]`,
        "Lovelace-1815-x",
      ]);
      await w.ok([
        "config",
        "set",
        "--secret",
        "--path",
        `passwords["linus@${domainOf(stack)}"]`,
        "Torvalds-1969-x",
      ]);
      ws[stack] = w;
    }
  });

  afterAll(async () => {
    for (const w of Object.values(ws)) await w.dispose();
    await platform?.close();
    rmSync(programDir, { recursive: true, force: true });
  });

  it("a pull request's preview of each stack summarises as Markdown with the stack's creates", async () => {
    for (const stack of stacks) {
      const preview = await ws[stack]!.json(["preview"]);
      const markdown = summarizePlan(preview, { title: `Plan for \`${stack}\`` });
      expect(markdown).toContain(`## Plan for \`${stack}\``);
      expect(markdown).toMatch(/\| ➕ create \| 11 \|/);
      // The Tenancy (named after the stack) names its children `<component>-<id>`.
      expect(markdown).toContain(`#### ➕ create Domain \`${stack}-${domainOf(stack)}\``);
      // Passwords are secrets in the preview and in the summary.
      expect(markdown).not.toContain("Lovelace-1815-x");
    }
  });

  it("after the rollout of dev, the drift check passes; a change made outside code fails it", async () => {
    const dev = ws.dev!;
    await dev.ok(["up", "--yes", "--skip-preview"]);
    const drift = ["refresh", "--preview-only", "--expect-no-changes"];
    await dev.ok(drift);
    // Someone edits a route in the admin panel.
    await platform.client.routes.patch("dev.acme.example", "mx1.dev.acme.example:25", { priority: 30 });
    const failed = await dev.run([...drift, "--diff"]);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toMatch(/priority\s*:\s*10\s*=>\s*30/);
    // Rolling out again (with --refresh, as up.yml does) restores what git says.
    await dev.ok(["up", "--refresh", "--yes", "--skip-preview"]);
    expect((await platform.client.routes.get("dev.acme.example", "mx1.dev.acme.example:25")).priority).toBe(
      10,
    );
    await dev.ok(["destroy", "--yes", "--skip-preview"]);
  });
});

function domainOf(stack: string): string {
  return stack === "prod" ? "acme.example" : `${stack}.acme.example`;
}
