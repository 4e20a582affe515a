/**
 * A throwaway PostgreSQL server for the store's contract tests: initdb + pg_ctl on a free loopback port,
 * run as the unprivileged `postgres` user when we are root (initdb refuses root). Debian's binaries are
 * found under /usr/lib/postgresql/<major>/bin; scripts/postgres.sh installs them when missing.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface PostgresServer {
  url: string;
  stop(): void;
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
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    return execFileSync(file as string, argv as string[], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  };
  run("initdb", ["-D", data, "-U", "mailplane", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`;
  run("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "server.log"), "-w", "start"]);
  run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "mailplane", "mailplane"]);
  return {
    url: `postgres://mailplane@127.0.0.1:${port}/mailplane`,
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
