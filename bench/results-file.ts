/** bench/RESULTS.md and bench/results/: where every benchmark leaves its numbers. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const benchDir = import.meta.dirname;

/**
 * Replaces the section of bench/RESULTS.md that starts with `heading` (up to the next `## `), or
 * appends it; the other benchmarks' sections stay as they are. Returns the file's path.
 * @example writeResultsSection("## Provider", text)
 */
export function writeResultsSection(heading: string, text: string): string {
  const path = join(benchDir, "RESULTS.md");
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmark results\n";
  const start = current.indexOf(heading);
  let next: string;
  if (start < 0) {
    next = `${current.trimEnd()}\n\n${text.trimEnd()}\n`;
  } else {
    const rest = current.slice(start + heading.length);
    const end = rest.search(/^## /m);
    next = `${current.slice(0, start)}${text.trimEnd()}\n${end < 0 ? "" : `\n${rest.slice(end)}`}`;
  }
  writeFileSync(path, next);
  return path;
}

/** Writes one run's raw rounds to bench/results/<name>-<time>.json (git-ignored) and returns the path. */
export function writeRawResults(name: string, startedAt: Date, data: unknown): string {
  mkdirSync(join(benchDir, "results"), { recursive: true });
  const path = join(benchDir, "results", `${name}-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/**
 * Replaces one `### ` subsection (up to the next `### ` or `## `) inside the section `heading` of
 * bench/RESULTS.md, or appends it at the end of that section (the section is created when missing);
 * the rest of the file, the section's own header included, stays as it is. For partial runs.
 * @example writeResultsSubsection("## SMTP engine", "### Full filter (rspamd)", text)
 */
export function writeResultsSubsection(heading: string, subheading: string, text: string): string {
  const path = join(benchDir, "RESULTS.md");
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmark results\n";
  const start = current.indexOf(`${heading}\n`);
  if (start < 0) return writeResultsSection(heading, `${heading}\n\n${text}`);
  const bodyStart = start + heading.length + 1;
  const nextSection = current.slice(bodyStart).search(/^## /m);
  const end = nextSection < 0 ? current.length : bodyStart + nextSection;
  const body = current.slice(bodyStart, end);
  const at = body.indexOf(`${subheading}\n`);
  let nextBody: string;
  if (at < 0) {
    nextBody = `${body.trimEnd()}\n\n${text.trimEnd()}\n`;
  } else {
    const after = body.slice(at + subheading.length + 1);
    const stop = after.search(/^#{2,3} /m);
    nextBody = `${body.slice(0, at)}${text.trimEnd()}\n${stop < 0 ? "" : `\n${after.slice(stop)}`}`;
  }
  const rest = end < current.length ? `\n${current.slice(end)}` : "";
  writeFileSync(path, `${current.slice(0, bodyStart)}${nextBody.trimEnd()}\n${rest}`);
  return path;
}
