/**
 * examples/gitops with the real Pulumi CLI against a real control plane, doing what its workflows do:
 * preview every stack and summarise the plan for the pull request, roll out, and run the drift check
 * — clean after the rollout, failing after a change made outside code.
 */
import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { summarizePlan } from "../../../cli/plan-summary.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
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

describe("examples/gitops: the pull request's plan with the mail-flow simulation", () => {
  let platform: TestPlatform;
  let dev: PulumiWorkspace;
  const dir = join(root, ".pulumi", "tmp", `gitops-simulate-${process.pid}`);

  beforeAll(async () => {
    platform = await startTestPlatform("gitops-simulate", { rateLimit: false });
    mkdirSync(join(root, ".pulumi", "tmp"), { recursive: true });
    cpSync(join(root, "examples", "gitops"), dir, { recursive: true });
    const file = join(dir, "Pulumi.dev.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/https:\/\/\S+/, platform.url));
    dev = await createPulumiWorkspace(dir, "dev");
    await dev.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    for (const user of ["ada", "linus"]) {
      await dev.ok([
        "config",
        "set",
        "--secret",
        "--path",
        `passwords["${user}@dev.acme.example"]`,
        "Analytical-Engine-1843",
      ]);
    }
    await dev.ok(["up", "--yes", "--skip-preview"]);
    // Mail flows for verified names only; a platform admin vouches for both of the domain's names.
    const admin = new MailplaneClient({
      endpoint: platform.url,
      token: platform.adminToken,
      account: platform.account,
    });
    try {
      await admin.domains.verify("dev.acme.example", { method: "admin" });
    } finally {
      await admin.close();
    }
  });

  afterAll(async () => {
    await dev?.ok(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    await dev?.dispose();
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs preview.yml's preview step as written and comments the fates the change alters", async () => {
    // The pull request: joe's reject alias goes, the size limit drops from 50 to 20 MB.
    const tenancyFile = join(dir, "tenancy", "dev.yaml");
    const changed = readFileSync(tenancyFile, "utf8")
      .replace(/ {2}- address: joe@dev\.acme\.example\n.*\n/, "")
      .replace("sizeLimitMb: 50", "sizeLimitMb: 20");
    writeFileSync(tenancyFile, changed);

    // The step's script from the workflow, for the dev job of the matrix.
    const workflow = parseYaml(readFileSync(join(dir, ".github", "workflows", "preview.yml"), "utf8"));
    const step = workflow.jobs.preview.steps.find((s: { name?: string }) => s.name?.startsWith("Preview"));
    const script = String(step.run).replaceAll(/\$\{\{ matrix\.stack \}\}/g, "dev");
    // `npx mailplane` is the CLI of this checkout (the example's package.json would install it).
    const bin = join(dir, ".bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, "npx"),
      `#!/bin/sh\n[ "$1" = mailplane ] && shift && exec node ${join(root, "cli", "mailplane.ts")} "$@"\nexit 127\n`,
    );
    chmodSync(join(bin, "npx"), 0o755);
    const summary = join(dir, "step-summary.md");
    writeFileSync(summary, "");
    // The job's environment: its literal values as written, the ones from repository variables and
    // secrets supplied here (the policy pack is this checkout's policy/).
    const jobEnv = Object.fromEntries(
      Object.entries(workflow.jobs.preview.env as Record<string, string>).filter(
        ([, value]) => !String(value).includes("${{"),
      ),
    );
    await promisify(execFile)("bash", ["-eo", "pipefail", "-c", script], {
      cwd: dir,
      env: {
        ...process.env,
        ...jobEnv,
        POLICY_PACK: join(root, "policy"),
        PATH: `${bin}:${process.env.PATH}`,
        PULUMI_BACKEND_URL: `file://${dev.backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: "mailplane-test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        NO_COLOR: "1",
        MAILPLANE_TOKEN: platform.token,
        GITHUB_STEP_SUMMARY: summary,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    const plan = readFileSync(join(dir, "plan.md"), "utf8");
    expect(readFileSync(summary, "utf8")).toBe(plan);
    expect(plan).toContain("### Mail-flow simulation");
    expect(plan).toContain("**2 of 7** sample recipients of `samples/dev.yaml` change fate:");
    expect(plan).toContain(
      "| a customer writes to sales and to joe (joe@dev.acme.example) | 550 5.7.1 refused at RCPT: Joe no longer works here | delivered: relayed for joe@dev.acme.example to mx1.dev.acme.example:25 |",
    );
    expect(plan).toContain(
      "| a large drawing | delivered: mailbox linus@dev.acme.example | 552 5.3.4 refused at RCPT: Message size exceeds the limit of dev.acme.example (20971520 bytes) |",
    );
  });
});

function domainOf(stack: string): string {
  return stack === "prod" ? "acme.example" : `${stack}.acme.example`;
}
