/**
 * Copies the SMTP engine's folders (`<data-dir>/smtp`) for a backup: exactly while no engine runs
 * (the backup holds the engine's lock meanwhile), or live in the order mail moves through them.
 */
import { copyFileSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ENGINE_LOCK, engineLockHolder, lockDataDir } from "../smtp/engine-on-store.ts";
import { syncPath } from "./sync.ts";

/**
 * The folders in the order mail moves through them: accepted into the spool, then into the
 * quarantine or a mailbox. Copied in this order while the engine runs, a message that moves during
 * the copy is found at the end it left or the one it reached (at worst twice), never at neither.
 */
export const MAIL_FOLDER_ORDER = ["spool", "quarantine", "mail", "message-log"] as const;

/** How the mail was copied: with no engine running (`exact`), or beside a running one (`live`). */
export type MailCopyMode = "exact" | "live";

/** What {@link copyMailFolders} did. */
export interface MailCopyResult {
  mode: MailCopyMode;
  /** The pid of the engine that was running (`live` only). */
  enginePid?: number;
  /** Regular files copied. */
  files: number;
}

/**
 * Copies `smtpDir` into `to`: every regular file (sockets, pid files and the engine's lock are
 * left out; a file that vanished between listing and copying had moved on, and is copied where it
 * went), each fsynced, each folder fsynced after its files. Without a running engine it takes the
 * engine's lock for the copy, so none starts meanwhile.
 *
 * @param options.afterFolder called after each top-level folder is copied (tests move mail in between)
 * @param options.sync fsync(2) of a path; default {@link syncPath} (tests record the calls)
 * @example
 * const { mode } = copyMailFolders("/var/lib/mailplane/smtp", "/backups/x/smtp"); // "exact"
 */
export function copyMailFolders(
  smtpDir: string,
  to: string,
  options: { afterFolder?: (name: string) => void; sync?: (path: string) => void } = {},
): MailCopyResult {
  const { afterFolder = () => {}, sync = syncPath } = options;
  const enginePid = engineLockHolder(smtpDir);
  const release = enginePid === undefined ? lockDataDir(smtpDir) : () => {};
  try {
    mkdirSync(to, { recursive: true, mode: 0o700 });
    const entries = readdirSync(smtpDir);
    const ordered = [
      ...MAIL_FOLDER_ORDER.filter((name) => entries.includes(name)),
      ...entries.filter((name) => !(MAIL_FOLDER_ORDER as readonly string[]).includes(name)).sort(),
    ];
    let files = 0;
    for (const name of ordered) {
      files += copyEntry(join(smtpDir, name), join(to, name), name, sync);
      afterFolder(name);
    }
    sync(to);
    return enginePid === undefined ? { mode: "exact", files } : { mode: "live", enginePid, files };
  } finally {
    release();
  }
}

/** Copies one file or folder tree; returns the number of regular files copied. */
function copyEntry(from: string, to: string, name: string, sync: (path: string) => void): number {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(from);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0; // moved on meanwhile
    throw err;
  }
  if (stat.isDirectory()) {
    mkdirSync(to, { recursive: true, mode: 0o700 });
    let files = 0;
    for (const child of readdirSync(from).sort())
      files += copyEntry(join(from, child), join(to, child), child, sync);
    sync(to);
    return files;
  }
  if (!stat.isFile() || name === ENGINE_LOCK || name.endsWith(".pid")) return 0;
  try {
    copyFileSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  sync(to);
  return 1;
}
