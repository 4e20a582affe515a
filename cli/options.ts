/** What the commands share in reading their options: strict flag parsing and the database URL check. */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { UsageError } from "./command.ts";

/**
 * Parses a command's flags strictly: an unknown flag, a missing value or a positional argument is a
 * usage error (exit 2 with the command's usage).
 * @throws UsageError
 * @example const values = parseFlags(argv, { out: { type: "string" }, json: { type: "boolean" } });
 */
export function parseFlags<const T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A `--database-url` as given, or undefined; anything but a `postgres://` URL is a usage error.
 * @throws UsageError
 */
export function postgresUrl(value: string | undefined): string | undefined {
  if (value && !/^postgres(ql)?:\/\//.test(value))
    throw new UsageError("--database-url must be a postgres:// URL");
  return value || undefined;
}
