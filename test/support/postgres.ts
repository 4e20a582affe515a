/**
 * A throwaway PostgreSQL server for the store's contract tests: initdb + pg_ctl on a free loopback port,
 * run as the unprivileged `postgres` user when we are root (initdb refuses root). Debian's binaries are
 * found under /usr/lib/postgresql/<major>/bin; scripts/postgres.sh installs them when missing.
 * Fault tests stop and start the same server (same data, same port) or freeze it (SIGSTOP).
 */
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const execFileAsync = promisify(execFile);

export interface PostgresServer {
  url: string;
  stop(): void;
  /** Shuts the server down (`pg_ctl stop -m fast`): connections are refused until `start`. */
  halt(): Promise<void>;
  /** Starts the halted server again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * SIGSTOP to the postmaster and every backend: connections are still accepted by the kernel and
   * open connections stay up, but nothing answers (a hung database) until `thaw`.
   */
  freeze(): void;
  /** SIGCONT to the processes `freeze` stopped. */
  thaw(): void;
}

/** The postmaster's PID (first line of postmaster.pid) and its children's, from /proc. */
function serverProcesses(data: string): number[] {
  const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const children = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the ")".
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

export function findPostgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], "bin") : undefined;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries not found: run `bash scripts/postgres.sh install`");
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), "mailplane-pg-"));
  const data = join(dir, "data");
  if (asRoot) {
    const pgUid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const pgGid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, pgUid, pgGid);
    chmodSync(dir, 0o700);
  }
  const command = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args];
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = command(cmd, args);
    return execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] }).toString();
  };
  // Asynchronous, so a control plane in the test's own process keeps answering meanwhile.
  const runAsync = async (cmd: string, args: string[]) => {
    const [file, argv] = command(cmd, args);
    await execFileAsync(file, argv);
  };
  let frozen: number[] = [];
  const thaw = () => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Gone already.
      }
    }
  };
  run("initdb", ["-D", data, "-U", "mailplane", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`;
  const startArgs = ["-D", data, "-o", opts, "-l", join(dir, "server.log"), "-w", "start"];
  run("pg_ctl", startArgs);
  run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "mailplane", "mailplane"]);
  return {
    url: `postgres://mailplane@127.0.0.1:${port}/mailplane`,
    stop() {
      try {
        thaw();
        if (existsSync(join(data, "postmaster.pid")))
          run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    halt: () => runAsync("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]),
    start: () => runAsync("pg_ctl", startArgs),
    freeze() {
      frozen = serverProcesses(data);
      for (const pid of frozen) process.kill(pid, "SIGSTOP");
    },
    thaw,
  };
}
