/** `mailplane backup`: an online copy of the control plane's store and key files, taken while the platform runs. */
import { BACKUP_MANIFEST, BackupError, backupDataDir } from "../../platform/backup/backup.ts";
import { type Command, type CommandIo, UsageError } from "../command.ts";
import { DEFAULT_DATA_DIR, optionReader, parseFlags, postgresUrl } from "../options.ts";

const usage = `usage: mailplane backup --to <dir> [options]

Copies what the control plane needs to come back, while it runs:
  mailplane.db   the SQLite store — every tenancy, user, token, setting and audit entry — read as
                 one consistent snapshot (writes committed before the copy began, none after)
  master-key     the key that unseals each domain's DKIM private key: without it a restored
                 platform cannot sign mail and must rotate every domain's key
  admin-token    the first platform-admin token, if the file is still there
  ${BACKUP_MANIFEST.padEnd(13)}  what the copy holds; written last, so a copy without it is incomplete
  smtp/          with --with-mail: the engine's spool, quarantine, mailboxes and message log.
                 With no engine running the copy is exact (the backup holds the engine's lock, so
                 none starts meanwhile); beside a running engine the folders are copied in the
                 order mail moves through them, and a message released from quarantine during the
                 copy can be missing (stop the engine, or copy a file-system snapshot, for an exact copy)
Every file is synced to disk before the command exits 0. The copy is a data directory: restore by
stopping the platform and starting it on the copy (mailplane serve --data-dir <dir>), or by moving
its files into place and deleting the mailplane.db-wal and mailplane.db-shm left there (they belong
to the database you replace).

With a PostgreSQL store (--database-url) the database is not in the data directory: back it up
with pg_dump; this command then copies the key files. With $MAILPLANE_MASTER_KEY the master key is
not a file: keep it with the backup yourself.

options:
  --to <dir>              where the copy goes; must not exist or be empty
  --data-dir <dir>        the data directory              [$MAILPLANE_DATA_DIR, default ${DEFAULT_DATA_DIR}]
  --database-url <url>    the platform's PostgreSQL store  [$MAILPLANE_DATABASE_URL]
  --with-mail             also copy <data-dir>/smtp          [default: the store and keys only]
  -h, --help              this help

Exit codes: 0 copied, 1 the copy could not be made (nothing left half-written), 2 usage.
`;

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, {
    to: { type: "string" },
    "data-dir": { type: "string" },
    "database-url": { type: "string" },
    "with-mail": { type: "boolean" },
  });
  const opt = optionReader(values, io.env);
  if (!values.to) throw new UsageError("--to <dir> is required");
  const dataDir = opt("data-dir", "MAILPLANE_DATA_DIR") ?? DEFAULT_DATA_DIR;
  const postgres = postgresUrl(opt("database-url", "MAILPLANE_DATABASE_URL")) !== undefined;
  const masterKeyFromEnvironment = Boolean(io.env.MAILPLANE_MASTER_KEY);
  try {
    const manifest = backupDataDir({
      dataDir,
      to: values.to,
      postgres,
      masterKeyFromEnvironment,
      withMail: values["with-mail"] === true,
    });
    const mail = manifest.mail ? `, smtp/ (${manifest.mail.files} files, ${manifest.mail.mode})` : "";
    io.stdout(`mailplane backup: ${values.to}: ${manifest.files.join(", ")}${mail}, ${BACKUP_MANIFEST}\n`);
    if (manifest.mail?.mode === "live") {
      io.stderr(
        "mailplane backup: an SMTP engine was running: mail was copied in the order it moves (spool, quarantine, mailboxes); a message released from quarantine during the copy can be missing — stop the engine for an exact copy\n",
      );
    }
    if (manifest.store === "postgresql") {
      io.stderr("mailplane backup: the store is PostgreSQL: back up its database with pg_dump\n");
    }
    if (manifest.masterKey === "environment") {
      io.stderr(
        "mailplane backup: the master key comes from $MAILPLANE_MASTER_KEY and is not in the copy: keep it with the backup\n",
      );
    } else if (manifest.masterKey === "none") {
      io.stderr("mailplane backup: no master key in the data directory: the copy cannot unseal DKIM keys\n");
    }
    return 0;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    io.stderr(`mailplane backup: ${error.message}\n`);
    return 1;
  }
}

export const command: Command = {
  name: "backup",
  summary: "copy the control plane's store and key files while it runs (online, consistent)",
  usage,
  run,
};
