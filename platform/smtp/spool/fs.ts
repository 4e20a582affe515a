/** The file-system seam of the spool, Maildir and quarantine: node:fs itself in production, a power-loss simulator in tests. */
import {
  closeSync,
  existsSync,
  fdatasync,
  fsync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writevSync,
} from "node:fs";
import { open, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * An open file, as the spool uses it. node's `FileHandle` is one (production passes it through
 * untouched: no wrapper, no extra promise per call).
 */
export interface SpoolFile {
  /** Writes `buffers` at `position` (at the end for a file opened with "a"). */
  writev(buffers: readonly Buffer[], position?: number): Promise<{ bytesWritten: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** fdatasync(2): the file's data (and the size it needs) is on disk when this resolves. */
  datasync(): Promise<void>;
  /** fsync(2). */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** Flags the spool opens files with (fopen style, as node:fs takes them). */
export type OpenFlags = "r" | "r+" | "w" | "wx" | "wx+" | "a";

/**
 * Every file-system call of the journal, the queue's deferred files, Maildir delivery, the
 * quarantine and spilled bodies. A directory entry (a create, rename or unlink) is durable only
 * once its directory was synced with {@link SpoolFs.syncDir}; file data only once the file was
 * synced. The synchronous calls exist for start-up scans and for Maildir delivery, which writes on
 * the event loop's thread on purpose (see delivery/maildir.ts).
 */
export interface SpoolFs {
  open(path: string, flags: OpenFlags): Promise<SpoolFile>;
  readFile(path: string): Promise<Buffer>;
  /** Writes a whole file (not synced). */
  writeFile(path: string, data: string | Buffer): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync(2) of a directory: entries created, renamed or removed in it survive a crash. */
  syncDir(path: string): Promise<void>;

  existsSync(path: string): boolean;
  /** Creates one directory (its parent must exist); throws EEXIST when it does. */
  mkdirSync(path: string): void;
  readdirSync(path: string): string[];
  readFileSync(path: string): Buffer;
  sizeSync(path: string): number;
  unlinkSync(path: string): void;
  openSync(path: string, flags: OpenFlags): number;
  writevSync(fd: number, buffers: readonly Buffer[], position: number): number;
  renameSync(from: string, to: string): void;
  closeSync(fd: number): void;
  /** fdatasync(2) of a descriptor, callback style (one thread-pool round trip, no promise). */
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void;
}

async function syncDir(path: string): Promise<void> {
  // Opening and closing a directory are short calls made on the event loop's thread; only the
  // fsync waits for the disk, so it alone goes to the thread pool (one round trip, not three).
  const fd = openSync(path, "r");
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(fd);
  }
}

/**
 * The production file system: node:fs's own functions, passed through (the seam costs one
 * property lookup per call).
 * @example const { journal } = await Journal.open(dir, { fs: nodeFs });
 */
export const nodeFs: SpoolFs = {
  open,
  readFile: (path) => readFile(path),
  writeFile: (path, data) => writeFile(path, data),
  rename,
  unlink,
  syncDir,
  existsSync,
  mkdirSync: (path) => mkdirSync(path),
  readdirSync: (path) => readdirSync(path),
  readFileSync: (path) => readFileSync(path),
  sizeSync: (path) => statSync(path).size,
  unlinkSync,
  openSync,
  writevSync,
  renameSync,
  closeSync,
  fdatasync,
};

/**
 * Creates `dir` and any missing parent, syncing each new directory's parent so the new entries
 * survive a crash (a Maildir or spool folder that vanishes takes its files with it).
 * @example await ensureDir(nodeFs, "/data/mail/example.com/alice/new");
 */
export async function ensureDir(fs: SpoolFs, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const parents = new Set(missing.map((d) => dirname(d)));
  for (const p of parents) await fs.syncDir(p);
}
