/**
 * Online backup of a data directory's control-plane state: the SQLite store as one consistent
 * snapshot taken while the platform runs, and the key files beside it. The copy is itself a data
 * directory (`mailplane serve --data-dir <copy>` starts on it).
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MASTER_KEY_FILE } from "../api/access/sealing.ts";
import { ADMIN_TOKEN_FILE } from "../api/server.ts";
import { packageVersion } from "../package-root.ts";
import { SQLITE_FILE } from "../store/index.ts";
import { copyMailFolders, type MailCopyMode } from "./mail-folders.ts";
import { syncPath } from "./sync.ts";

/** The engine's folder inside the data directory (`mailplane serve` and `mailplane smtp` put it there). */
export const SMTP_FOLDER = "smtp";

/** The manifest a finished backup holds; written last, so a copy without it is incomplete. */
export const BACKUP_MANIFEST = "backup.json";

/** What {@link backupDataDir} copies from. */
export interface BackupInput {
  /** The data directory `mailplane serve` runs on. */
  dataDir: string;
  /** Where the copy goes: must not exist, or be an empty directory. */
  to: string;
  /** The store is PostgreSQL (`--database-url`): its data is not in the data directory and is not copied. */
  postgres?: boolean;
  /** MAILPLANE_MASTER_KEY is set: the master key is not a file, so there is nothing to copy. */
  masterKeyFromEnvironment?: boolean;
  /** Also copy `<dataDir>/smtp` (spool, quarantine, mailboxes, message log): see {@link copyMailFolders}. */
  withMail?: boolean;
  /** fsync(2) of a path written; default {@link syncPath} (tests record the calls). */
  sync?: (path: string) => void;
  /** Called after each mail folder is copied (tests move mail in between). */
  afterMailFolder?: (name: string) => void;
  /** How long the snapshot waits for the store's writers (SQLite busy timeout), ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** What a backup holds, as written to its manifest. */
export interface BackupManifest {
  format: 1;
  createdAt: string;
  mailplaneVersion: string;
  /** `sqlite`: the store is in the copy; `postgresql`: it is not (back it up with pg_dump). */
  store: "sqlite" | "postgresql";
  /** Where the master key that unseals the DKIM private keys is: in the copy, or only in the environment. */
  masterKey: "file" | "environment" | "none";
  /** The files of the copy, besides the manifest and the mail. */
  files: string[];
  /** The mail folders (`smtp/`): copied with no engine running (`exact`), beside one (`live`), or not. */
  mail: { mode: MailCopyMode; files: number } | null;
}

/** A backup that cannot be made: the message names the path at fault. */
export class BackupError extends Error {
  override name = "BackupError";
}

/**
 * Copies `dataDir`'s store and key files into `to`. SQLite's `VACUUM INTO` reads the store in one
 * read transaction, so the copy holds every write committed before it began and none after — the
 * WAL included, which a copy of `mailplane.db` alone would miss. Every file is fsynced, then the
 * folder, then the manifest is written (and synced) last.
 *
 * @throws BackupError when `to` is not empty, or the data directory holds no store.
 * @example
 * const manifest = backupDataDir({ dataDir: ".data", to: "/backups/mailplane-2026-12-04" });
 * manifest.files // ["mailplane.db", "master-key", "admin-token"]
 */
export function backupDataDir(input: BackupInput): BackupManifest {
  const dataDir = resolve(input.dataDir);
  const to = resolve(input.to);
  if (to === dataDir) throw new BackupError(`--to ${to} is the data directory itself`);
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new BackupError(`data directory ${dataDir} does not exist`);
  }
  const database = join(dataDir, SQLITE_FILE);
  if (!input.postgres && !existsSync(database)) {
    throw new BackupError(
      `${database} does not exist: not a mailplane data directory (for a PostgreSQL store give --database-url)`,
    );
  }
  const inside = relative(join(dataDir, SMTP_FOLDER), to);
  if (input.withMail && (inside === "" || (!inside.startsWith("..") && !isAbsolute(inside)))) {
    throw new BackupError(`--to ${to} is inside the mail folders it would copy`);
  }
  if (input.withMail && !existsSync(join(dataDir, SMTP_FOLDER))) {
    throw new BackupError(
      `${join(dataDir, SMTP_FOLDER)} does not exist: no mail to copy (leave out --with-mail)`,
    );
  }
  const created = !existsSync(to);
  if (!created) {
    if (!statSync(to).isDirectory()) throw new BackupError(`--to ${to} exists and is not a directory`);
    if (readdirSync(to).length > 0)
      throw new BackupError(`--to ${to} is not empty: a backup never overwrites`);
  } else {
    mkdirSync(to, { recursive: true, mode: 0o700 });
  }
  try {
    return writeBackup(dataDir, to, input);
  } catch (error) {
    // Nothing half-written stays behind: a folder we made goes, a folder we were given is emptied.
    if (created) rmSync(to, { recursive: true, force: true });
    else for (const name of readdirSync(to)) rmSync(join(to, name), { recursive: true, force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError(`backup into ${to} failed: ${(error as Error).message}`);
  }
}

function writeBackup(dataDir: string, to: string, input: BackupInput): BackupManifest {
  const database = join(dataDir, SQLITE_FILE);
  const sync = input.sync ?? syncPath;
  const files: string[] = [];
  if (!input.postgres) {
    snapshotSqlite(database, join(to, SQLITE_FILE), input.busyTimeoutMs ?? 5000, sync);
    files.push(SQLITE_FILE);
  }
  // With MAILPLANE_MASTER_KEY set the platform ignores a master-key file: copying one would restore the wrong key.
  const keyFiles = input.masterKeyFromEnvironment ? [ADMIN_TOKEN_FILE] : [MASTER_KEY_FILE, ADMIN_TOKEN_FILE];
  for (const name of keyFiles) {
    const from = join(dataDir, name);
    if (!existsSync(from)) continue;
    copyFileSync(from, join(to, name));
    chmodSync(join(to, name), 0o600);
    sync(join(to, name));
    files.push(name);
  }
  const mail = input.withMail
    ? copyMailFolders(join(dataDir, SMTP_FOLDER), join(to, SMTP_FOLDER), {
        ...(input.afterMailFolder ? { afterFolder: input.afterMailFolder } : {}),
        sync,
      })
    : null;
  sync(to);

  const manifest: BackupManifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    mailplaneVersion: packageVersion(),
    store: input.postgres ? "postgresql" : "sqlite",
    masterKey: input.masterKeyFromEnvironment
      ? "environment"
      : files.includes(MASTER_KEY_FILE)
        ? "file"
        : "none",
    files,
    mail: mail ? { mode: mail.mode, files: mail.files } : null,
  };
  const partial = join(to, `${BACKUP_MANIFEST}.partial`);
  writeFileSync(partial, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  sync(partial);
  renameSync(partial, join(to, BACKUP_MANIFEST));
  sync(to);
  return manifest;
}

/** `VACUUM INTO` on a connection of its own: one read transaction, so one consistent state. */
function snapshotSqlite(
  database: string,
  target: string,
  busyTimeoutMs: number,
  sync: (path: string) => void,
): void {
  const db = new DatabaseSync(database);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.prepare("VACUUM INTO ?").run(target);
  } catch (error) {
    throw new BackupError(`snapshot of ${database} failed: ${(error as Error).message}`);
  } finally {
    db.close();
  }
  // It holds password hashes and sealed keys: the owner's alone, as the data directory's files are.
  chmodSync(target, 0o600);
  // SQLite leaves the new file unsynced; the copy must survive a power cut once we say it is done.
  sync(target);
}
