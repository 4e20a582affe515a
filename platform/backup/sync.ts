/** fsync(2) of one path, file or folder: what a backup calls before it says a file is safe. */
import { closeSync, fsyncSync, openSync } from "node:fs";

/**
 * Syncs `path` to disk: a file's data, or a folder's entries (so files created or renamed in it
 * survive a power cut).
 * @example syncPath("/backups/x/mailplane.db"); syncPath("/backups/x");
 */
export function syncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
