/**
 * The foundation's proof: the real Pulumi CLI (built by scripts/toolchain.sh), our language host and
 * Pulumi's dynamic-provider plugin run a program through preview → up → no-op preview → refresh → destroy,
 * and both the program and the dynamic provider run on Node 24.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";

const programDir = join(dirname(fileURLToPath(import.meta.url)), "program");

describe("smoke: one dynamic resource with the real Pulumi CLI", () => {
  let ws: PulumiWorkspace;
  let scratch: string;
  let markerPath: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "mailplane-smoke-"));
    markerPath = join(scratch, "marker.txt");
    ws = await createPulumiWorkspace(programDir, `smoke-${process.pid}`);
    await ws.ok(["config", "set", "smoke:path", markerPath]);
  });

  afterAll(async () => {
    await ws?.dispose();
    await rm(scratch, { recursive: true, force: true });
    await rm(join(programDir, `Pulumi.smoke-${process.pid}.yaml`), { force: true });
  });

  it("the CLI reports a v3 version", async () => {
    const { stdout } = await ws.ok(["version"]);
    expect(stdout.trim()).toMatch(/^v3\.\d+\.\d+$/);
  });

  it("preview plans the stack and the resource as creates", async () => {
    const preview = await ws.json<{ steps: { op: string; urn: string }[] }>(["preview"]);
    const ops = preview.steps.map((s) => `${s.op} ${s.urn.split("::").at(-2)}`);
    expect(ops).toEqual(["create pulumi:pulumi:Stack", "create pulumi-nodejs:dynamic:Resource"]);
    expect(existsSync(markerPath)).toBe(false);
  });

  it("up creates the resource, and both program and provider run on Node 24", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect(readFileSync(markerPath, "utf8")).toBe("hello");
    const outputs = await ws.json<Record<string, string>>(["stack", "output"]);
    expect(outputs.providerNodeVersion).toMatch(/^v24\./);
    expect(outputs.programNodeVersion).toMatch(/^v24\./);
  });

  it("a second preview reports no changes (--expect-no-changes)", async () => {
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("refresh reads live state: an out-of-band edit shows as drift, then up reverts it", async () => {
    writeFileSync(markerPath, "edited outside pulumi");
    await ws.ok(["refresh", "--yes", "--skip-preview"]);
    const drifted = await ws.run(["preview", "--expect-no-changes"]);
    expect(drifted.code).not.toBe(0);
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect(readFileSync(markerPath, "utf8")).toBe("hello");
  });

  it("destroy deletes the resource and empties the stack", async () => {
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect(existsSync(markerPath)).toBe(false);
    const exported = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    expect(exported.deployment.resources ?? []).toHaveLength(0);
  });
});
