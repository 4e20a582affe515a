/** `mailplane serve` as a process of its own, for the tests of the command: started on free ports, its output captured. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../cli/mailplane.ts", import.meta.url));

/** A running `mailplane serve`. */
export interface ServeProcess {
  child: ChildProcess;
  /** The API's base URL, from its "listening on" line. */
  url: string;
  /** The inbound SMTP port when `--smtp-listen` was given, else 0. */
  smtpPort: number;
  /** Everything it printed so far, both outputs. */
  output(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `mailplane serve --listen 127.0.0.1:0 <args…>` with `env` added to the test's, and resolves
 * once it is listening (and, given `--smtp-listen`, once its engine is); rejects with its output if
 * it exits first.
 * @example const served = await startServe(["--data-dir", dir, "--smtp-listen", "127.0.0.1:0"]);
 */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, "serve", "--listen", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const engine = args.includes("--smtp-listen");
  const ready = () =>
    /listening on http:\/\/\S+/.test(output) && (!engine || /SMTP engine listening: /.test(output));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready()) resolve();
    };
    child.stdout!.on("data", check);
    check();
    void exited.then((code) => reject(new Error(`mailplane serve exited ${code}: ${output}`)));
  });
  return {
    child,
    url: /listening on (http:\/\/\S+)/.exec(output)![1]!,
    smtpPort: Number(/SMTP engine listening: inbound 127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? 0),
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
