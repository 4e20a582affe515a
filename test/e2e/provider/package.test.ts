/**
 * The package as users get it: compiled with `npm run build`'s config, `npm pack`ed, installed into a
 * scratch program outside the repository (with no `mailplane-source` condition: Node does not strip
 * types under node_modules, so only dist/*.js can work), then preview, up, no-op preview and destroy
 * of examples/typescript with the real Pulumi CLI against a real control plane.
 */
import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";
import { outcome, previewSteps } from "./support.ts";

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const PASSWORD = "Analytical-Engine-1843";
// What users run: no source condition, so `mailplane` resolves to the compiled dist/ in node_modules.
const USER_ENV = { NODE_OPTIONS: "" };

describe("the packed package in a scratch program outside the repository", () => {
  let scratch: string;
  let program: string;
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  let tarball: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "mailplane-packed-"));
    // Stage the package without touching the checkout's dist/: package.json, README, schema, compiled code.
    const stage = join(scratch, "package");
    await mkdir(stage);
    await copyFile(join(root, "package.json"), join(stage, "package.json"));
    await copyFile(join(root, "README.md"), join(stage, "README.md"));
    await cp(join(root, "schema"), join(stage, "schema"), { recursive: true });
    await run("npx", ["tsc", "-p", join(root, "tsconfig.build.json"), "--outDir", join(stage, "dist")], {
      cwd: root,
    });
    // Built above into the stage; prepack would rebuild from sources the stage does not have.
    const packed = await run("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", scratch], {
      cwd: stage,
    });
    tarball = join(scratch, packed.stdout.trim().split("\n").at(-1)!);

    program = join(scratch, "program");
    await mkdir(program);
    for (const file of ["Pulumi.yaml", "index.ts"]) {
      await copyFile(join(root, "examples/typescript", file), join(program, file));
    }
    await writeFile(
      join(program, "package.json"),
      JSON.stringify({ name: "my-mail-tenancy", private: true, type: "module" }, null, 2),
    );
    await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "@pulumi/pulumi@3.259.0"],
      { cwd: program, env: { ...process.env, ...USER_ENV }, maxBuffer: 16 * 1024 * 1024 },
    );

    platform = await startTestPlatform();
    ws = await createPulumiWorkspace(program, `packed-${process.pid}`);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url], USER_ENV);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token], USER_ENV);
    await ws.ok(["config", "set", "--secret", "adaPassword", PASSWORD], USER_ENV);
  }, 600_000);

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"], USER_ENV);
    await ws?.dispose();
    await platform?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("ships compiled JavaScript and type declarations, no TypeScript sources", async () => {
    const installed = join(program, "node_modules/mailplane");
    const files = (await readdir(installed, { recursive: true })).map(String);
    expect(files).toContain(join("dist/provider/src/index.js"));
    expect(files).toContain(join("dist/provider/src/index.d.ts"));
    expect(files).toContain(join("dist/provider/src/runtime.js"));
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("preview plans every resource of the example as a create", async () => {
    const steps = await previewSteps(ws, [], USER_ENV);
    const creates = Object.values(steps).filter((s) => s.op === "create" && s.type !== "Stack");
    expect(creates.map((s) => s.type).sort()).toEqual(
      [
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
      ].sort(),
    );
  });

  it("up creates the tenant through the installed runtime; a second preview is a no-op", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"], USER_ENV);
    expect(await platform.client.domains.get("example.org")).toMatchObject({ timezone: "America/New_York" });
    expect(await outcome(platform.client.users.get("ada@example.org"))).toBe("ok");
    expect(await platform.client.filterSettings.get("example.org")).toMatchObject({ sizeLimitMb: 25 });
    await ws.ok(["preview", "--expect-no-changes"], USER_ENV);
    // The state's provider is the thin shim importing the installed package by name.
    const exported = JSON.parse((await ws.ok(["stack", "export"], USER_ENV)).stdout);
    const domain = exported.deployment.resources.find((r: { type: string }) => r.type.endsWith(":Domain"));
    expect(domain.inputs.__provider).toContain('import("mailplane/provider-runtime")');
    expect(JSON.stringify(exported)).not.toContain(PASSWORD);
  });

  it("destroy removes the tenant", async () => {
    await ws.ok(["destroy", "--yes", "--skip-preview"], USER_ENV);
    expect(await outcome(platform.client.domains.get("example.org"))).toBe("MP_NOT_FOUND");
  });
});
