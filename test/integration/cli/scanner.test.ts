/** `mailplane serve` says which spam scorer is in use: a supervised rspamd (stopped with it), an existing one, or the built-in rules. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { rspamdInstalled, rspamdPing } from "../../../platform/smtp/content/rspamd-supervisor.ts";

const CLI = fileURLToPath(new URL("../../../cli/mailplane.ts", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs `mailplane serve` with an SMTP listener until its start-up output is complete (or it
 * exits), then stops it with SIGTERM. `env` replaces the test tier's MAILPLANE_RSPAMD=off.
 */
async function serveOnce(args: string[], env: Record<string, string | undefined> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "mp-scanner-cli-"));
  dirs.push(dataDir);
  const child = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--smtp-listen",
      "127.0.0.1:0",
      "--submission-listen",
      "off",
      "--no-dns",
      "--log-level",
      "silent",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const started = await Promise.race([
    new Promise<boolean>((resolve) =>
      child.stdout.on("data", () => /listening on http/.test(output) && resolve(true)),
    ),
    exited.then(() => false),
  ]);
  if (started) child.kill("SIGTERM");
  return { code: await exited, output, started };
}

describe("mailplane serve: the spam scorer", () => {
  it("says the built-in rules score with --rspamd off", async () => {
    const run = await serveOnce(["--rspamd", "off"], { MAILPLANE_RSPAMD: undefined });
    expect(run.output).toContain("mailplane: spam scoring: built-in rules (--rspamd off)\n");
    expect(run.code, run.output).toBe(0);
  });

  it("uses an existing rspamd given by MAILPLANE_RSPAMD_URL and says so", async () => {
    const run = await serveOnce([], {
      MAILPLANE_RSPAMD: "auto",
      MAILPLANE_RSPAMD_URL: "http://127.0.0.1:11333",
    });
    expect(run.output).toContain(
      "mailplane: spam scoring: rspamd at http://127.0.0.1:11333 (built-in rules while it does not answer; reports refused: no --rspamd-controller-url)\n",
    );
    expect(run.code, run.output).toBe(0);
  });

  it("selects the Settings-ID given by MAILPLANE_RSPAMD_SETTINGS_ID for an existing rspamd and says so", async () => {
    const run = await serveOnce([], {
      MAILPLANE_RSPAMD: "auto",
      MAILPLANE_RSPAMD_URL: "http://127.0.0.1:11333",
      MAILPLANE_RSPAMD_SETTINGS_ID: "mailplane-verified",
    });
    expect(run.output).toContain(
      "mailplane: spam scoring: rspamd at http://127.0.0.1:11333 (built-in rules while it does not answer; reports refused: no --rspamd-controller-url; Settings-ID mailplane-verified)\n",
    );
    expect(run.code, run.output).toBe(0);
  });

  it("refuses an --rspamd-settings-id that could break rspamd's request header, naming the flag", async () => {
    const run = await serveOnce(["--rspamd-settings-id", "x y"], {
      MAILPLANE_RSPAMD_URL: "http://127.0.0.1:11333",
    });
    expect(run.started).toBe(false);
    expect(run.code).toBe(2);
    expect(run.output).toContain("--rspamd-settings-id must be none or an rspamd settings ID");
  });

  it("says where reports train an existing rspamd (--rspamd-controller-url), never printing the controller's password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mp-scanner-pw-"));
    dirs.push(dir);
    const file = join(dir, "password");
    writeFileSync(file, "Never-Printed-9\n", { mode: 0o600 });
    const run = await serveOnce(
      ["--rspamd-controller-url", "http://127.0.0.1:11334", "--rspamd-controller-password-file", file],
      { MAILPLANE_RSPAMD: "auto", MAILPLANE_RSPAMD_URL: "http://127.0.0.1:11333" },
    );
    expect(run.output).toContain(
      "mailplane: spam scoring: rspamd at http://127.0.0.1:11333 (built-in rules while it does not answer; reports train its controller at http://127.0.0.1:11334 (with a password))\n",
    );
    expect(run.output).not.toContain("Never-Printed-9");
    expect(run.code, run.output).toBe(0);
  });

  it("refuses --rspamd-controller-password-file without --rspamd-controller-url", async () => {
    const run = await serveOnce(["--rspamd-controller-password-file", "/nonexistent"]);
    expect(run.started).toBe(false);
    expect(run.code).toBe(2);
    expect(run.output).toContain("--rspamd-controller-password-file needs --rspamd-controller-url");
  });

  it("refuses an --rspamd value other than auto or off, naming the flag", async () => {
    const run = await serveOnce(["--rspamd", "maybe"]);
    expect(run.started).toBe(false);
    expect(run.code).toBe(2);
    expect(run.output).toContain('--rspamd must be auto or off, got "maybe"');
  });

  it("starts and supervises rspamd by default when it is installed, and stops it on SIGTERM", async () => {
    if (!rspamdInstalled()) {
      throw new Error(
        "rspamd and redis-server must be installed (make test installs rspamd and redis-server)",
      );
    }
    const run = await serveOnce([], { MAILPLANE_RSPAMD: undefined });
    const m =
      /mailplane: spam scoring: rspamd \(supervised, (http:\/\/127\.0\.0\.1:\d+), config in (\S+); Settings-ID mailplane-verified\)\n/.exec(
        run.output,
      );
    expect(m, run.output).not.toBeNull();
    expect(m![2]).toMatch(/mp-scanner-cli-.*\/rspamd$/);
    expect(run.code, run.output).toBe(0);
    expect(await rspamdPing(m![1]!)).toBe(false);
  }, 180_000);
});
