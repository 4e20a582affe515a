/** What the commands share in reading their options: strict flag parsing, flag → environment variable → default. */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { CidrSet } from "../platform/smtp/policy/matchers.ts";
import { UsageError } from "./command.ts";

/**
 * The data directory when neither `--data-dir` nor MAILPLANE_DATA_DIR names one. `serve` and `smtp`
 * must agree on it: the engine run alone finds the control plane's SQLite store there.
 */
export const DEFAULT_DATA_DIR = ".data";

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
 * Reads an option the way every command does: the flag when given, else the environment variable,
 * else undefined (the caller's default). An empty variable counts as unset, so `MAILPLANE_LISTEN=`
 * means the default rather than an empty address. A boolean flag that is set reads as "1".
 * @example const opt = optionReader(values, io.env); const dataDir = opt("data-dir", "MAILPLANE_DATA_DIR") ?? ".data";
 */
export function optionReader(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): (flag: string, variable: string) => string | undefined {
  return (flag, variable) => {
    const value = values[flag];
    if (typeof value === "string") return value;
    if (value === true) return "1";
    const fromEnv = env[variable];
    return fromEnv === "" ? undefined : fromEnv;
  };
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

/**
 * A duration flag in whole milliseconds, or undefined when not given.
 * @throws UsageError naming the flag and the value
 * @example wholeMilliseconds("greeting-delay", "250") // 250
 */
export function wholeMilliseconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (value.trim() === "" || !Number.isInteger(ms) || ms < 0)
    throw new UsageError(`--${flag} must be a whole number of ms, not ${JSON.stringify(value)}`);
  return ms;
}

/**
 * A count flag (a cap) as a whole number ≥ 1, or undefined when not given.
 * @throws UsageError naming the flag and the value
 * @example positiveInteger("max-recipients", "100") // 100
 */
export function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag} must be a whole number ≥ 1, not ${JSON.stringify(value)}`);
  return n;
}

/**
 * `--trusted-proxies`: comma-separated IP addresses or CIDR blocks, each checked; none when absent.
 * @example trustedProxies("10.0.0.5, 2001:db8::/64") // ["10.0.0.5", "2001:db8::/64"]
 */
export function trustedProxies(value: string | undefined): string[] {
  const entries = (value ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  for (const entry of entries) {
    try {
      new CidrSet([entry]);
    } catch {
      throw new UsageError(
        `--trusted-proxies takes IP addresses or CIDR blocks, got ${JSON.stringify(entry)}`,
      );
    }
  }
  return entries;
}
