#!/usr/bin/env node
/**
 * The `mailplane` CLI: `mailplane <command> [options]`, `mailplane <command> --help`. Commands are the
 * modules in cli/commands/ (each exports `command`), found at start-up, so adding one touches no
 * shared file.
 */
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { packageVersion } from "../platform/package-root.ts";
import { type Command, type CommandIo, UsageError } from "./command.ts";

const COMMANDS_DIR = join(dirname(fileURLToPath(import.meta.url)), "commands");
/** Sources in the checkout, .js in the package. */
const OWN_EXTENSION = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** Loads every command in cli/commands/, sorted by name. */
export async function loadCommands(): Promise<Command[]> {
  const files = readdirSync(COMMANDS_DIR).filter(
    (f) => f.endsWith(OWN_EXTENSION) && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"),
  );
  const commands: Command[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(COMMANDS_DIR, file)).href)) as { command?: Command };
    if (mod.command) commands.push(mod.command);
  }
  return commands.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Loads the one command named `name` (cli/commands/<name>), or undefined. Running a command loads
 * only its modules: the SMTP engine does not carry the API server's in its heap.
 */
async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z-]*$/.test(name)) return undefined;
  const file = join(COMMANDS_DIR, `${name}${OWN_EXTENSION}`);
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { command?: Command };
  return mod.command?.name === name ? mod.command : undefined;
}

function overview(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    "mailplane — mail tenancy as code",
    "",
    "usage: mailplane <command> [options]",
    "       mailplane <command> --help",
    "       mailplane --version",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
  ].join("\n");
}

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code.
 *
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: CommandIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(overview(await loadCommands()));
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.stdout(`mailplane ${packageVersion()}\n`);
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    io.stderr(`mailplane: unknown command ${JSON.stringify(name)}\n\n${overview(await loadCommands())}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`mailplane ${command.name}: ${error.message}\n\n${command.usage.trimEnd()}\n`);
      return 2;
    }
    io.stderr(`mailplane ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function defaultIo(): CommandIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  };
}

// Run when executed (also through the npm bin symlink), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
