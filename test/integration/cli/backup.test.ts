/**
 * `mailplane backup` against a running control plane on SQLite: the copy holds every write
 * acknowledged before it began although writes go on (the WAL included), opens as a store, and its
 * master key unseals the domains' DKIM keys; it never overwrites, and leaves nothing half-written.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
import { startControlPlane } from "../../../platform/api/server.ts";
import { BACKUP_MANIFEST, backupDataDir } from "../../../platform/backup/backup.ts";
import { syncPath } from "../../../platform/backup/sync.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { ENGINE_LOCK } from "../../../platform/smtp/engine-on-store.ts";
import { DkimKeyring } from "../../../platform/smtp/policy/dkim-keys.ts";
import { SQLITE_FILE } from "../../../platform/store/index.ts";
import { openSqliteStore } from "../../../platform/store/sqlite.ts";
import { runCli } from "../../support/cli.ts";
import { type Harness, startHarness } from "../api/harness.ts";

const CLI = fileURLToPath(new URL("../../../cli/mailplane.ts", import.meta.url));
const DOMAIN = "backup.example";

/** Runs the CLI in this process with the test's environment (plus `env`). */
const cli = (argv: string[], env: NodeJS.ProcessEnv = process.env) => runCli(argv, env);

/** Runs the CLI as a process of its own, so the platform in this process keeps serving meanwhile. */
function cliProcess(argv: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("mailplane backup", () => {
  let h: Harness;
  let acme: { id: string; token: string };
  const scratch = mkdtempSync(join(tmpdir(), "mp-backup-"));

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" });
    acme = await h.tenant("acme");
    const res = await h.call("PUT", `/v1/domains/${DOMAIN}`, { token: acme.token, body: { name: DOMAIN } });
    expect(res.status, res.text).toBeLessThan(300);
  });

  afterAll(async () => {
    await h?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("holds every write acknowledged before it began while writes go on, the WAL's included", async () => {
    // A reader holding its snapshot keeps every later write in the WAL: checkpoints cannot move them
    // into mailplane.db past it, so a copy of that file alone would lack them all.
    const reader = new DatabaseSync(join(h.dataDir, SQLITE_FILE));
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM sqlite_master").get();
    const acknowledged: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const address = `a${i}@${DOMAIN}`;
        const res = await h.call("PUT", `/v1/domains/${DOMAIN}/aliases/${address}`, {
          token: acme.token,
          body: { address, action: { type: "forward", to: [`x${i}@example.net`] } },
        });
        expect(res.status, res.text).toBeLessThan(300);
        acknowledged.push(address);
      }
    })();
    while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 10));
    expect(statSync(join(h.dataDir, `${SQLITE_FILE}-wal`)).size).toBeGreaterThan(0);
    const before = new Set(acknowledged);
    const to = join(scratch, "live");

    const { code, output } = await cliProcess(["backup", "--data-dir", h.dataDir, "--to", to]);
    const countAfter = acknowledged.length;
    writing = false;
    await writer;
    reader.exec("COMMIT");
    reader.close();
    expect(code, output).toBe(0);
    expect(countAfter).toBeGreaterThan(before.size); // writes went on while the copy was taken

    const db = new DatabaseSync(join(to, SQLITE_FILE));
    try {
      expect(db.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    } finally {
      db.close();
    }
    const store = await openSqliteStore({ path: join(to, SQLITE_FILE) });
    try {
      const page = await store.listObjects({ accountId: acme.id, kind: "Alias", limit: 10_000 });
      const copied = new Set(page.items.map((o) => o.id));
      const missing = [...before].filter((a) => !copied.has(a));
      expect(missing).toEqual([]);
      expect(copied.size).toBeLessThanOrEqual(acknowledged.length);
    } finally {
      await store.close();
    }
  });

  it("copies the master key, so the copy unseals each domain's DKIM key as the platform does", async () => {
    const to = join(scratch, "keys");
    const { code, stdout } = await cli(["backup", "--data-dir", h.dataDir, "--to", to]);
    expect(code).toBe(0);
    expect(stdout).toContain("mailplane.db, master-key, admin-token, backup.json");

    const original = await openSqliteStore({ path: join(h.dataDir, SQLITE_FILE) });
    const copy = await openSqliteStore({ path: join(to, SQLITE_FILE) });
    try {
      const domain = await original.getObject(acme.id, "Domain", DOMAIN);
      const copiedDomain = await copy.getObject(acme.id, "Domain", DOMAIN);
      expect(copiedDomain?.spec).toEqual(domain?.spec);
      const live = new DkimKeyring(original, loadMasterKey(h.dataDir));
      await live.load([domain!]);
      const restored = new DkimKeyring(copy, loadMasterKey(to));
      await restored.load([copiedDomain!]);
      expect(restored.keyOf(copiedDomain!)?.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(restored.keyOf(copiedDomain!)).toEqual(live.keyOf(domain!));
    } finally {
      await copy.close();
      await original.close();
    }

    for (const name of ["mailplane.db", "master-key", "admin-token", BACKUP_MANIFEST]) {
      expect(statSync(join(to, name)).mode & 0o777, name).toBe(0o600);
    }
    const manifest = JSON.parse(readFileSync(join(to, BACKUP_MANIFEST), "utf8"));
    expect(manifest).toMatchObject({
      format: 1,
      store: "sqlite",
      masterKey: "file",
      files: ["mailplane.db", "master-key", "admin-token"],
    });
  });

  it("is a data directory: a control plane started on it answers the tenant's token with the tenancy", async () => {
    const to = join(scratch, "restore");
    expect((await cli(["backup", "--data-dir", h.dataDir, "--to", to])).code).toBe(0);
    const restored = await startControlPlane({ dataDir: to, listen: "127.0.0.1:0", resolver: NO_DNS });
    try {
      const res = await request(`${restored.url}/v1/domains/${DOMAIN}`, {
        headers: { authorization: `Bearer ${acme.token}` },
      });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { name: string }).name).toBe(DOMAIN);
    } finally {
      await restored.close();
    }
  });

  it("refuses a --to that is not empty, naming it, and leaves it as it was", async () => {
    const to = join(scratch, "occupied");
    mkdirSync(to);
    writeFileSync(join(to, "keep.txt"), "mine");
    const { code, stderr } = await cli(["backup", "--data-dir", h.dataDir, "--to", to]);
    expect(code).toBe(1);
    expect(stderr).toContain(`--to ${to} is not empty`);
    expect(readdirSync(to)).toEqual(["keep.txt"]);
  });

  it("refuses a data directory without a store and creates nothing", async () => {
    const empty = join(scratch, "not-a-data-dir");
    mkdirSync(empty);
    const to = join(scratch, "from-nothing");
    const { code, stderr } = await cli(["backup", "--data-dir", empty, "--to", to]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(empty, SQLITE_FILE)} does not exist`);
    expect(existsSync(to)).toBe(false);
  });

  it("removes what it wrote when the snapshot fails", async () => {
    // A store file that is not a database: the snapshot fails after --to was made.
    const broken = join(scratch, "broken");
    mkdirSync(broken);
    writeFileSync(
      join(broken, SQLITE_FILE),
      "not a database, just text that is long enough to be read as a header",
    );
    writeFileSync(join(broken, "master-key"), "x\n");
    const to = join(scratch, "from-broken");
    const { code, stderr } = await cli(["backup", "--data-dir", broken, "--to", to]);
    expect(code).toBe(1);
    expect(stderr).toContain("snapshot of");
    expect(existsSync(to)).toBe(false);
  });

  it("with MAILPLANE_MASTER_KEY, copies no key file and says the key must be kept with the backup", async () => {
    const to = join(scratch, "env-key");
    const env = { ...process.env, MAILPLANE_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") };
    const { code, stderr } = await cli(["backup", "--data-dir", h.dataDir, "--to", to], env);
    expect(code).toBe(0);
    expect(stderr).toContain("$MAILPLANE_MASTER_KEY");
    expect(existsSync(join(to, "master-key"))).toBe(false);
    expect(JSON.parse(readFileSync(join(to, BACKUP_MANIFEST), "utf8")).masterKey).toBe("environment");
  });

  it("with a PostgreSQL store, copies the key files and points to pg_dump for the database", async () => {
    const to = join(scratch, "postgres");
    const { code, stderr } = await cli([
      "backup",
      "--data-dir",
      h.dataDir,
      "--to",
      to,
      "--database-url",
      "postgres://db.invalid/mailplane",
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain("pg_dump");
    expect(existsSync(join(to, SQLITE_FILE))).toBe(false);
    expect(JSON.parse(readFileSync(join(to, BACKUP_MANIFEST), "utf8"))).toMatchObject({
      store: "postgresql",
      files: ["master-key", "admin-token"],
    });
  });

  it("needs --to (usage error, exit 2)", async () => {
    const { code, stderr } = await cli(["backup", "--data-dir", h.dataDir]);
    expect(code).toBe(2);
    expect(stderr).toContain("--to <dir> is required");
  });
});

describe("mailplane backup --with-mail", () => {
  let h: Harness;
  const scratch = mkdtempSync(join(tmpdir(), "mp-backup-mail-"));
  let smtp = "";
  let socketServer: Server | undefined;
  const sleepers: ChildProcess[] = [];

  /** A process that runs until the test ends: its pid stands for a running engine's. */
  function runningPid(): number {
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    sleepers.push(child);
    return child.pid!;
  }

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" });
    smtp = join(h.dataDir, "smtp");
    const files: Record<string, string> = {
      "spool/journal-000001.log": "journal record",
      "spool/deferred/m1.eml": "deferred message",
      "quarantine/q1.eml": "quarantined message",
      "mail/ana@mail.example/new/1.eml": "delivered message",
      "message-log/2026-12-04.jsonl": "{}",
      "rspamd/redis/dump.rdb": "bayes",
      "rspamd/run/rspamd.pid": "4242",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(smtp, path)), { recursive: true });
      writeFileSync(join(smtp, path), text);
    }
    // A socket of a supervised daemon: not a file to copy.
    socketServer = createServer();
    await new Promise<void>((r) => socketServer!.listen(join(smtp, "rspamd", "run", "normal.sock"), r));
  });

  afterAll(async () => {
    for (const s of sleepers) s.kill();
    await new Promise((r) => socketServer?.close(r));
    await h?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("with no engine running, copies every regular file exactly while holding the engine's lock", async () => {
    const to = join(scratch, "exact");
    const lockHolders: string[] = [];
    const manifest = backupDataDir({
      dataDir: h.dataDir,
      to,
      withMail: true,
      afterMailFolder: () => lockHolders.push(readFileSync(join(smtp, ENGINE_LOCK), "utf8")),
    });
    expect(manifest.mail).toEqual({ mode: "exact", files: 6 });
    // The backup held the lock for the whole copy (no engine could start), and let it go after.
    expect(new Set(lockHolders)).toEqual(new Set([String(process.pid)]));
    expect(existsSync(join(smtp, ENGINE_LOCK))).toBe(false);
    expect(readFileSync(join(to, "smtp/mail/ana@mail.example/new/1.eml"), "utf8")).toBe("delivered message");
    expect(readFileSync(join(to, "smtp/spool/deferred/m1.eml"), "utf8")).toBe("deferred message");
    expect(readFileSync(join(to, "smtp/rspamd/redis/dump.rdb"), "utf8")).toBe("bayes");
    expect(existsSync(join(to, "smtp/rspamd/run/rspamd.pid"))).toBe(false);
    expect(existsSync(join(to, "smtp/rspamd/run/normal.sock"))).toBe(false);
  });

  it("beside a running engine, copies in the order mail moves: a message delivered mid-copy is not lost", async () => {
    writeFileSync(join(smtp, ENGINE_LOCK), String(runningPid()));
    writeFileSync(join(smtp, "spool/journal-000002.log"), "in flight");
    const to = join(scratch, "live");
    let moved = false;
    const manifest = backupDataDir({
      dataDir: h.dataDir,
      to,
      withMail: true,
      // Right after the first of the two folders is copied, the engine delivers the message.
      afterMailFolder: (name) => {
        if (moved || (name !== "spool" && name !== "mail")) return;
        renameSync(join(smtp, "spool/journal-000002.log"), join(smtp, "mail/ana@mail.example/new/2.eml"));
        moved = true;
      },
    });
    expect(manifest.mail?.mode).toBe("live");
    const inSpool = existsSync(join(to, "smtp/spool/journal-000002.log"));
    const inMailbox = existsSync(join(to, "smtp/mail/ana@mail.example/new/2.eml"));
    expect(inSpool || inMailbox).toBe(true);
    // The running engine keeps its lock.
    expect(existsSync(join(smtp, ENGINE_LOCK))).toBe(true);
    expect(existsSync(join(to, "smtp", ENGINE_LOCK))).toBe(false);
  });

  it("syncs every file and folder it writes before the manifest, and the folder after the manifest", () => {
    const to = join(scratch, "synced");
    const synced: string[] = [];
    backupDataDir({
      dataDir: h.dataDir,
      to,
      withMail: true,
      sync: (path) => {
        synced.push(path);
        syncPath(path);
      },
    });
    /** Every folder and file of the copy but the manifest (synced as backup.json.partial, then renamed). */
    const written = (dir: string): string[] => [
      dir,
      ...readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.name !== BACKUP_MANIFEST)
        .flatMap((e) => (e.isDirectory() ? written(join(dir, e.name)) : [join(dir, e.name)])),
    ];
    const paths = written(to);
    expect(paths).toContain(join(to, SQLITE_FILE));
    expect(paths).toContain(join(to, "smtp/mail/ana@mail.example/new/1.eml"));
    const manifestAt = synced.indexOf(join(to, `${BACKUP_MANIFEST}.partial`));
    expect(manifestAt).toBeGreaterThan(0);
    for (const path of paths) {
      const at = synced.indexOf(path);
      expect(at, `${path} synced before the manifest`).toBeGreaterThanOrEqual(0);
      expect(at, `${path} synced before the manifest`).toBeLessThan(manifestAt);
    }
    // The rename of the manifest into place is made durable too.
    expect(synced.lastIndexOf(to)).toBeGreaterThan(manifestAt);
  });

  it("refuses a --to inside the mail folders it would copy", () => {
    expect(() =>
      backupDataDir({ dataDir: h.dataDir, to: join(smtp, "mail", "copy"), withMail: true }),
    ).toThrow(/inside the mail folders it would copy/);
    expect(existsSync(join(smtp, "mail", "copy"))).toBe(false);
  });

  it("says so when an engine was running", async () => {
    writeFileSync(join(smtp, ENGINE_LOCK), String(runningPid()));
    const { code, stdout, stderr } = await cli([
      "backup",
      "--data-dir",
      h.dataDir,
      "--to",
      join(scratch, "cli-live"),
      "--with-mail",
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain("live");
    expect(stderr).toContain("an SMTP engine was running");
  });
});
