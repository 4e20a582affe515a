/**
 * `make demo` is the product's main job: this runs it (scripts/demo.ts) with its own Pulumi backend
 * and asserts that it completes and that every message met its declared fate.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const backend = mkdtempSync(join(tmpdir(), "mailplane-demo-backend-"));
afterAll(() => rmSync(backend, { recursive: true, force: true }));

describe("make demo", () => {
  it("brings the platform up, applies the tenancy, and every message meets its declared fate", async () => {
    const child = spawn(process.execPath, [join(root, "scripts", "demo.ts")], {
      cwd: root,
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a stop takes the platform it started along.
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    // A demo that hangs is stopped before the test's own timeout, so its output shows where it stood.
    const stop = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 480_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(stop);
    expect(output, output).toContain("13/13 as declared");
    expect(output).not.toContain("✗");
    expect(output).toMatch(/~ quarantineThreshold: 0\.9 => 0\.8/);
    expect(output).toContain("Every message met the fate the tenancy declares.");
    expect(output).toMatch(/POST .*→ 200 "Released"/);
    expect(output).toMatch(/POST again → 200 "Nothing to release"/);
    expect(output).toContain("released through its link: exactly that message, to grace only");
    expect(code, output).toBe(0);
  });
});
