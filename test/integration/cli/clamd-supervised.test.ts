/** `mailplane serve --clamd auto`: the platform starts clamd (generated config, local socket, a signature database the test writes), quarantines EICAR through it, restarts it, stops it. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { clamdPing, startClamd } from "../../../platform/smtp/content/clamd-supervisor.ts";
import { EICAR, FOUND, writeEicarDatabase } from "../smtp/support/eicar.ts";
import { freePort, swaks } from "../smtp/support/harness.ts";

const CLI = fileURLToPath(new URL("../../../cli/mailplane.ts", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Whether a process with this PID is still running (and not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The PID clamd wrote into its PidFile in `<data-dir>/clamav`. */
function clamdPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "clamav", "clamd.pid"), "utf8").trim());
}

/** Starts `mailplane serve` and resolves once its start-up output is complete; rejects when it exits first. */
async function serve(
  args: string[],
): Promise<{ child: ChildProcess; output: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, MAILPLANE_CLAMD: undefined, MAILPLANE_CLAMD_DATABASE: undefined },
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await Promise.race([
    new Promise<void>((resolve) =>
      child.stdout!.on("data", () => /listening on http/.test(output) && resolve()),
    ),
    exit.then((code) => {
      throw new Error(`mailplane serve exited ${code}: ${output}`);
    }),
  ]);
  return { child, output: () => output, exit };
}

/** Runs `mailplane serve` expecting it to refuse to start; returns its exit code and output. */
async function serveRefused(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, output };
}

describe("mailplane serve --clamd auto", () => {
  let dataDir: string;
  let db: string;
  let served: Awaited<ReturnType<typeof serve>>;
  let smtpPort: number;
  let token: string;
  let url: string;

  const call = (method: "PUT" | "GET", path: string, body?: unknown) =>
    request(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "mailplane-account": "acme",
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  const sendEicar = (subject: string) =>
    swaks(smtpPort, [
      "--to",
      "alice@virus-serve.example",
      "--from",
      "s@outside.example",
      "--header",
      `Subject: ${subject}`,
      "--attach-type",
      "application/octet-stream",
      "--attach-name",
      "invoice.txt",
      "--attach",
      EICAR,
    ]);

  beforeAll(async () => {
    dataDir = tempDir("mp-clamd-serve-");
    db = writeEicarDatabase(join(tempDir("mp-clamd-db-"), "db"));
    smtpPort = await freePort();
    served = await serve([
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--smtp-listen",
      `127.0.0.1:${smtpPort}`,
      "--submission-listen",
      "off",
      "--no-dns",
      "--trust-all-domains",
      "--log-level",
      "silent",
      "--rspamd",
      "off",
      "--clamd",
      "auto",
      "--clamd-database",
      db,
    ]);
    url = /control plane listening on (http:\/\/\S+)/.exec(served.output())![1]!;
    token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    expect((await call("PUT", "/v1/accounts/acme", { id: "acme", name: "ACME" })).statusCode).toBe(201);
    expect(
      (await call("PUT", "/v1/domains/virus-serve.example", { name: "virus-serve.example" })).statusCode,
    ).toBe(201);
    const user = { address: "alice@virus-serve.example", password: "Correct-Horse-7" };
    expect(
      (await call("PUT", `/v1/domains/virus-serve.example/users/${user.address}`, user)).statusCode,
    ).toBe(201);
  }, 120_000);
  afterAll(async () => {
    if (served?.child.exitCode === null) {
      served.child.kill("SIGTERM");
      await served.exit;
    }
  });

  it("starts clamd on a generated config and socket in <data-dir>/clamav and says so", () => {
    const socket = join(dataDir, "clamav", "clamd.sock");
    expect(served.output()).toContain(`mailplane: virus scanning: clamd (supervised, ${socket})\n`);
    const config = readFileSync(join(dataDir, "clamav", "clamd.conf"), "utf8");
    expect(config).toContain(`DatabaseDirectory ${db}\n`);
    expect(config).toContain(`LocalSocket ${socket}\n`);
    expect(alive(clamdPid(dataDir))).toBe(true);
  });

  it("quarantines EICAR as virus with 550 5.7.1 and counts it in the statistics API; delivers clean mail", async () => {
    // The engine takes the new user once its policy refreshed.
    await vi.waitFor(
      async () => {
        const rcpt = await swaks(smtpPort, [
          "--to",
          "alice@virus-serve.example",
          "--from",
          "s@outside.example",
          "--quit-after",
          "RCPT",
        ]);
        expect(rcpt.replyTo("RCPT")?.code).toBe(250);
      },
      { timeout: 10_000 },
    );
    const sent = await sendEicar("eicar through serve");
    expect(sent.replyTo("."), sent.output).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(sent.replyTo(".")!.text).toContain(`virus ${FOUND}`);
    const clean = await swaks(smtpPort, [
      "--to",
      "alice@virus-serve.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: clean",
    ]);
    expect(clean.replyTo(".")?.code, clean.output).toBe(250);
    const since = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    const res = await call("GET", `/v1/domains/virus-serve.example/statistics?since=${since}`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ viruses: 1, quarantined: 1 });
  });

  it("restarts clamd when it dies, and scans with the new one", async () => {
    const first = clamdPid(dataDir);
    process.kill(first, "SIGKILL");
    const socket = join(dataDir, "clamav", "clamd.sock");
    await vi.waitFor(
      async () => {
        expect(existsSync(join(dataDir, "clamav", "clamd.pid")) && clamdPid(dataDir)).not.toBe(first);
        expect(await clamdPing(socket)).toBe(true);
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(served.output()).toContain("mailplane serve: clamd exited (SIGKILL); restarting in 1000 ms\n");
    const sent = await sendEicar("eicar after restart");
    expect(sent.replyTo(".")!.text).toContain(`virus ${FOUND}`);
  }, 90_000);

  it("stops clamd when serve shuts down", async () => {
    const pid = clamdPid(dataDir);
    served.child.kill("SIGTERM");
    expect(await served.exit).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  it("replaces a clamd left running by a serve that was killed, on the next start", async () => {
    const args = served.child.spawnargs.slice(3);
    const killed = await serve(args);
    const orphan = clamdPid(dataDir);
    killed.child.kill("SIGKILL");
    await killed.exit;
    // SIGKILL gave serve no chance to stop its clamd.
    expect(alive(orphan)).toBe(true);
    const next = await serve(args);
    try {
      expect(alive(orphan)).toBe(false);
      expect(clamdPid(dataDir)).not.toBe(orphan);
      expect(await clamdPing(join(dataDir, "clamav", "clamd.sock"))).toBe(true);
    } finally {
      next.child.kill("SIGTERM");
      await next.exit;
    }
  }, 120_000);
});

describe("mailplane serve --clamd auto: refusals", () => {
  const base = (dataDir: string) => [
    "--data-dir",
    dataDir,
    "--listen",
    "127.0.0.1:0",
    "--smtp-listen",
    "127.0.0.1:0",
    "--submission-listen",
    "off",
    "--no-dns",
    "--rspamd",
    "off",
    "--log-level",
    "silent",
  ];

  it("refuses to start with a database directory that holds no signatures, naming it", async () => {
    const empty = tempDir("mp-clamd-empty-");
    const run = await serveRefused([
      ...base(tempDir("mp-clamd-serve-")),
      "--clamd",
      "auto",
      "--clamd-database",
      empty,
    ]);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain(`--clamd auto: no ClamAV signatures in ${empty}`);
  });

  it("refuses --clamd-database without --clamd auto", async () => {
    const run = await serveRefused([
      ...base(tempDir("mp-clamd-serve-")),
      "--clamd",
      "/run/clamav/clamd.ctl",
      "--clamd-database",
      "/var/lib/clamav",
    ]);
    expect(run.code, run.output).toBe(2);
    expect(run.output).toContain("--clamd-database applies only to --clamd auto");
  });

  it("fails at once, quoting clamd's error, when clamd exits before it ever answered (a broken database)", async () => {
    const broken = tempDir("mp-clamd-broken-");
    writeFileSync(join(broken, "broken.hdb"), "this is not a signature\n");
    await expect(
      startClamd({ dir: tempDir("mp-clamd-dir-"), databaseDir: broken, readyTimeoutMs: 60_000 }),
    ).rejects.toThrow(/^clamd exited before answering PING: .*ERROR/);
  }, 30_000);

  it("says clamd is not installed when its binary is missing", async () => {
    await expect(
      startClamd({ dir: tempDir("mp-clamd-none-"), clamdBin: "/nonexistent/sbin/clamd" }),
    ).rejects.toThrow("--clamd auto: clamd is not installed (Debian package clamav-daemon)");
  });
});
