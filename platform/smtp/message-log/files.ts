/** The message log on disk: one folder per domain lifetime, JSON-lines files rotated by day and size, read as streams. */
import { createReadStream, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { safeComponent } from "../delivery/maildir.ts";
import type { Owner } from "../owners.ts";
import type { LogEntry } from "./entry.ts";

/** A delivery-status change of an entry, as one line of a log file. */
export interface UpdateLine {
  update: string;
  delivery: NonNullable<LogEntry["delivery"]>;
  detail: string | null;
}

/** A spam or ham report of the owner (an operator trained the filter), as one line of a log file. */
export interface ReportLine {
  report: "spam" | "ham";
  /** Unique within the owner's log: a report is counted once, whether in memory or read from a file. */
  id: string;
  at: string;
}

/** One log file of an owner: its UTC day and its number within the day (size rotation). */
export interface LogFile {
  path: string;
  day: string;
  seq: number;
}

/** The file that describes whose a folder is (names are escaped; this keeps them exact). */
export const OWNER_FILE = "owner.json";

const FILE_NAME = /^(\d{4}-\d{2}-\d{2})_(\d{4,})\.jsonl$/;

/**
 * An owner's folder: `<root>/<account>/<domain>@<generation>` (each part escaped like a Maildir
 * component), so no two lifetimes share one.
 * @example ownerDir("/data/message-log", { accountId: "acme", domain: "example.com", generation: "g1" }) // "/data/message-log/acme/example.com@g1"
 */
export function ownerDir(root: string, owner: Owner): string {
  return join(
    root,
    safeComponent(owner.accountId || "-"),
    `${safeComponent(owner.domain)}@${safeComponent(owner.generation)}`,
  );
}

/** A log file's name: `<YYYY-MM-DD>_<seq>.jsonl`, sorting by day, then by rotation. */
export function logFileName(day: string, seq: number): string {
  return `${day}_${String(seq).padStart(4, "0")}.jsonl`;
}

/** An owner folder's log files, oldest first. */
export function listLogFiles(dir: string): LogFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: LogFile[] = [];
  for (const name of names) {
    const m = FILE_NAME.exec(name);
    if (m) files.push({ path: join(dir, name), day: m[1]!, seq: Number(m[2]) });
  }
  return files.sort((a, b) => (a.day === b.day ? a.seq - b.seq : a.day < b.day ? -1 : 1));
}

/** Every owner folder under `root` with the owner it records (folders without a readable owner file are skipped). */
export function listOwnerDirs(root: string): { dir: string; owner: Owner }[] {
  const out: { dir: string; owner: Owner }[] = [];
  let accounts: string[];
  try {
    accounts = readdirSync(root);
  } catch {
    return out;
  }
  for (const account of accounts) {
    let lifetimes: string[];
    try {
      lifetimes = readdirSync(join(root, account));
    } catch {
      continue;
    }
    for (const lifetime of lifetimes) {
      const dir = join(root, account, lifetime);
      try {
        const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as Owner;
        if (typeof owner.domain === "string" && typeof owner.generation === "string")
          out.push({ dir, owner });
      } catch {
        // created and not yet described (a crash in between): holds no entries either
      }
    }
  }
  return out;
}

/**
 * Reads a log file line by line (a stream: never the whole file as one string) and hands each
 * parsed entry or update to `onLine`, each report line to `onReport` (skipped without one). Lines
 * that do not parse — a torn last line after a crash — are skipped.
 */
export async function readLogFile(
  path: string,
  onLine: (line: LogEntry | UpdateLine) => void,
  onReport?: (line: ReportLine) => void,
): Promise<void> {
  const input = createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.length === 0) continue;
      let item: LogEntry | UpdateLine | ReportLine;
      try {
        item = JSON.parse(line);
      } catch {
        continue;
      }
      if (!item || typeof item !== "object") continue;
      if ("report" in item) {
        if (isReport(item)) onReport?.(item);
      } else onLine(item);
    }
  } catch (err) {
    // A file removed while it was read (retention, purge) simply ends.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  } finally {
    lines.close();
    input.destroy();
  }
}

/** True for an update line. */
export function isUpdate(line: LogEntry | UpdateLine): line is UpdateLine {
  return typeof (line as UpdateLine).update === "string";
}

/** True for a report line. */
export function isReport(line: LogEntry | UpdateLine | ReportLine): line is ReportLine {
  const r = line as ReportLine;
  return (r.report === "spam" || r.report === "ham") && typeof r.id === "string" && typeof r.at === "string";
}
