/** The message log: one entry per transaction outcome and account view, with its delivery status; files per domain lifetime. */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { type FileHandle, mkdir, open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MessageView, Owner } from "../owners.ts";
import type { LogEntry, LogFields, LogQuery, MessageLog } from "./entry.ts";
import {
  isUpdate,
  listLogFiles,
  listOwnerDirs,
  logFileName,
  OWNER_FILE,
  ownerDir,
  type ReportLine,
  readLogFile,
  type UpdateLine,
} from "./files.ts";
import { type DomainStatistics, StatisticsBuilder } from "./statistics.ts";

/** Options of {@link FileMessageLog.open}. */
export interface FileMessageLogOptions {
  /** The log's folder; null keeps the log in memory only. */
  dir: string | null;
  /**
   * Days an owner's entries are kept (its domain's `logRetentionDays`); undefined when the owner's
   * domain lifetime is not declared (any more): such entries are never loaded, searched or swept
   * here — sealing and purging them is the engine's lifecycle's job.
   */
  retentionDays: (owner: Owner) => number | undefined;
  /** Newest entries kept in memory; older ones are searched in the files. Default 100,000. */
  maxEntriesInMemory?: number;
  /** A log file is rotated once it holds this many bytes. Default 64 MiB. */
  maxFileBytes?: number;
  now?: () => number;
}

interface OwnerState {
  owner: Owner;
  key: string;
  dir: string | null;
  /** In-memory entries by ID, oldest first. */
  entries: Map<string, LogEntry>;
  /** In-memory spam/ham reports by ID, oldest first (at most {@link REPORTS_IN_MEMORY}). */
  reports: Map<string, ReportLine>;
  /** True when some of the owner's entries live only in its files (evicted, or not loaded at start). */
  partial: boolean;
  /** The file this run appends to, per day (an update line can fall on another day than its entry). */
  files: Map<string, { day: string; seq: number; size: number }>;
  /** Whether the folder and its owner file exist (written once per run). */
  described: boolean;
  purged: boolean;
}

interface PendingLine {
  state: OwnerState;
  day: string;
  line: string;
}

const DAY_MS = 86_400_000;
/** Reports of one owner kept in memory; older ones are counted from its files (partial). */
export const REPORTS_IN_MEMORY = 10_000;
/** Open log files kept; more active owners than this reopen their file per batch. */
const MAX_OPEN_FILES = 64;

const stateKey = (o: Owner) => `${o.accountId}\n${o.domain}\n${o.generation}`;

/** A matcher for {@link LogQuery} (bounds already resolved). */
function matcher(query: LogQuery): (e: LogEntry) => boolean {
  const sender = query.sender?.toLowerCase();
  const recipient = query.recipient?.toLowerCase();
  const subject = query.subject?.toLowerCase();
  return (e) =>
    (!query.from || e.at >= query.from) &&
    (!query.to || e.at < query.to) &&
    (!sender || e.sender.toLowerCase().includes(sender)) &&
    (!recipient || e.recipients.some((r) => r.toLowerCase().includes(recipient))) &&
    (!subject || e.subject.toLowerCase().includes(subject)) &&
    (!query.classification || e.classification === query.classification);
}

function applyUpdate(e: LogEntry, u: UpdateLine): void {
  e.delivery = u.delivery;
  e.deliveryDetail = u.detail;
}

/**
 * The message log. Each domain lifetime (account, domain, generation) has its own folder of
 * JSON-lines files, one series per UTC day, rotated within a day past `maxFileBytes`; a line is an
 * entry or a delivery update. The newest `maxEntriesInMemory` entries are also kept in memory;
 * searches and statistics that reach further back stream the owner's files (never a whole file
 * as one string), so memory stays bounded however long the log grows.
 *
 * Writes are buffered and unsynced (the log is a record, not the mail): lines go out at most every
 * 100 ms or per 1,024 lines, each file appended once per batch. A start never appends to a file
 * left by an earlier run (its last line may be torn): it opens the next file of the day.
 *
 * Retention is per owner: entries older than the domain's `logRetentionDays` are not returned, are
 * dropped from memory by {@link sweep}, and their day's file is deleted once the whole day is past it.
 *
 * @example
 * const log = await FileMessageLog.open({ dir: "/data/message-log", retentionDays: () => 28 });
 * log.record(fields, [{ owner, recipients: ["alice@example.com"] }]);
 * await log.search(owner, { classification: "spam" });
 */
export class FileMessageLog implements MessageLog {
  readonly #dir: string | null;
  readonly #retention: (owner: Owner) => number | undefined;
  readonly #max: number;
  readonly #maxFileBytes: number;
  readonly #now: () => number;
  readonly #states = new Map<string, OwnerState>();
  /** Every remembered entry in the order it arrived (with its owner), for eviction; stale items are skipped. */
  #order: { state: OwnerState; entry: LogEntry }[] = [];
  #orderHead = 0;
  #count = 0;
  #pending: PendingLine[] = [];
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  readonly #handles = new Map<string, FileHandle>();

  private constructor(opts: FileMessageLogOptions) {
    this.#dir = opts.dir;
    this.#retention = opts.retentionDays;
    this.#max = opts.maxEntriesInMemory ?? 100_000;
    this.#maxFileBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
    this.#now = opts.now ?? Date.now;
  }

  /** Opens the log in `opts.dir` and loads its newest entries (streamed, within each owner's retention). */
  static async open(opts: FileMessageLogOptions): Promise<FileMessageLog> {
    const log = new FileMessageLog(opts);
    if (opts.dir) {
      mkdirSync(opts.dir, { recursive: true });
      await log.#load(opts.dir);
    }
    return log;
  }

  /** Entries held in memory now. */
  get entriesInMemory(): number {
    return this.#count;
  }

  /** Spam/ham reports held in memory now, over every owner. */
  get reportsInMemory(): number {
    let n = 0;
    for (const state of this.#states.values()) n += state.reports.size;
    return n;
  }

  record(fields: LogFields, views: readonly MessageView[]): void {
    for (const view of views) {
      const entry: LogEntry = { ...fields, recipients: view.recipients, domain: view.owner.domain };
      const state = this.#state(view.owner);
      this.#remember(state, entry);
      this.#append(state, entry.at.slice(0, 10), JSON.stringify(entry));
    }
  }

  update(
    id: string,
    views: readonly MessageView[],
    delivery: NonNullable<LogEntry["delivery"]>,
    detail: string | null,
    recipient?: string,
  ): void {
    const day = new Date(this.#now()).toISOString().slice(0, 10);
    for (const view of views) {
      if (recipient !== undefined && !view.recipients.includes(recipient)) continue;
      const state = this.#states.get(stateKey(view.owner));
      if (!state || state.purged) continue;
      const e = state.entries.get(id);
      if (e) {
        e.delivery = delivery;
        e.deliveryDetail = detail;
      }
      this.#append(state, day, JSON.stringify({ update: id, delivery, detail } satisfies UpdateLine));
    }
  }

  report(owner: Owner, kind: ReportLine["report"], at: string): void {
    const state = this.#state(owner);
    const line: ReportLine = { report: kind, id: randomUUID(), at };
    state.reports.set(line.id, line);
    if (state.reports.size > REPORTS_IN_MEMORY) {
      state.reports.delete(state.reports.keys().next().value!);
      state.partial = true;
    }
    this.#append(state, at.slice(0, 10), JSON.stringify(line));
  }

  async search(owner: Owner, query: LogQuery): Promise<LogEntry[]> {
    const state = this.#states.get(stateKey(owner));
    const horizon = this.#horizon(owner);
    if (!state || horizon === undefined) return [];
    const bounded = { ...query, from: query.from && query.from > horizon ? query.from : horizon };
    const match = matcher(bounded);
    const limit = query.limit ?? 1000;
    const out: LogEntry[] = [];
    const inMemory = [...state.entries.values()];
    for (let i = inMemory.length - 1; i >= 0 && out.length < limit; i--) {
      if (match(inMemory[i]!)) out.push(inMemory[i]!);
    }
    if (out.length < limit && state.partial) {
      out.push(...(await this.#searchFiles(state, bounded.from, match, limit - out.length)));
    }
    return out;
  }

  async statistics(
    owner: Owner,
    range: { from?: string; to?: string },
    timezone: string,
  ): Promise<DomainStatistics> {
    const stats = new StatisticsBuilder(owner.domain, timezone, range.from ?? null, range.to ?? null);
    const state = this.#states.get(stateKey(owner));
    const horizon = this.#horizon(owner);
    if (!state || horizon === undefined) return stats.result();
    const from = range.from && range.from > horizon ? range.from : horizon;
    const inRange = (e: { at: string }) => e.at >= from && (!range.to || e.at < range.to);
    for (const e of state.entries.values()) if (inRange(e)) stats.add(e);
    for (const r of state.reports.values()) if (inRange(r)) stats.addReport(r.report, r.at);
    if (state.partial && state.dir) {
      await this.flush();
      for (const file of listLogFiles(state.dir)) {
        if (file.day < from.slice(0, 10) || (range.to && file.day > range.to.slice(0, 10))) continue;
        await readLogFile(
          file.path,
          (line) => {
            if (!isUpdate(line) && inRange(line) && !state.entries.has(line.id)) stats.add(line);
          },
          (r) => {
            if (inRange(r) && !state.reports.has(r.id)) stats.addReport(r.report, r.at);
          },
        );
      }
    }
    return stats.result();
  }

  owners(): Owner[] {
    return [...this.#states.values()].filter((s) => !s.purged).map((s) => s.owner);
  }

  async purge(owner: Owner): Promise<void> {
    const key = stateKey(owner);
    const state = this.#states.get(key);
    if (state) {
      state.purged = true;
      this.#count -= state.entries.size;
      state.entries.clear();
      this.#states.delete(key);
      this.#pending = this.#pending.filter((p) => p.state !== state);
    }
    // Writes already under way finish first, so none recreates the folder after it is removed.
    await this.#writing;
    if (!this.#dir) return;
    const dir = state?.dir ?? ownerDir(this.#dir, owner);
    for (const [path, fh] of this.#handles) {
      if (path.startsWith(`${dir}/`)) {
        this.#handles.delete(path);
        await fh.close().catch(() => {});
      }
    }
    await rm(dir, { recursive: true, force: true });
  }

  async sweep(): Promise<void> {
    // Buffered lines first, so none recreates a file this sweep deletes.
    await this.flush();
    for (const state of this.#states.values()) {
      const horizon = this.#horizon(state.owner);
      if (horizon === undefined) continue;
      for (const [id, e] of state.entries) {
        // Oldest first: the first entry inside the retention ends the sweep of this owner.
        if (e.at >= horizon) break;
        state.entries.delete(id);
        this.#count--;
      }
      for (const [id, r] of state.reports) {
        if (r.at >= horizon) break;
        state.reports.delete(id);
      }
      if (!state.dir) continue;
      const horizonDay = horizon.slice(0, 10);
      for (const file of listLogFiles(state.dir)) {
        // A day's file goes once every entry it can hold (that UTC day) is past the retention.
        if (file.day >= horizonDay) break;
        const fh = this.#handles.get(file.path);
        if (fh) {
          this.#handles.delete(file.path);
          await fh.close().catch(() => {});
        }
        await rm(file.path, { force: true });
      }
    }
  }

  /** Resolves once buffered lines are written. */
  async flush(): Promise<void> {
    this.#writeBuffered();
    await this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    for (const fh of this.#handles.values()) await fh.close().catch(() => {});
    this.#handles.clear();
  }

  /** The oldest instant the owner's retention keeps, or undefined when the owner's lifetime is not declared. */
  #horizon(owner: Owner): string | undefined {
    const days = this.#retention(owner);
    return days === undefined ? undefined : new Date(this.#now() - days * DAY_MS).toISOString();
  }

  #state(owner: Owner): OwnerState {
    const key = stateKey(owner);
    let state = this.#states.get(key);
    if (!state) {
      state = {
        owner: { accountId: owner.accountId, domain: owner.domain, generation: owner.generation },
        key,
        dir: this.#dir ? ownerDir(this.#dir, owner) : null,
        entries: new Map(),
        reports: new Map(),
        partial: false,
        files: new Map(),
        described: false,
        purged: false,
      };
      this.#states.set(key, state);
    }
    return state;
  }

  #remember(state: OwnerState, entry: LogEntry): void {
    if (state.entries.delete(entry.id)) this.#count--;
    state.entries.set(entry.id, entry);
    this.#count++;
    this.#order.push({ state, entry });
    while (this.#count > this.#max) this.#evictOldest();
  }

  #evictOldest(): void {
    while (this.#orderHead < this.#order.length) {
      const { state, entry } = this.#order[this.#orderHead]!;
      this.#order[this.#orderHead++] = undefined as never;
      if (this.#orderHead >= 4096 && this.#orderHead * 2 >= this.#order.length) {
        this.#order = this.#order.slice(this.#orderHead);
        this.#orderHead = 0;
      }
      // Skipped when re-recorded, swept or purged since.
      if (state.entries.get(entry.id) !== entry) continue;
      state.entries.delete(entry.id);
      state.partial = true;
      this.#count--;
      return;
    }
  }

  #append(state: OwnerState, day: string, line: string): void {
    if (!state.dir) return;
    this.#pending.push({ state, day, line });
    if (this.#pending.length >= 1024) this.#writeBuffered();
    else this.#timer ??= setTimeout(() => this.#writeBuffered(), 100).unref();
  }

  #writeBuffered(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#writing = this.#writing.then(() => this.#writeBatch(batch)).catch(() => {});
  }

  /** One append per (owner, day) of the batch. */
  async #writeBatch(batch: PendingLine[]): Promise<void> {
    const groups = new Map<OwnerState, Map<string, string[]>>();
    for (const p of batch) {
      if (p.state.purged) continue;
      let days = groups.get(p.state);
      if (!days) {
        days = new Map();
        groups.set(p.state, days);
      }
      const lines = days.get(p.day);
      if (lines) lines.push(p.line);
      else days.set(p.day, [p.line]);
    }
    for (const [state, days] of groups) {
      if (state.purged) continue;
      if (!state.described) {
        await mkdir(state.dir!, { recursive: true });
        await writeFile(join(state.dir!, OWNER_FILE), JSON.stringify(state.owner));
        state.described = true;
      }
      for (const [day, lines] of days) {
        const data = Buffer.from(`${lines.join("\n")}\n`);
        const file = this.#fileFor(state, day);
        const fh = await this.#handle(join(state.dir!, logFileName(file.day, file.seq)));
        await fh.write(data);
        file.size += data.length;
      }
    }
  }

  /** The file to append `day`'s lines to: this run's current one, or the next of that day (new day, or size reached). */
  #fileFor(state: OwnerState, day: string): { day: string; seq: number; size: number } {
    const current = state.files.get(day);
    if (current && current.size < this.#maxFileBytes) return current;
    const seq = current
      ? current.seq + 1
      : listLogFiles(state.dir!)
          .filter((f) => f.day === day)
          .reduce((n, f) => Math.max(n, f.seq + 1), 0);
    const file = { day, seq, size: 0 };
    state.files.set(day, file);
    // A few days are tracked (entries of today, updates of yesterday's); a day written again later gets a new file.
    if (state.files.size > 4) state.files.delete(state.files.keys().next().value!);
    return file;
  }

  async #handle(path: string): Promise<FileHandle> {
    let fh = this.#handles.get(path);
    if (fh) {
      // Most recently used last.
      this.#handles.delete(path);
      this.#handles.set(path, fh);
      return fh;
    }
    while (this.#handles.size >= MAX_OPEN_FILES) {
      const [oldest, old] = this.#handles.entries().next().value!;
      this.#handles.delete(oldest);
      await old.close().catch(() => {});
    }
    fh = await open(path, "a");
    this.#handles.set(path, fh);
    return fh;
  }

  /**
   * The newest `need` entries matching `match` that are only in the owner's files, newest first.
   * Files are streamed oldest first from the day of `from`, so a later update line always finds
   * its entry; only the `need` newest matches are held.
   */
  async #searchFiles(
    state: OwnerState,
    from: string,
    match: (e: LogEntry) => boolean,
    need: number,
  ): Promise<LogEntry[]> {
    if (!state.dir) return [];
    await this.flush();
    const kept: LogEntry[] = [];
    const byId = new Map<string, LogEntry>();
    const fromDay = from.slice(0, 10);
    for (const file of listLogFiles(state.dir)) {
      if (file.day < fromDay) continue;
      await readLogFile(file.path, (line) => {
        if (isUpdate(line)) {
          const e = byId.get(line.update);
          if (e) applyUpdate(e, line);
          return;
        }
        if (state.entries.has(line.id) || !match(line)) return;
        kept.push(line);
        byId.set(line.id, line);
        if (kept.length > need) byId.delete(kept.shift()!.id);
      });
    }
    return kept.reverse();
  }

  /**
   * Loads the newest entries at start: every owner's files within its retention, newest file first,
   * streamed, until `maxEntriesInMemory` entries are in; owners with older files left are partial.
   * An update line read before its entry (it sits in a newer file) is held until the entry comes.
   */
  async #load(root: string): Promise<void> {
    const candidates: { state: OwnerState; path: string; day: string; seq: number; horizon: string }[] = [];
    for (const { dir, owner } of listOwnerDirs(root)) {
      const state = this.#state(owner);
      state.dir = dir;
      state.described = true;
      const horizon = this.#horizon(owner);
      const files = listLogFiles(dir);
      if (horizon === undefined) {
        // Not declared (a deleted domain, sealed until purged): never loaded.
        state.partial = files.length > 0;
        continue;
      }
      for (const f of files) {
        if (f.day >= horizon.slice(0, 10)) candidates.push({ state, ...f, horizon });
      }
    }
    candidates.sort((a, b) =>
      a.day !== b.day ? (a.day < b.day ? 1 : -1) : a.seq !== b.seq ? b.seq - a.seq : 0,
    );
    const later = new Map<string, UpdateLine>();
    const loaded: { state: OwnerState; entries: LogEntry[] }[] = [];
    const reports: { state: OwnerState; line: ReportLine }[] = [];
    let count = 0;
    for (const c of candidates) {
      if (count >= this.#max) {
        c.state.partial = true;
        continue;
      }
      const entries: LogEntry[] = [];
      const byId = new Map<string, LogEntry>();
      const orphans: UpdateLine[] = [];
      await readLogFile(
        c.path,
        (line) => {
          if (isUpdate(line)) {
            const e = byId.get(line.update);
            if (e) applyUpdate(e, line);
            else orphans.push(line);
          } else if (line.at >= c.horizon) {
            entries.push(line);
            byId.set(line.id, line);
          }
        },
        (r) => {
          if (r.at >= c.horizon) reports.push({ state: c.state, line: r });
        },
      );
      for (const e of entries) {
        const u = later.get(`${c.state.key}\n${e.id}`);
        if (u) applyUpdate(e, u);
      }
      // The newest update of an entry in an older file wins: this file's last, unless a newer file had one.
      for (let i = orphans.length - 1; i >= 0; i--) {
        const k = `${c.state.key}\n${orphans[i]!.update}`;
        if (!later.has(k)) later.set(k, orphans[i]!);
      }
      loaded.push({ state: c.state, entries });
      count += entries.length;
    }
    later.clear();
    for (let i = loaded.length - 1; i >= 0; i--) {
      for (const e of loaded[i]!.entries) this.#remember(loaded[i]!.state, e);
    }
    // Oldest first, as they were recorded; past the cap the oldest stay in the files only.
    reports.sort((a, b) => (a.line.at < b.line.at ? -1 : a.line.at > b.line.at ? 1 : 0));
    for (const { state, line } of reports) {
      state.reports.set(line.id, line);
      if (state.reports.size > REPORTS_IN_MEMORY) {
        state.reports.delete(state.reports.keys().next().value!);
        state.partial = true;
      }
    }
  }
}
