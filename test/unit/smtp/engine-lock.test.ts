/** One SMTP engine per data directory: `<dir>/engine.lock` refuses a second engine while the first runs, and is taken over from one that died. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ENGINE_LOCK, engineLockHolder, lockDataDir } from "../../../platform/smtp/engine-on-store.ts";

describe("the engine's data-directory lock", () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "mp-engine-lock-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const c of children.splice(0)) c.kill();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("refuses a second engine while the process holding the lock runs, naming it", () => {
    const d = dir();
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(other);
    writeFileSync(join(d, ENGINE_LOCK), String(other.pid));
    expect(engineLockHolder(d)).toBe(other.pid);
    expect(() => lockDataDir(d)).toThrow(`another SMTP engine (pid ${other.pid}) uses ${d}`);
    expect(readFileSync(join(d, ENGINE_LOCK), "utf8")).toBe(String(other.pid));
  });

  it("takes over a lock left by a process that no longer runs, and removes it on release", () => {
    const d = dir();
    const gone = spawnSync("true").pid;
    writeFileSync(join(d, ENGINE_LOCK), String(gone));
    expect(engineLockHolder(d)).toBeUndefined();
    const release = lockDataDir(d);
    expect(readFileSync(join(d, ENGINE_LOCK), "utf8")).toBe(String(process.pid));
    release();
    expect(existsSync(join(d, ENGINE_LOCK))).toBe(false);
  });

  it("does not count this process's own lock as another engine's", () => {
    const d = dir();
    const release = lockDataDir(d);
    expect(engineLockHolder(d)).toBeUndefined();
    release();
  });
});
