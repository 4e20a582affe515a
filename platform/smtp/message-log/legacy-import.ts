/** Imports the single-file message log of versions before domain lifetimes into the per-owner log, once. */
import { rename, stat } from "node:fs/promises";
import type { Owner } from "../owners.ts";
import type { MessageLog } from "./entry.ts";
import { isUpdate, readLogFile } from "./files.ts";

/**
 * Streams `file` (the old `<data>/message-log.jsonl`: entries and delivery updates, one JSON object
 * a line) into `log`, each entry under the owner `ownerOf` gives its domain, then renames the file to
 * `<file>.imported` so the next start skips it. Entries of domains `ownerOf` does not know (deleted
 * before the upgrade) are left out. Resolves to the number of entries imported (0 without a file).
 *
 * @example
 * await importLegacyLog(join(dataDir, "message-log.jsonl"), log, (d) => ownerOfLegacyDomain(d));
 */
export async function importLegacyLog(
  file: string,
  log: MessageLog,
  ownerOf: (domain: string) => Owner | undefined,
): Promise<number> {
  try {
    await stat(file);
  } catch {
    return 0;
  }
  // Entry ID → its view, so a later update line reaches the entry (IDs and owners only, not entries).
  const views = new Map<string, { owner: Owner; recipients: string[] }>();
  let imported = 0;
  await readLogFile(file, (line) => {
    if (isUpdate(line)) {
      const view = views.get(line.update);
      if (view) log.update(line.update, [view], line.delivery, line.detail);
      return;
    }
    const owner = line.domain ? ownerOf(line.domain) : undefined;
    if (!owner) return;
    const { recipients, domain: _domain, ...fields } = line;
    const view = { owner, recipients: Array.isArray(recipients) ? recipients : [] };
    views.set(line.id, view);
    log.record(fields, [view]);
    imported++;
  });
  await rename(file, `${file}.imported`);
  return imported;
}
