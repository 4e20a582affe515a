/**
 * The bulk-mode benchmark: one DomainTenancy of 10,000 objects (aliases and users, 100 users with a
 * password) with the real CLI — first `up`, a no-op `preview`, `refresh`, and `up` of a one-object
 * change — against the targets. Results go to bench/RESULTS.md ("Provider: bulk mode").
 *
 *   npm run bench:bulk -- [--count 10000] [--rounds 3]
 *
 * Each round uses a new stack and a new domain state (destroyed after), so every first `up` creates
 * the whole tenancy; times are medians of the rounds, wall-clock of the whole CLI run.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createPulumiWorkspace } from "../../test/support/pulumi.ts";
import { writeResultsSection } from "../results-file.ts";
import { AS_INSTALLED, startBenchPlatform } from "./fixture.ts";

const here = dirname(fileURLToPath(import.meta.url));
const program = join(here, "programs/bulk");
/** The targets, in seconds. */
const TARGETS: Record<string, number> = { up: 30, "no-op preview": 5, refresh: 5, "one-object change up": 3 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const { values } = parseArgs({
  options: { count: { type: "string", default: "10000" }, rounds: { type: "string", default: "3" } },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const startedAt = new Date();
const load0 = loadavg()[0]!;
console.error("building dist/ (npm run build)");
execFileSync("npm", ["run", "build", "--silent"], { cwd: join(here, "..", ".."), stdio: "inherit" });
const platform = await startBenchPlatform();
const times: Record<string, number[]> = {};
const requests: Record<string, Record<string, number>> = {};
let stateBytes = 0;
try {
  for (let round = 0; round < rounds; round++) {
    const stack = `bulk-${count}-${process.pid}-${round}`;
    const ws = await createPulumiWorkspace(program, stack);
    try {
      await ws.ok(["config", "set", "bench:count", String(count)], AS_INSTALLED);
      await ws.ok(["config", "set", "mailplane:endpoint", platform.url], AS_INSTALLED);
      await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token], AS_INSTALLED);
      const time = async (name: string, args: string[]) => {
        platform.resetCount();
        const start = performance.now();
        await ws.ok(args, AS_INSTALLED);
        const seconds = (performance.now() - start) / 1000;
        times[name] = [...(times[name] ?? []), seconds];
        requests[name] = platform.counts();
        console.error(`round ${round + 1}: ${name} ${seconds.toFixed(1)} s`);
      };
      await time("up", ["up", "--yes", "--skip-preview"]);
      await time("no-op preview", ["preview", "--expect-no-changes"]);
      await time("refresh", ["refresh", "--yes", "--skip-preview"]);
      await ws.ok(["config", "set", "bench:step", "change"], AS_INSTALLED);
      await time("one-object change up", ["up", "--yes", "--skip-preview"]);
      stateBytes = (await ws.ok(["stack", "export"], AS_INSTALLED)).stdout.length;
      await ws.ok(["destroy", "--yes", "--skip-preview"], AS_INSTALLED);
    } finally {
      await ws.dispose();
      execFileSync("rm", ["-f", join(program, `Pulumi.${stack}.yaml`)]);
    }
  }
} finally {
  await platform.close();
}
const pulumi = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
const rows = Object.entries(times).map(([name, list]) => {
  const m = median(list);
  const target = TARGETS[name]!;
  const calls = Object.entries(requests[name] ?? {})
    .map(([method, n]) => `${n} ${method}`)
    .join(", ");
  return `| ${name} | ${m.toFixed(1)} | ${list.map((t) => t.toFixed(1)).join(" / ")} | ≤ ${target} | ${m <= target ? "met" : "**not met**"} | ${calls || "none"} |`;
});
const text = [
  "## Provider: bulk mode",
  "",
  `Run ${startedAt.toISOString().slice(0, 10)} with \`npm run bench:bulk -- --count ${count} --rounds ${rounds}\` on ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Pulumi ${pulumi}; 1-minute load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} (a shared machine).`,
  `One DomainTenancy of ${count.toLocaleString("en")} objects: the domain, ${Math.floor((count - 1) / 2).toLocaleString("en")} aliases (two forwards each) and ${Math.ceil((count - 1) / 2).toLocaleString("en")} users, 100 of them with a password (argon2id, hashed on the control plane's thread pool). File backend, SQLite control plane in the bench process, compiled dist/.`,
  `Each round: a new stack; first \`up\`, \`preview --expect-no-changes\`, \`refresh\`, then \`up\` of a one-field change of one user. Times are medians of ${rounds} round(s) (each round listed), wall-clock of the whole CLI run. State after the rounds: ${(stateBytes / 1024).toFixed(0)} KiB for the stack (one resource).`,
  "",
  "| scenario | median s | rounds s | target s | | requests (last round) |",
  "|---|---:|---|---:|---|---|",
  ...rows,
];
console.log(writeResultsSection("## Provider: bulk mode", text.join("\n")));
