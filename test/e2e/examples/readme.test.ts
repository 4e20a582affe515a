/**
 * The examples' READMEs followed as written: each README's shell lines, taken from the README
 * itself, run by bash in a scratch project against a control plane this test starts (its data
 * directory is the project's `.data`, so `cat .data/admin-token` reads the real bootstrap token),
 * with the real Pulumi CLI on a throwaway file backend. Two things differ from a user's machine,
 * both stated here: the README's `npm install` line is replaced by linking this checkout as the
 * installed package (no network; installing the packed tarball is test/e2e/provider/package.test.ts),
 * and the platform listens on a free port rather than 8080, so that URL is swapped for the real one.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const README_ENDPOINT = "http://127.0.0.1:8080";
const INSTALL_LINE = "npm install mailplane @pulumi/pulumi";

interface ShellResult {
  code: number;
  output: string;
}

/** The lines of a README's first `sh` block, as a user would paste them. */
function readmeShellLines(markdown: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error("the README has no ```sh block");
  return block[1]!
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** A scratch project holding an example's files, "installed" from this checkout, with a control plane in `.data`. */
class ScratchProject {
  dir = "";
  backendDir = "";
  cp: ControlPlane | undefined;
  adminToken = "";
  env: Record<string, string> = {};

  async start(example: string, files: string[]): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `mailplane-readme-${example}-`));
    this.backendDir = await mkdtemp(join(tmpdir(), "mailplane-readme-pulumi-"));
    for (const file of files) await copyFile(join(root, "examples", example, file), join(this.dir, file));
    await writeFile(
      join(this.dir, "package.json"),
      JSON.stringify({ name: "my-mail-tenancy", private: true, type: "module" }, null, 2),
    );
    // What `npm install mailplane @pulumi/pulumi` leaves behind, from this checkout: the package,
    // its peer and the `mailplane` bin that `npx mailplane` finds.
    await mkdir(join(this.dir, "node_modules", ".bin"), { recursive: true });
    await symlink(root, join(this.dir, "node_modules", "mailplane"));
    await symlink(join(root, "node_modules", "@pulumi"), join(this.dir, "node_modules", "@pulumi"));
    await writeFile(
      join(this.dir, "node_modules", ".bin", "mailplane"),
      `#!/bin/sh\nexec node ${JSON.stringify(join(root, "cli", "mailplane.ts"))} "$@"\n`,
      { mode: 0o755 },
    );
    this.cp = await startControlPlane({
      dataDir: join(this.dir, ".data"),
      listen: "127.0.0.1:0",
      rateLimit: false,
    });
    this.adminToken = (await readFile(this.cp.adminTokenPath!, "utf8")).trim();
    this.env = {
      ...(Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("MAILPLANE_")),
      ) as Record<string, string>),
      PULUMI_BACKEND_URL: `file://${this.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "mailplane-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // `pulumi up` asks before applying; no one is at this terminal to answer yes.
      PULUMI_SKIP_CONFIRMATIONS: "true",
      // npx must find the linked bin and never reach for a registry.
      npm_config_offline: "true",
      NO_COLOR: "1",
    };
  }

  get url(): string {
    return this.cp!.url;
  }

  /** Runs a bash script in the project; never throws on a non-zero exit. */
  sh(script: string): Promise<ShellResult> {
    return new Promise((resolve) => {
      execFile(
        "bash",
        ["-c", `set -euo pipefail\n${script}`],
        { cwd: this.dir, env: this.env, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, output: `${stdout}\n${stderr}` });
        },
      );
    });
  }

  /** Runs the README's shell lines: all but the install line, verbatim but for the endpoint. */
  async followReadme(example: string): Promise<ShellResult> {
    const lines = readmeShellLines(await readFile(join(root, "examples", example, "README.md"), "utf8"));
    expect(lines[0]?.startsWith(INSTALL_LINE), lines[0]).toBe(true);
    const script = lines.slice(1).join("\n");
    expect(script).toContain(README_ENDPOINT);
    return this.sh(script.replaceAll(README_ENDPOINT, this.url));
  }

  /** The README's stack: its token works for `account` and no output, stack file or state holds a token. */
  async expectStackHoldsAccountToken(account: string, readmeRun: ShellResult): Promise<void> {
    const stackToken = (await this.sh("pulumi config get mailplane:token --stack dev")).output.trim();
    const client = new MailplaneClient({ endpoint: this.url, token: stackToken });
    try {
      expect(await client.whoAmI()).toMatchObject({ account, role: "account-admin" });
    } finally {
      await client.close();
    }
    const stackFile = await readFile(join(this.dir, "Pulumi.dev.yaml"), "utf8");
    expect(stackFile).toMatch(/mailplane:token:\s+secure:/);
    const state = (await this.sh("pulumi stack export --stack dev")).output;
    for (const secret of [stackToken, this.adminToken]) {
      expect(readmeRun.output).not.toContain(secret);
      expect(stackFile).not.toContain(secret);
      expect(state).not.toContain(secret);
    }
  }

  async dispose(): Promise<void> {
    if (this.dir) {
      await this.sh("pulumi destroy --yes --skip-preview --stack dev --non-interactive || true");
      await this.sh("pulumi stack rm --yes --force --stack dev --non-interactive || true");
      await this.sh("pulumi stack rm --yes --force --stack admin --non-interactive || true");
    }
    await this.cp?.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    if (this.backendDir) await rm(this.backendDir, { recursive: true, force: true });
  }
}

function adminOf(project: ScratchProject, account: string): MailplaneClient {
  return new MailplaneClient({ endpoint: project.url, token: project.adminToken, account });
}

describe("examples/typescript/README.md, followed literally", () => {
  const project = new ScratchProject();

  beforeAll(async () => {
    if (!process.env.PULUMI_BIN_DIR) {
      throw new Error("e2e tests run inside the toolchain: bash scripts/run.sh npx vitest …");
    }
    await project.start("typescript", ["Pulumi.yaml", "index.ts"]);
  });

  afterAll(() => project.dispose());

  it("its shell lines open an account, give the stack that account's token, and bring the tenant up", async () => {
    const result = await project.followReadme("typescript");
    expect(result.code, result.output).toBe(0);

    const admin = adminOf(project, "example");
    try {
      expect(await admin.accounts.get("example")).toMatchObject({ name: "Example Org" });
      const tokens = (await admin.tokens.list()).items;
      expect(tokens.map((t) => [t.role, t.description])).toEqual([["account-admin", "pulumi: example/dev"]]);
      expect(await admin.domains.get("example.org")).toMatchObject({ timezone: "America/New_York" });
      expect((await admin.users.list("example.org")).items.map((u) => u.address)).toContain(
        "ada@example.org",
      );
    } finally {
      await admin.close();
    }
    await project.expectStackHoldsAccountToken("example", result);
    const again = await project.sh("pulumi preview --expect-no-changes --stack dev --non-interactive");
    expect(again.code, again.output).toBe(0);
  });

  it("a stack holding the platform-admin token and no account is told to set mailplane:account or MAILPLANE_ACCOUNT", async () => {
    const result = await project.sh(
      [
        "pulumi stack init admin --non-interactive",
        `pulumi config set mailplane:endpoint ${project.url} --stack admin`,
        'pulumi config set --secret mailplane:token "$(cat .data/admin-token)" --stack admin',
        "pulumi config set --secret adaPassword 'Analytical-Engine-1843' --stack admin",
        "pulumi up --yes --skip-preview --stack admin --non-interactive",
      ].join("\n"),
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("(MP_ACCOUNT_REQUIRED)");
    expect(result.output).toContain(
      "`pulumi config set mailplane:account <account id>` or MAILPLANE_ACCOUNT",
    );
    expect(result.output).not.toContain("Mailplane-Account header");
    expect(result.output).not.toContain(project.adminToken);
  });
});

describe("examples/yaml-manifest/README.md, followed literally", () => {
  const project = new ScratchProject();

  beforeAll(async () => {
    if (!process.env.PULUMI_BIN_DIR) {
      throw new Error("e2e tests run inside the toolchain: bash scripts/run.sh npx vitest …");
    }
    await project.start("yaml-manifest", ["Pulumi.yaml", "index.ts", "tenancy.yaml"]);
  });

  afterAll(() => project.dispose());

  it("its shell lines open an account, give the stack that account's token, and bring the manifest up", async () => {
    const result = await project.followReadme("yaml-manifest");
    expect(result.code, result.output).toBe(0);

    const admin = adminOf(project, "example");
    try {
      expect(await admin.accounts.get("example")).toMatchObject({ name: "Example Co" });
      expect((await admin.domains.list()).items.map((d) => d.name)).toContain("example.com");
      expect((await admin.users.list("example.com")).items.map((u) => u.address).sort()).toEqual(
        expect.arrayContaining(["ada@example.com", "grace@example.com"]),
      );
    } finally {
      await admin.close();
    }
    await project.expectStackHoldsAccountToken("example", result);
  });
});
