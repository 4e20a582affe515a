/**
 * examples/typescript with the real Pulumi CLI against a real control plane: the preview lists every
 * resource as a create, up applies them, a second preview finds nothing, destroy removes them.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const programDir = join(import.meta.dirname, "..", "..", "..", "examples", "typescript");
const stack = `typescript-${process.pid}`;

describe("examples/typescript", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;

  beforeAll(async () => {
    platform = await startTestPlatform("ts-example", { rateLimit: false });
    ws = await createPulumiWorkspace(programDir, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "adaPassword", "Analytical-Engine-1843"]);
  });

  afterAll(async () => {
    await ws?.dispose();
    await platform?.close();
    rmSync(join(programDir, `Pulumi.${stack}.yaml`), { force: true });
  });

  it("preview plans every resource as a create", async () => {
    const preview = await ws.json<{ steps: { op: string; urn: string }[] }>(["preview"]);
    const creates = preview.steps
      .filter((s) => s.op === "create" && s.urn.includes("mailplane:"))
      .map((s) => s.urn.split("::").at(-2)?.split(":").at(-1))
      .sort();
    expect(creates).toEqual([
      "Alias",
      "Alias",
      "Domain",
      "FilterSettings",
      "PasswordPolicy",
      "Route",
      "Route",
      "SenderList",
      "SenderList",
      "User",
    ]);
  });

  it("up applies it, a second preview finds nothing, destroy removes it", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"]);
    const routes = await platform.client.routes.list("example.org");
    expect(routes.items.map((r) => [r.host, r.priority])).toEqual([
      ["mx1.example.org", 10],
      ["mx2.example.org", 20],
    ]);
    const outputs = await ws.json<{ dnsRecords: { type: string }[] }>(["stack", "output"]);
    expect(outputs.dnsRecords.map((r) => r.type)).toEqual(expect.arrayContaining(["MX", "TXT"]));
    await ws.ok(["preview", "--expect-no-changes"]);
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect((await platform.client.domains.list()).items).toEqual([]);
  });
});
