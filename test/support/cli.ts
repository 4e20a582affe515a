/** Runs the `mailplane` CLI in process, as the tests of its commands do: the environment given, both outputs captured. */
import { main } from "../../cli/mailplane.ts";

/** What one run of the CLI did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mailplane <argv…>` with `env` as its whole environment (nothing leaks in from the test's).
 * @example const { code, stdout } = await runCli(["import", "--domain", "example.com"], { MAILPLANE_ENDPOINT: url });
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}
