/**
 * Drives the real Pulumi CLI for e2e tests: one throwaway file backend per workspace,
 * so tests never touch each other's stacks or the demo's.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PulumiWorkspace {
  /** Runs `pulumi <args>` in the program directory; never throws on a non-zero exit. */
  run(args: string[], env?: Record<string, string>): Promise<PulumiResult>;
  /** Like run, but fails the test with the CLI's output when the exit code is not 0. */
  ok(args: string[], env?: Record<string, string>): Promise<PulumiResult>;
  /** `pulumi … --json` parsed. */
  json<T = any>(args: string[], env?: Record<string, string>): Promise<T>;
  backendDir: string;
  dispose(): Promise<void>;
}

export async function createPulumiWorkspace(programDir: string, stack = "test"): Promise<PulumiWorkspace> {
  if (!process.env.PULUMI_BIN_DIR) {
    throw new Error(
      "e2e tests run inside the toolchain: use `make test` (scripts/run.sh sets PULUMI_BIN_DIR)",
    );
  }
  const backendDir = await mkdtemp(join(tmpdir(), "mailplane-pulumi-"));
  const baseEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "mailplane-test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    NO_COLOR: "1",
  };
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<PulumiResult>((resolve) => {
      // Commands that take no stack (version, plugin, about) get the arguments as given.
      const stackless = ["version", "plugin", "about"].includes(args[0] ?? "");
      const fullArgs = stackless ? args : [...args, "--stack", stack, "--non-interactive"];
      execFile(
        "pulumi",
        fullArgs,
        { cwd: programDir, env: { ...baseEnv, ...env }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const ok = async (args: string[], env?: Record<string, string>) => {
    const result = await run(args, env);
    if (result.code !== 0) {
      throw new Error(`pulumi ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  };
  const initial = await new Promise<PulumiResult>((resolve) => {
    execFile(
      "pulumi",
      ["stack", "init", stack, "--non-interactive"],
      { cwd: programDir, env: baseEnv },
      (e, o, s) => resolve({ code: e ? 1 : 0, stdout: o, stderr: s }),
    );
  });
  if (initial.code !== 0) throw new Error(`pulumi stack init failed: ${initial.stderr}`);
  return {
    run,
    ok,
    async json(args, env) {
      const result = await ok([...args, "--json"], env);
      return JSON.parse(result.stdout);
    },
    backendDir,
    async dispose() {
      await run(["stack", "rm", "--yes", "--force"]);
      await rm(backendDir, { recursive: true, force: true });
    },
  };
}
