/**
 * `make demo` — for now, the foundation's smoke program: the real Pulumi CLI runs one dynamic resource
 * through up and destroy on Node 24. The full demo (platform, tenancy, mail) replaces this.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const program = join(import.meta.dirname, "..", "test", "e2e", "smoke", "program");
const scratch = mkdtempSync(join(tmpdir(), "mailplane-demo-"));
const env = { ...process.env, PULUMI_BACKEND_URL: `file://${scratch}` };
const pulumi = (...args: string[]) =>
  execFileSync("pulumi", [...args, "--stack", "demo", "--non-interactive"], {
    cwd: program,
    env,
    stdio: "inherit",
  });

try {
  execFileSync("pulumi", ["stack", "init", "demo", "--non-interactive"], {
    cwd: program,
    env,
    stdio: "inherit",
  });
  pulumi("config", "set", "smoke:path", join(scratch, "marker.txt"));
  pulumi("up", "--yes");
  pulumi("destroy", "--yes");
  pulumi("stack", "rm", "--yes");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
