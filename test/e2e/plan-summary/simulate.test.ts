/**
 * `mailplane plan-summary --simulate` on a real preview: the program in ./simulate-program is rolled
 * out to a running platform, its domain verified, then previewed in its changed version. The sample
 * envelopes (test/fixtures/plan-summary/simulate/samples.yaml) are simulated against the live
 * tenancy and the planned one; the Markdown must equal the golden file (expected.md there).
 * UPDATE_GOLDEN=1 rewrites it and the captured preview JSON that the unit tests read.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../cli/mailplane.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const fixtures = join(root, "test", "fixtures", "plan-summary", "simulate");
const samplesPath = join(fixtures, "samples.yaml");
const programDir = join(import.meta.dirname, "simulate-program");
const stack = `simulate-${process.pid}`;

/** Runs the CLI in process, as the pull-request workflow runs it; stdout and stderr captured. */
async function planSummary(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = "";
  let stderr = "";
  const code = await main(["plan-summary", ...argv], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

describe("plan-summary --simulate on a real preview", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  /** A read-only token, as the pull-request workflow holds. */
  let previewToken: string;

  beforeAll(async () => {
    platform = await startTestPlatform("simulate", { rateLimit: false });
    ws = await createPulumiWorkspace(programDir, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "linusPassword", "Kernel-Hacker-1991"]);
    await ws.ok(["config", "set", "--secret", "adaPassword", "Analytical-Engine-1843"]);
    await ws.ok(["config", "set", "phase", "before"]);
    await ws.ok(["up", "--yes", "--skip-preview"]);
    // The engine hosts verified names only; a platform admin vouches for this one.
    const admin = new MailplaneClient({
      endpoint: platform.url,
      token: platform.adminToken,
      account: platform.account,
    });
    try {
      await admin.domains.verify("example.org", { method: "admin" });
      previewToken = (await admin.tokens.create({ role: "read-only", description: "plan review" })).token;
    } finally {
      await admin.close();
    }
  });

  afterAll(async () => {
    await ws?.ok(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    await ws?.dispose();
    await platform?.close();
    rmSync(join(programDir, `Pulumi.${stack}.yaml`), { force: true });
  });

  it("lists the fates the plan changes exactly as the golden file", async () => {
    await ws.ok(["config", "set", "phase", "after"]);
    const { stdout: previewText } = await ws.ok(["preview", "--json"]);
    const preview = JSON.parse(previewText);
    expect(preview.changeSummary).toMatchObject({ create: 1, update: 3, delete: 1 });
    // Volatile: Pulumi warns when the dynamic provider's plugin is found through a symlinked
    // toolchain (a git worktree's); that names the checkout, not the program.
    preview.diagnostics = (preview.diagnostics ?? []).filter(
      (d: { message?: string }) => !/using pulumi-resource-\S+ from \$PATH/.test(d.message ?? ""),
    );
    const captured = join(ws.backendDir, "preview.json");
    writeFileSync(captured, JSON.stringify(preview));

    const env = { ...process.env, MAILPLANE_TOKEN: previewToken };
    const result = await planSummary(
      [
        "--input",
        captured,
        "--title",
        "Plan for `review`",
        "--simulate",
        samplesPath,
        "--endpoint",
        platform.url,
      ],
      env,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // The samples file's absolute path is the only part that depends on the checkout.
    const markdown = result.stdout.replaceAll(samplesPath, "samples.yaml");
    expect(markdown).toContain("### Mail-flow simulation");
    expect(markdown).not.toContain("Kernel-Hacker-1991");

    if (process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(join(fixtures, "preview.json"), `${JSON.stringify(preview, null, 2)}\n`);
      writeFileSync(join(fixtures, "expected.md"), markdown);
    }
    expect(markdown).toBe(readFileSync(join(fixtures, "expected.md"), "utf8"));

    // A preview changes nothing: simulating the live tenancy against itself shows no change.
    const unchanged = join(ws.backendDir, "no-steps.json");
    writeFileSync(unchanged, JSON.stringify({ steps: [] }));
    const none = await planSummary(
      ["--input", unchanged, "--simulate", samplesPath, "--endpoint", platform.url],
      env,
    );
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("No sample changes fate (9 sample recipients of");
  });

  it("names the file and line of a bad sample and exits 1 before calling the API", async () => {
    const bad = join(ws.backendDir, "bad-samples.yaml");
    writeFileSync(bad, "samples:\n  - from: offers@spam.example\n    to: not-an-address\n");
    const empty = join(ws.backendDir, "empty.json");
    writeFileSync(empty, JSON.stringify({ steps: [] }));
    const result = await planSummary(
      ["--input", empty, "--simulate", bad, "--endpoint", "http://127.0.0.1:9"],
      { ...process.env, MAILPLANE_TOKEN: "unused" },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}:3: samples[0].to: must be an address local@domain`);
  });
});
