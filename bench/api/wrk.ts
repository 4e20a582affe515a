/** Drives load with wrk (a separate C process) and reads its requests/s, p99 and error counts. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One load run's outcome. */
export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors; a run with any is reported, not silently averaged. */
  errors: number;
}

/** What to send: each request picks the next of `requests` (method, path, body), round robin. */
export interface Load {
  requests: { method: string; path: string; body?: string }[];
  headers: Record<string, string>;
}

function lua(load: Load): string {
  const q = (s: string) => JSON.stringify(s);
  const reqs = load.requests
    .map((r) => `{${q(r.method)}, ${q(r.path)}, ${r.body === undefined ? "nil" : q(r.body)}}`)
    .join(",\n  ");
  const headers = Object.entries(load.headers)
    .map(([k, v]) => `wrk.headers[${q(k)}] = ${q(v)}`)
    .join("\n");
  return `${headers}
local reqs = {
  ${reqs}
}
local i = 0
request = function()
  i = (i % #reqs) + 1
  local r = reqs[i]
  return wrk.format(r[1], r[2], nil, r[3])
end
`;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

/**
 * Runs wrk against `baseUrl` for `seconds` with `connections` over `threads` and parses its report.
 *
 * @example await wrk("http://127.0.0.1:8080", { requests: [{ method: "GET", path: "/healthz" }], headers: {} })
 */
export async function wrk(
  baseUrl: string,
  load: Load,
  options: { seconds: number; connections: number; threads: number },
): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), "mailplane-wrk-"));
  try {
    const script = join(dir, "load.lua");
    writeFileSync(script, lua(load));
    const { stdout } = await run(
      "wrk",
      [
        `-t${options.threads}`,
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        "--latency",
        "-s",
        script,
        baseUrl,
      ],
      { maxBuffer: 1 << 20 },
    );
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
    const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
    const total = /(\d+) requests in/.exec(stdout);
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    if (!rps || !p99 || !p50 || !total) throw new Error(`cannot parse wrk output:\n${stdout}`);
    const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    return {
      requestsPerSecond: Number(rps[1]),
      p50Ms: toMs(p50[1]!, p50[2]!),
      p99Ms: toMs(p99[1]!, p99[2]!),
      requests: Number(total[1]),
      errors: Number(non2xx?.[1] ?? 0) + socketErrors,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
