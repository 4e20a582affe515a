/**
 * Schemathesis (PyPI), the OpenAPI fuzzer the API is checked with: installed once into a virtualenv
 * under .toolchain/ (git-ignored), pinned, with a progress line while it installs.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

export const SCHEMATHESIS_VERSION = "4.32.5";
const run = promisify(execFile);

/** The `st` command of a virtualenv holding schemathesis; installs it the first time. */
export async function ensureSchemathesis(): Promise<string> {
  const venv = join(import.meta.dirname, "..", "..", ".toolchain", `schemathesis-${SCHEMATHESIS_VERSION}`);
  const st = join(venv, "bin", "st");
  if (existsSync(st)) return st;
  process.stderr.write(`▸ installing schemathesis ${SCHEMATHESIS_VERSION} into .toolchain/ (one time)\n`);
  await run("python3", ["-m", "venv", venv]);
  await run(join(venv, "bin", "pip"), [
    "install",
    "--quiet",
    "--disable-pip-version-check",
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  return st;
}
