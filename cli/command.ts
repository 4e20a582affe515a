/** The shape of a `mailplane` subcommand (each file in cli/commands/ exports one as `command`) and what long-running ones share. */

/** Where a command writes; tests pass their own. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * One subcommand. `run` returns the exit code; long-running commands (serve) resolve when stopped.
 *
 * @example
 * export const command: Command = { name: "hello", summary: "Say hello", usage: "mailplane hello", run: async (_a, io) => (io.stdout("hi\n"), 0) };
 */
export interface Command {
  name: string;
  /** One line for `mailplane --help`. */
  summary: string;
  /** The full `--help` text. */
  usage: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** A usage error: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Resolves with the signal's name when SIGINT or SIGTERM arrives; long-running commands then shut down. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve(signal);
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
