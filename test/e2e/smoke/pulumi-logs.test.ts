/**
 * The toolchain keeps the Pulumi CLI's automatic run logs small inside a checkout: 2 days and 100 MB
 * instead of the CLI's 7 days and 500 MB (scripts/toolchain.sh). The real CLI applies the rotation
 * when a command starts.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);

/** A log file name as the CLI writes it, stamped `daysAgo` days before now (UTC). */
function logName(daysAgo: number, pid: number): string {
  const stamp = new Date(Date.now() - daysAgo * 86_400_000).toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `pulumi-${stamp}-${pid}-up.log`;
}

describe("Pulumi's automatic run logs inside the checkout", () => {
  let home = "";
  afterEach(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("drops logs older than two days when the next command starts", async () => {
    expect(process.env.PULUMI_LOG_ROTATION_MAX_AGE_DAYS, "tests run through scripts/run.sh").toBe("2");
    expect(process.env.PULUMI_LOG_ROTATION_MAX_TOTAL_MB).toBe("100");
    home = await mkdtemp(join(tmpdir(), "mp-pulumi-home-"));
    await mkdir(join(home, "logs"));
    const old = logName(4, 1); // kept by the CLI's own 7-day default
    const fresh = logName(0, 2);
    await writeFile(join(home, "logs", old), "");
    await writeFile(join(home, "logs", fresh), "");

    await run("pulumi", ["version"], { env: { ...process.env, PULUMI_HOME: home } });

    const left = await readdir(join(home, "logs"));
    expect(left).not.toContain(old);
    expect(left).toContain(fresh);
  });
});
