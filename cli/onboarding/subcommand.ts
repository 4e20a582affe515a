/** What `account` and `token` share: a subcommand word first, then flags and at most the positionals it takes. */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { UsageError } from "../command.ts";

/**
 * Splits `argv` into the subcommand (its first word, which must be one of `subcommands`), the
 * positional arguments after it and the flags, parsed strictly.
 * @throws UsageError for a missing or unknown subcommand, an unknown flag or a missing value
 * @example parseSubcommand(["create", "acme", "--name", "ACME"], ["create"], { name: { type: "string" } })
 * // { subcommand: "create", positionals: ["acme"], values: { name: "ACME" } }
 */
export function parseSubcommand<const T extends ParseArgsOptionsConfig>(
  argv: string[],
  subcommands: readonly string[],
  options: T,
) {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || !subcommands.includes(subcommand)) {
    throw new UsageError(
      `${subcommand === undefined ? "name a subcommand" : `unknown subcommand ${JSON.stringify(subcommand)}`}: ${subcommands.join(", ")}`,
    );
  }
  try {
    const parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    return { subcommand, positionals: parsed.positionals, values: parsed.values };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Checks a subcommand got exactly the positionals it names.
 * @throws UsageError naming what is missing or extra
 * @example expectPositionals("create", ["acme"], ["<id>"]) // ["acme"]
 */
export function expectPositionals(subcommand: string, positionals: string[], names: string[]): string[] {
  if (positionals.length < names.length) {
    throw new UsageError(`${subcommand} needs ${names.slice(positionals.length).join(" ")}`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(
      `${subcommand} takes ${names.length === 0 ? "no arguments" : names.join(" ")}, got also ${JSON.stringify(positionals.slice(names.length).join(" "))}`,
    );
  }
  return positionals;
}
