/**
 * `npm pack` of a clean clone: the committed tree cloned into a scratch directory (no dist/, no
 * build output of this checkout), this checkout's node_modules linked in so nothing is fetched, and
 * `npm pack` run offline. The `prepack` script must build dist/ so the tarball holds every entry
 * point and type declaration package.json's `exports` and `bin` name, and the packed code must run.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..", "..");

interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
}

/** Every file package.json promises: each export's `types` and `default`, and each bin. */
function promisedFiles(pkg: PackageJson): string[] {
  const files = Object.values(pkg.bin);
  for (const target of Object.values(pkg.exports)) {
    if (typeof target === "object") files.push(target["types"]!, target["default"]!);
  }
  return files.map((f) => f.replace(/^\.\//, ""));
}

describe("npm pack of a clean clone", () => {
  let scratch: string;
  let clone: string;
  let unpacked: string;
  let pkg: PackageJson;
  let entries: string[];
  // What users run: no source condition, so only compiled code can resolve.
  const userEnv = { ...process.env, NODE_OPTIONS: "", npm_config_offline: "true" };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "mailplane-pack-"));
    clone = join(scratch, "clone");
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: root })).stdout.trim();
    await run("git", ["clone", "--quiet", "--no-checkout", root, clone]);
    await run("git", ["checkout", "--quiet", "--detach", head], { cwd: clone });
    await symlink(await realpath(join(root, "node_modules")), join(clone, "node_modules"));
    pkg = JSON.parse(await readFile(join(clone, "package.json"), "utf8")) as PackageJson;

    const packed = await run("npm", ["pack", "--json", "--pack-destination", scratch], {
      cwd: clone,
      env: userEnv,
      maxBuffer: 64 * 1024 * 1024,
    });
    // Lifecycle scripts write their output first; the JSON report is the last thing printed.
    const report = JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf("\n[\n") + 1)) as {
      filename: string;
    }[];
    const tarball = join(scratch, report[0]!.filename);
    entries = (await run("tar", ["-tzf", tarball], { maxBuffer: 64 * 1024 * 1024 })).stdout
      .split("\n")
      .filter((e) => e !== "")
      .map((e) => e.replace(/^package\//, ""));
    unpacked = join(scratch, "unpacked");
    await mkdir(unpacked);
    await run("tar", ["-xzf", tarball, "-C", unpacked]);
    await symlink(await realpath(join(root, "node_modules")), join(unpacked, "package", "node_modules"));
  }, 600_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("the clone has no dist/ of its own: prepack built what the tarball holds", async () => {
    expect((await run("git", ["ls-files", "dist"], { cwd: clone })).stdout).toBe("");
    expect(entries.some((e) => e.startsWith("dist/"))).toBe(true);
  });

  it("holds every compiled entry point and .d.ts that package.json's exports and bin point to", () => {
    const promised = promisedFiles(pkg);
    expect(promised).toEqual(
      expect.arrayContaining([
        "dist/cli/mailplane.js",
        "dist/provider/src/index.js",
        "dist/provider/src/index.d.ts",
        "dist/provider/src/runtime.js",
        "dist/provider/src/runtime.d.ts",
        "dist/sdk/src/index.js",
        "dist/sdk/src/index.d.ts",
      ]),
    );
    expect(promised.filter((f) => !entries.includes(f))).toEqual([]);
    expect(entries.filter((e) => e.startsWith("schema/")).length).toBeGreaterThan(0);
  });

  it("ships the web console's files as they are (the control plane serves them from platform/console/public/)", () => {
    const shipped = entries.filter((e) => e.startsWith("platform/console/public/"));
    expect(shipped).toEqual(
      expect.arrayContaining(
        ["index.html", "app.js", "dom.js", "console.css"].map((f) => `platform/console/public/${f}`),
      ),
    );
    expect(entries).toContain("dist/platform/console/serve.js");
  });

  it("ships no TypeScript sources and no tests", () => {
    expect(entries.filter((e) => e.endsWith(".ts") && !e.endsWith(".d.ts"))).toEqual([]);
    expect(entries.filter((e) => e.startsWith("test/") || e.includes(".test."))).toEqual([]);
  });

  it("the packed code runs: the bin answers --version and lists account and token; the SDK and provider import", async () => {
    const dir = join(unpacked, "package");
    const version = await run("node", ["dist/cli/mailplane.js", "--version"], { cwd: dir, env: userEnv });
    expect(version.stdout).toBe(`mailplane ${pkg.version}\n`);
    const help = await run("node", ["dist/cli/mailplane.js", "--help"], { cwd: dir, env: userEnv });
    expect(help.stdout).toMatch(/^ {2}account\s/m);
    expect(help.stdout).toMatch(/^ {2}token\s/m);
    const imported = await run(
      "node",
      [
        "--input-type=module",
        "-e",
        "const sdk = await import('mailplane/sdk'); const p = await import('mailplane'); console.log(typeof sdk.MailplaneClient, typeof p.Domain)",
      ],
      { cwd: dir, env: userEnv },
    );
    expect(imported.stdout.trim()).toBe("function function");
  });
});
