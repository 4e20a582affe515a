/**
 * examples/typescript/README.md followed as written: its shell lines, taken from the README itself,
 * run by bash in a scratch project against a control plane this test starts (its data directory is
 * the project's `.data`, so `cat .data/admin-token` reads the real bootstrap token), with the real
 * Pulumi CLI on a throwaway file backend. Two things differ from a user's machine, both stated here:
 * the README's `npm install` line is replaced by linking this checkout as the installed package
 * (no network; installing the packed tarball is test/e2e/provider/package.test.ts), and the
 * platform listens on a free port rather than 8080, so that URL is swapped for the real one.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const exampleDir = join(root, "examples", "typescript");
const README_ENDPOINT = "http://127.0.0.1:8080";
const INSTALL_LINE = "npm install mailplane @pulumi/pulumi";

interface ShellResult {
  code: number;
  output: string;
}

/** The lines of the README's first `sh` block, as a user would paste them. */
function readmeShellLines(markdown: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error("the README has no ```sh block");
  return block[1]!
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

describe("examples/typescript/README.md, followed literally", () => {
  let scratch: string;
  let backendDir: string;
  let cp: ControlPlane;
  let adminToken: string;
  let env: Record<string, string>;

  /** Runs a bash script in the scratch project; never throws on a non-zero exit. */
  const sh = (script: string) =>
    new Promise<ShellResult>((resolve) => {
      execFile(
        "bash",
        ["-c", `set -euo pipefail\n${script}`],
        { cwd: scratch, env, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, output: `${stdout}\n${stderr}` });
        },
      );
    });

  beforeAll(async () => {
    if (!process.env.PULUMI_BIN_DIR) {
      throw new Error("e2e tests run inside the toolchain: bash scripts/run.sh npx vitest …");
    }
    scratch = await mkdtemp(join(tmpdir(), "mailplane-readme-"));
    backendDir = await mkdtemp(join(tmpdir(), "mailplane-readme-pulumi-"));
    for (const file of ["Pulumi.yaml", "index.ts"]) {
      await copyFile(join(exampleDir, file), join(scratch, file));
    }
    await writeFile(
      join(scratch, "package.json"),
      JSON.stringify({ name: "my-mail-tenancy", private: true, type: "module" }, null, 2),
    );
    // What `npm install mailplane @pulumi/pulumi` leaves behind, from this checkout: the package,
    // its peer and the `mailplane` bin that `npx mailplane` finds.
    await mkdir(join(scratch, "node_modules", ".bin"), { recursive: true });
    await symlink(root, join(scratch, "node_modules", "mailplane"));
    await symlink(join(root, "node_modules", "@pulumi"), join(scratch, "node_modules", "@pulumi"));
    await writeFile(
      join(scratch, "node_modules", ".bin", "mailplane"),
      `#!/bin/sh\nexec node ${JSON.stringify(join(root, "cli", "mailplane.ts"))} "$@"\n`,
      { mode: 0o755 },
    );

    cp = await startControlPlane({
      dataDir: join(scratch, ".data"),
      listen: "127.0.0.1:0",
      rateLimit: false,
    });
    adminToken = (await readFile(cp.adminTokenPath!, "utf8")).trim();
    env = {
      ...(Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("MAILPLANE_")),
      ) as Record<string, string>),
      PULUMI_BACKEND_URL: `file://${backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "mailplane-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // `pulumi up` asks before applying; no one is at this terminal to answer yes.
      PULUMI_SKIP_CONFIRMATIONS: "true",
      // npx must find the linked bin and never reach for a registry.
      npm_config_offline: "true",
      NO_COLOR: "1",
    };
  });

  afterAll(async () => {
    if (scratch) {
      await sh("pulumi destroy --yes --skip-preview --stack dev --non-interactive || true");
      await sh("pulumi stack rm --yes --force --stack dev --non-interactive || true");
      await sh("pulumi stack rm --yes --force --stack admin --non-interactive || true");
    }
    await cp?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    if (backendDir) await rm(backendDir, { recursive: true, force: true });
  });

  it("its shell lines open an account, give the stack that account's token, and bring the tenant up", async () => {
    const readme = await readFile(join(exampleDir, "README.md"), "utf8");
    const lines = readmeShellLines(readme);
    expect(lines[0]?.startsWith(INSTALL_LINE), lines[0]).toBe(true);
    const script = lines.slice(1).join("\n");
    expect(script).toContain(README_ENDPOINT);
    const result = await sh(script.replaceAll(README_ENDPOINT, cp.url));
    expect(result.code, result.output).toBe(0);

    const admin = new MailplaneClient({ endpoint: cp.url, token: adminToken, account: "example" });
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

    // The stack holds the account's token, encrypted; no output of the run showed it or the admin token.
    const stackToken = (await sh("pulumi config get mailplane:token --stack dev")).output.trim();
    const whoAmI = new MailplaneClient({ endpoint: cp.url, token: stackToken });
    try {
      expect(await whoAmI.whoAmI()).toMatchObject({ account: "example", role: "account-admin" });
    } finally {
      await whoAmI.close();
    }
    const stackFile = await readFile(join(scratch, "Pulumi.dev.yaml"), "utf8");
    expect(stackFile).toMatch(/mailplane:token:\s+secure:/);
    const state = (await sh("pulumi stack export --stack dev")).output;
    for (const secret of [stackToken, adminToken]) {
      expect(result.output).not.toContain(secret);
      expect(stackFile).not.toContain(secret);
      expect(state).not.toContain(secret);
    }

    const again = await sh("pulumi preview --expect-no-changes --stack dev --non-interactive");
    expect(again.code, again.output).toBe(0);
  });

  it("a stack holding the platform-admin token and no account is told to set mailplane:account or MAILPLANE_ACCOUNT", async () => {
    const result = await sh(
      [
        "pulumi stack init admin --non-interactive",
        `pulumi config set mailplane:endpoint ${cp.url} --stack admin`,
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
    expect(result.output).not.toContain(adminToken);
  });
});
