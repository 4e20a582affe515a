/**
 * `mailplane plan-summary` on a real preview: the program in ./program is rolled out, then previewed
 * in its changed version, which holds an update, a replace, a create and a delete. The Markdown must
 * equal the golden file (test/fixtures/plan-summary/expected.md); UPDATE_GOLDEN=1 rewrites it and
 * the captured preview JSON that the unit test reads.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../cli/mailplane.ts";
import { summarizePlan } from "../../../cli/plan-summary.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const fixtures = join(root, "test", "fixtures", "plan-summary");
const programDir = join(import.meta.dirname, "program");
const stack = `review-${process.pid}`;

describe("plan-summary on a real preview", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;

  beforeAll(async () => {
    platform = await startTestPlatform("plan-summary", { rateLimit: false });
    ws = await createPulumiWorkspace(programDir, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "adaPassword", "Analytical-Engine-1843"]);
    await ws.ok(["config", "set", "--secret", "katherinePassword", "Orbital-Mechanics-1962"]);
    await ws.ok(["config", "set", "phase", "before"]);
    await ws.ok(["up", "--yes", "--skip-preview"]);
  });

  afterAll(async () => {
    await ws?.ok(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    await ws?.dispose();
    await platform?.close();
    rmSync(join(programDir, `Pulumi.${stack}.yaml`), { force: true });
  });

  it("summarises an update, a replace, a create and a delete exactly as the golden file", async () => {
    await ws.ok(["config", "set", "phase", "after"]);
    const { stdout } = await ws.ok(["preview", "--json"]);
    const preview = JSON.parse(stdout);
    expect(preview.changeSummary).toMatchObject({ create: 1, update: 1, replace: 1, delete: 1 });

    // Through the CLI, as the pull-request workflow runs it.
    const captured = join(ws.backendDir, "preview.json");
    writeFileSync(captured, stdout);
    let markdown = "";
    const code = await main(["plan-summary", "--input", captured, "--title", "Plan for `review`"], {
      stdout: (text) => {
        markdown += text;
      },
      stderr: (text) => {
        throw new Error(text);
      },
      env: process.env,
    });
    expect(code).toBe(0);
    expect(markdown).toBe(summarizePlan(preview, { title: "Plan for `review`" }));
    expect(markdown).not.toContain("Orbital-Mechanics-1962");
    expect(markdown).not.toContain("__provider");

    if (process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(join(fixtures, "preview.json"), `${JSON.stringify(preview, null, 2)}\n`);
      writeFileSync(join(fixtures, "expected.md"), markdown);
    }
    expect(markdown).toBe(readFileSync(join(fixtures, "expected.md"), "utf8"));
  });
});
