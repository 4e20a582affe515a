/**
 * A control plane for the tenancy crash test, run as its own process: once the arm file exists, it
 * kills itself with SIGKILL right before the Nth statement of its next write transaction — in the
 * middle of a tenancy apply, with nothing committed. The kill is injected at the store's driver seam
 * (the SqlDriver that faults.ts wraps), the only test-only part; the rest is the real server.
 *
 * Env: CRASH_DATA_DIR, CRASH_DATABASE_URL + CRASH_DATABASE_SCHEMA (PostgreSQL; else SQLite in the data
 * dir), CRASH_ARM_FILE, CRASH_KILL_AT (1-based statement number; 0: never). Prints `READY <url>`.
 */
import { existsSync } from "node:fs";
import { startControlPlane } from "../../../../platform/api/server.ts";
import { NO_DNS } from "../../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../../platform/smtp/delivery/egress.ts";
import { openStore } from "../../../../platform/store/index.ts";
import type { SqlDriver, SqlExecutor } from "../../../../platform/store/sql.ts";

const env = process.env;
const dataDir = env.CRASH_DATA_DIR!;
const killAt = Number(env.CRASH_KILL_AT ?? 0);
const store = await openStore({
  dataDir,
  databaseUrl: env.CRASH_DATABASE_URL || undefined,
  ...(env.CRASH_DATABASE_SCHEMA ? { schema: env.CRASH_DATABASE_SCHEMA } : {}),
});

const holder = store as unknown as { driver: SqlDriver };
const inner = holder.driver;
let statements = 0;
holder.driver = {
  ...inner,
  dialect: inner.dialect,
  read: (fn) => inner.read(fn),
  readConsistent: (fn) => inner.readConsistent(fn),
  bump: (q, change) => inner.bump(q, change),
  announce: (q, revision) => inner.announce(q, revision),
  committed: () => inner.committed(),
  subscribe: (onWake) => inner.subscribe(onWake),
  close: () => inner.close(),
  ...(inner.generation ? { generation: () => inner.generation!() } : {}),
  transaction: (fn, options) =>
    inner.transaction((q) => {
      if (killAt === 0 || !existsSync(env.CRASH_ARM_FILE!)) return fn(q);
      const dying: SqlExecutor = {
        all: (sql, params) => {
          if (++statements >= killAt) process.kill(process.pid, "SIGKILL");
          return q.all(sql, params);
        },
        run: (sql, params) => {
          if (++statements >= killAt) process.kill(process.pid, "SIGKILL");
          return q.run(sql, params);
        },
      };
      return fn(dying);
    }, options),
};

const cp = await startControlPlane({
  dataDir,
  store,
  listen: "127.0.0.1:0",
  resolver: NO_DNS,
  egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
  logger: false as never,
});
process.stdout.write(`READY ${cp.url}\n`);
