/** Runs rspamd and Redis for the engine: a generated offline config in the data directory, restarts on exit, readiness by /ping. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * rspamd modules switched off in the generated config: every one that asks DNS or the network
 * (RBL, URIBL/SURBL, fuzzy storage, MX checks, updates), or keeps state the platform does not run
 * (greylisting, rate limits, reputation, neural, history). SPF, DKIM, DMARC and ARC stay on for
 * other clients of this rspamd; the engine verifies those itself and switches them off per request
 * with {@link RSPAMD_VERIFIED_SETTINGS_ID}.
 */
export const RSPAMD_DISABLED_MODULES = [
  "rbl",
  "asn",
  "fuzzy_check",
  "whitelist",
  "multimap",
  "emails",
  "surbl",
  "rspamd_update",
  "mx_check",
  "phishing",
  "dkim_signing",
  "greylist",
  "ratelimit",
  "reputation",
  "neural",
  "history_redis",
] as const;

/**
 * The settings the engine selects with rspamd's `Settings-ID` request header: the checks it has
 * already made for the message are not made again — SPF (RFC 7208), DKIM (RFC 6376), DMARC
 * (RFC 7489) and ARC (RFC 8617), verified in-process with the engine's DNS cache and enforced by
 * its own DMARC policy and allowlist alignment. Everything that scores content stays on.
 */
export const RSPAMD_VERIFIED_SETTINGS_ID = "mailplane-verified";

/** The symbol groups (rspamd's scores.d) the verified settings switch off, with their checks' callback symbols. */
export const RSPAMD_VERIFIED_GROUPS = ["spf", "dkim", "dmarc", "arc"] as const;
const RSPAMD_VERIFIED_CALLBACKS = ["SPF_CHECK", "DKIM_CHECK", "DMARC_CALLBACK", "ARC_CALLBACK"] as const;

/** Options of {@link startRspamd}. */
export interface RspamdSupervisorOptions {
  /** Where the generated config, Bayes database (Redis) and run files live, e.g. `<data-dir>/rspamd`. */
  dir: string;
  /** The rspamd binary; default `rspamd` on PATH. */
  rspamdBin?: string;
  /** The Redis server binary; default `redis-server` on PATH. */
  redisBin?: string;
  /**
   * Redis persistence: true (default) saves the Bayes data in `<dir>/redis` (RDB snapshots and an
   * append-only file); false keeps it in memory (tests).
   */
  persist?: boolean;
  /** Wait for the first `/ping` → `pong` this long; default 60,000 ms. */
  readyTimeoutMs?: number;
  /** Delay before restarting a process that exited; default 1,000 ms. */
  restartDelayMs?: number;
  /** Told when a process exits and is restarted; default a line on standard error. */
  onWarning?: (message: string) => void;
  /**
   * Also bind the normal worker to a Unix socket, `<dir>/run/normal.sock` (mode 0600: only this
   * user), reached as `unix:<path>` (see {@link SupervisedRspamd.socketPath}): a check then costs
   * no TCP connection. Default false (TCP on loopback only).
   */
  socket?: boolean;
}

/** A running, supervised rspamd (and its Redis). */
export interface SupervisedRspamd {
  /** The normal worker's base URL, e.g. `http://127.0.0.1:40123` (`/checkv2`, `/ping`). */
  url: string;
  /** The controller worker's base URL (learning, statistics). */
  controllerUrl: string;
  /** The normal worker's Unix socket (with `socket: true`), e.g. `/data/rspamd/run/normal.sock`; else undefined. */
  socketPath?: string;
  /** Process IDs of the current rspamd main process and Redis (they change on restart). */
  pids(): { rspamd: number | undefined; redis: number | undefined };
  /** How many times each process was restarted after exiting. */
  restarts(): { rspamd: number; redis: number };
  /** Resolves once rspamd answers `/ping` with `pong`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops both processes and the supervision. */
  close(): Promise<void>;
}

/**
 * Whether rspamd and Redis are installed (found on PATH, or the given binaries exist).
 * @example rspamdInstalled() // true on a machine with the Debian packages rspamd and redis-server
 */
export function rspamdInstalled(rspamdBin = "rspamd", redisBin = "redis-server"): boolean {
  const found = (bin: string) =>
    bin.includes("/") ? existsSync(bin) : spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
  return found(rspamdBin) && found(redisBin);
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the child to bind). */
function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The generated rspamd configuration: the packaged rules ($CONFDIR/common.conf) with our own
 * workers on loopback, console logging, and `local.d`/`override.d` in `dir` that turn off every
 * module that would look something up on the network. DNS points at a closed port so anything
 * left over fails locally instead of leaving the machine.
 */
export function rspamdConfig(
  dir: string,
  ports: { normal: number; controller: number; redis: number },
  socketPath?: string,
) {
  const files: Record<string, string> = {
    "rspamd.conf": [
      "# Generated by mailplane: rewritten on every start.",
      '.include "$CONFDIR/common.conf"',
      "options {",
      '  pidfile = "$RUNDIR/rspamd.pid";',
      '  .include "$CONFDIR/options.inc"',
      '  .include(try=true; priority=10) "$LOCAL_CONFDIR/override.d/options.inc"',
      "}",
      'logging { type = "console"; level = "error"; }',
      'worker "normal" {',
      `  bind_socket = "127.0.0.1:${ports.normal}";`,
      ...(socketPath ? [`  bind_socket = "${socketPath} mode=0600";`] : []),
      '  .include "$CONFDIR/worker-normal.inc"',
      "  count = 1;",
      "}",
      'worker "controller" {',
      `  bind_socket = "127.0.0.1:${ports.controller}";`,
      '  .include "$CONFDIR/worker-controller.inc"',
      "  count = 1;",
      // Only loopback reaches the controller (it is bound there); no password is kept in a file.
      '  secure_ip = "127.0.0.1";',
      "}",
      "",
    ].join("\n"),
    "override.d/options.inc": [
      // No lookup leaves the machine: a nameserver nobody listens on.
      'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 1; }',
      'filters = "chartable,regexp";',
      "",
    ].join("\n"),
    "local.d/redis.conf": `servers = "127.0.0.1:${ports.redis}";\n`,
    "local.d/classifier-bayes.conf": 'backend = "redis";\nmin_learns = 5;\n',
    // rspamd's settings module: a block a request names by `Settings-ID` (no rule selects it).
    "local.d/settings.conf": [
      `${RSPAMD_VERIFIED_SETTINGS_ID} {`,
      `  id = "${RSPAMD_VERIFIED_SETTINGS_ID}";`,
      "  apply {",
      `    symbols_disabled = [${RSPAMD_VERIFIED_CALLBACKS.map((x) => `"${x}"`).join(", ")}];`,
      `    groups_disabled = [${RSPAMD_VERIFIED_GROUPS.map((x) => `"${x}"`).join(", ")}];`,
      "  }",
      "}",
      "",
    ].join("\n"),
    "local.d/hfilter.conf":
      "helo_enabled = false;\nhostname_enabled = false;\nurl_enabled = false;\nfrom_enabled = false;\nrcpt_enabled = false;\nmid_enabled = false;\n",
  };
  for (const module of RSPAMD_DISABLED_MODULES) files[`local.d/${module}.conf`] = "enabled = false;\n";
  // Written out (not left to the defaults) so a data directory from before replaces its old "false".
  for (const module of RSPAMD_VERIFIED_GROUPS) files[`local.d/${module}.conf`] = "enabled = true;\n";
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
  return join(dir, "rspamd.conf");
}

/** The uid/gid of the `_rspamd` user when running as root (rspamd refuses to run workers as root). */
function rspamdUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const r = spawnSync("id", ["-u", "_rspamd"], { encoding: "utf8" });
  const g = spawnSync("id", ["-g", "_rspamd"], { encoding: "utf8" });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Signals a child's whole process group (it was spawned detached, as the group's leader). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** The file naming the process groups a supervisor started in `<dir>/run`, for the next start to clean up. */
const GROUPS_FILE = "mailplane-supervised.json";

/**
 * Kills what a previous supervisor of `runDir` left running: when the engine itself died (SIGKILL,
 * a crash) its rspamd and Redis stayed up, holding memory and ports. Only a group whose leader is
 * still an rspamd or redis-server process is killed (a reused PID is left alone).
 */
async function killLeftovers(runDir: string): Promise<void> {
  let groups: unknown[];
  try {
    groups = Object.values(JSON.parse(readFileSync(join(runDir, GROUPS_FILE), "utf8")));
  } catch {
    return;
  }
  const ours = (pid: number) => {
    try {
      return /rspamd|redis-server/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
    } catch {
      return false;
    }
  };
  const stale = groups.filter(
    (pid): pid is number => Number.isInteger(pid) && (pid as number) > 1 && ours(pid as number),
  );
  for (const pid of stale) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // A killed process keeps its port until it is gone; wait for the leaders (a zombie has no cmdline).
  for (let i = 0; i < 100 && stale.some(ours); i++) await new Promise((r) => setTimeout(r, 50));
}

/** One `/ping` of an rspamd worker: true when it answered `pong`. */
export async function rspamdPing(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()).trim() === "pong";
  } catch {
    return false;
  }
}

/**
 * Starts Redis and rspamd with a generated config in `opts.dir`, restarts either when it exits,
 * and resolves once rspamd answers `/ping` with `pong`. Everything binds to 127.0.0.1 on ports the
 * kernel picked free.
 *
 * @example
 * const rspamd = await startRspamd({ dir: join(dataDir, "rspamd") });
 * const scorer = new RspamdScorer({ url: rspamd.url });
 * await rspamd.close();
 * @throws Error when rspamd does not answer within `readyTimeoutMs`.
 */
export async function startRspamd(opts: RspamdSupervisorOptions): Promise<SupervisedRspamd> {
  const dir = opts.dir;
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`mailplane: ${m}\n`));
  const restartDelay = opts.restartDelayMs ?? 1000;
  const ports = {
    normal: await freeLocalPort(),
    controller: await freeLocalPort(),
    redis: await freeLocalPort(),
  };
  const dbDir = join(dir, "db");
  const runDir = join(dir, "run");
  const socketPath = opts.socket ? join(runDir, "normal.sock") : undefined;
  // sockaddr_un holds 108 bytes: a longer path could not be bound (rspamd would not start).
  if (socketPath && Buffer.byteLength(socketPath) > 100) {
    throw new Error(`rspamd's socket path ${socketPath} is too long for a Unix socket (over 100 bytes)`);
  }
  const config = rspamdConfig(dir, ports, socketPath);
  const redisDir = join(dir, "redis");
  for (const d of [dbDir, runDir, redisDir]) mkdirSync(d, { recursive: true });
  await killLeftovers(runDir);
  const user = rspamdUser();
  if (user) {
    // rspamd's workers run as _rspamd: they write the Bayes-free caches (compiled regexps) in db/
    // and must be able to pass through `dir` (its parents are the operator's to open).
    chmodSync(dir, 0o711);
    for (const d of [dbDir, runDir]) chownSync(d, user.uid, user.gid);
  }

  const persist = opts.persist ?? true;
  const redisArgs = [
    "--port",
    String(ports.redis),
    "--bind",
    "127.0.0.1",
    "--dir",
    redisDir,
    ...(persist ? ["--appendonly", "yes"] : ["--save", "", "--appendonly", "no"]),
  ];
  const rspamdArgs = [
    "-f",
    "-c",
    config,
    `--var=LOCAL_CONFDIR=${dir}`,
    `--var=DBDIR=${dbDir}`,
    `--var=RUNDIR=${runDir}`,
    `--var=LOGDIR=${runDir}`,
    ...(user ? ["-u", "_rspamd", "-g", "_rspamd"] : []),
  ];

  let closing = false;
  const children: { rspamd?: ChildProcess; redis?: ChildProcess } = {};
  const restarts = { rspamd: 0, redis: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const exited: Promise<void>[] = [];

  const launch = (name: "rspamd" | "redis") => {
    const bin = name === "rspamd" ? (opts.rspamdBin ?? "rspamd") : (opts.redisBin ?? "redis-server");
    const child = spawn(bin, name === "rspamd" ? rspamdArgs : redisArgs, {
      stdio: ["ignore", "ignore", "pipe"],
      cwd: dir,
      // Its own process group: when the main process dies (even by SIGKILL), the group is killed
      // so no orphaned worker keeps the port and answers for a restarted rspamd.
      detached: true,
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-2000);
    });
    children[name] = child;
    try {
      writeFileSync(
        join(runDir, GROUPS_FILE),
        JSON.stringify({ rspamd: children.rspamd?.pid, redis: children.redis?.pid }),
      );
    } catch (err) {
      // Only the clean-up after a crash of ours depends on it; scanning goes on.
      warn(`could not record the rspamd/redis process IDs: ${(err as Error).message}`);
    }
    exited.push(
      new Promise((resolve) => {
        child.once("exit", (code, signal) => {
          killGroup(child, "SIGKILL");
          resolve();
          if (closing) return;
          restarts[name]++;
          const tail = stderr.trim().split("\n").at(-1) ?? "";
          warn(
            `${name} exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ""}; restarting in ${restartDelay} ms`,
          );
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!closing) launch(name);
          }, restartDelay);
          timers.add(timer);
        });
        child.once("error", (err) => {
          warn(`${name} could not start: ${err.message}`);
        });
      }),
    );
  };

  launch("redis");
  launch("rspamd");
  const url = `http://127.0.0.1:${ports.normal}`;
  const ready = async (timeoutMs = opts.readyTimeoutMs ?? 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!closing) {
      if (await rspamdPing(url)) return;
      if (Date.now() > deadline) throw new Error(`rspamd did not answer ${url}/ping within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error("rspamd supervisor closed");
  };
  const close = async () => {
    closing = true;
    for (const t of timers) clearTimeout(t);
    for (const child of [children.rspamd, children.redis]) {
      if (child && child.exitCode === null && child.signalCode === null) killGroup(child, "SIGTERM");
    }
    await Promise.all(exited);
  };
  try {
    await ready();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url,
    controllerUrl: `http://127.0.0.1:${ports.controller}`,
    ...(socketPath ? { socketPath } : {}),
    pids: () => ({ rspamd: children.rspamd?.pid, redis: children.redis?.pid }),
    restarts: () => ({ ...restarts }),
    ready,
    close,
  };
}
