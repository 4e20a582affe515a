/**
 * examples/yaml-manifest with the real Pulumi CLI against a real control plane: up applies the whole
 * manifest, a second preview finds nothing to do, destroy removes it; a manifest with a mistake stops
 * the program with file:line and path, and nothing reaches the platform.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const programDir = join(import.meta.dirname, "..", "..", "..", "examples", "yaml-manifest");
const stack = `yaml-manifest-${process.pid}`;

describe("examples/yaml-manifest", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  const scratch = mkdtempSync(join(tmpdir(), "mailplane-yaml-example-"));

  beforeAll(async () => {
    platform = await startTestPlatform("yaml-example", { rateLimit: false });
    ws = await createPulumiWorkspace(programDir, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok([
      "config",
      "set",
      "--secret",
      "--path",
      'passwords["ada@example.com"]',
      "Analytical-Engine-1843",
    ]);
    await ws.ok([
      "config",
      "set",
      "--secret",
      "--path",
      'passwords["grace@example.com"]',
      "Cobol-Compiler-1959",
    ]);
  });

  afterAll(async () => {
    await ws?.dispose();
    await platform?.close();
    rmSync(join(programDir, `Pulumi.${stack}.yaml`), { force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("a manifest with mistakes stops preview and up with file:line and path; nothing is applied", async () => {
    const bad = join(scratch, "bad.yaml");
    writeFileSync(
      bad,
      readFileSync(join(programDir, "tenancy.yaml"), "utf8")
        .replace("    port: 25\n", "    port: 25\n    weight: 5\n")
        .replace("address: grace@example.com", "address: grace at example.com"),
    );
    await ws.ok(["config", "set", "manifest", bad]);
    for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
      const result = await ws.run(command);
      expect(result.code).not.toBe(0);
      const output = result.stdout + result.stderr;
      expect(output).toMatch(new RegExp(`${bad}:\\d+:\\d+ routes\\[0\\]\\.weight: unknown key "weight"`));
      expect(output).toMatch(new RegExp(`${bad}:\\d+:\\d+ users\\[1\\]\\.address: must be an email address`));
    }
    const domains = await platform.client.domains.list();
    expect(domains.items).toEqual([]);
    // Not even the component was registered: the manifest is checked before anything else.
    const state = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    const types = (state.deployment.resources ?? []).map((r: { type: string }) => r.type);
    expect(types.filter((t: string) => t.includes("mailplane"))).toEqual([]);
    await ws.ok(["config", "rm", "manifest"]);
  });

  it("up applies the manifest; the platform holds what it declares", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"]);
    const domain = await platform.client.domains.get("example.com");
    expect(domain.aliases).toEqual(["example.net"]);
    const users = await platform.client.users.list("example.com");
    expect(users.items.map((u) => u.address)).toEqual(["ada@example.com", "grace@example.com"]);
    const team = await platform.client.aliases.get("team@example.com");
    expect(team.action).toEqual({ type: "forward", to: ["ada@example.com", "grace@example.com"] });
  });

  it("a second preview reports no changes", async () => {
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("the state holds no password in plain text", async () => {
    const state = (await ws.ok(["stack", "export"])).stdout;
    expect(state).not.toContain("Analytical-Engine-1843");
    expect(state).not.toContain("Cobol-Compiler-1959");
  });

  it("destroy removes everything from the platform", async () => {
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
    const domains = await platform.client.domains.list();
    expect(domains.items).toEqual([]);
  });
});
