/** The message log: one entry per transaction outcome (accepted, rejected, deferred) plus its delivery status. */
import { mkdirSync, readFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";

/** How SpamPanel's log search classifies messages. */
export type LogClassification =
  | "clean"
  | "unsure"
  | "spam"
  | "allowlisted"
  | "blocked"
  | "blocked-attachment"
  | "oversized"
  | "spf-fail"
  | "rejected"
  | "deferred";

/** One logged transaction. */
export interface LogEntry {
  id: string;
  at: string;
  listener: "inbound" | "submission" | "internal";
  clientIp: string;
  clientHelo: string;
  sender: string;
  recipients: string[];
  /** The main domain of the recipients (inbound) or of the sender (submission); null when unknown. */
  domain: string | null;
  subject: string;
  messageId: string | null;
  size: number;
  classification: LogClassification;
  /** What the client was told: accepted (2xx), quarantined, rejected (5xx) or deferred (4xx). */
  action: "accepted" | "quarantined" | "rejected" | "deferred";
  /** The reply line sent (or the verdict), never credentials. */
  reply: string;
  score: number;
  /** Delivery progress for accepted messages: queued → delivered | deferred | bounced. */
  delivery: "queued" | "delivered" | "deferred" | "bounced" | "quarantined" | "released" | "deleted" | null;
  deliveryDetail: string | null;
}

/** Filters of {@link MessageLog.search}; all optional, combined with AND. Substrings are case-insensitive. */
export interface LogQuery {
  from?: string;
  to?: string;
  domain?: string;
  sender?: string;
  recipient?: string;
  subject?: string;
  classification?: LogClassification;
  limit?: number;
}

/** Per-domain counts over a time range (the SpamPanel statistics page). */
export interface DomainStatistics {
  domain: string;
  from: string | null;
  to: string | null;
  total: number;
  clean: number;
  unsure: number;
  spam: number;
  allowlisted: number;
  blocked: number;
  rejected: number;
  deferred: number;
  quarantined: number;
  bytes: number;
  /** spam / total (0 when there is no mail). */
  spamRatio: number;
}

/** Where log entries go; the engine ships a file-backed one, the store can back another. */
export interface MessageLog {
  record(entry: LogEntry): void;
  update(id: string, delivery: NonNullable<LogEntry["delivery"]>, detail: string | null): void;
  search(query: LogQuery): LogEntry[];
  statistics(domain: string, from?: string, to?: string): DomainStatistics;
}

/**
 * A message log kept in memory and appended to a JSON-lines file (each line an entry or a delivery
 * update), reloaded at start. Entries older than `retentionDays` are dropped when loading.
 *
 * @example
 * const log = new FileMessageLog("/data/message-log.jsonl");
 * log.search({ domain: "example.com", classification: "spam" });
 */
export class FileMessageLog implements MessageLog {
  readonly #file: string | null;
  readonly #entries = new Map<string, LogEntry>();
  readonly #max: number;
  #buffer: string[] = [];
  #writing: Promise<void> = Promise.resolve();
  #fh: FileHandle | null = null;
  #timer: NodeJS.Timeout | null = null;

  /** @param maxEntries entries kept in memory (oldest dropped first); default 200,000. */
  constructor(file: string | null, retentionDays = 28, maxEntries = 200_000) {
    this.#file = file;
    this.#max = maxEntries;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const horizon = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const item = JSON.parse(line) as
          | LogEntry
          | { update: string; delivery: LogEntry["delivery"]; detail: string | null };
        if ("update" in item) {
          const e = this.#entries.get(item.update);
          if (e) {
            e.delivery = item.delivery;
            e.deliveryDetail = item.detail;
          }
        } else if (item.at >= horizon) {
          this.#entries.set(item.id, item);
        }
      } catch {
        // a torn last line after a crash
      }
    }
  }

  record(entry: LogEntry): void {
    this.#entries.delete(entry.id);
    this.#entries.set(entry.id, entry);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#append(entry);
  }

  update(id: string, delivery: NonNullable<LogEntry["delivery"]>, detail: string | null): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.delivery = delivery;
    e.deliveryDetail = detail;
    this.#append({ update: id, delivery, detail });
  }

  get(id: string): LogEntry | undefined {
    return this.#entries.get(id);
  }

  search(query: LogQuery): LogEntry[] {
    const lower = (s?: string) => s?.toLowerCase();
    const sender = lower(query.sender);
    const recipient = lower(query.recipient);
    const subject = lower(query.subject);
    const out: LogEntry[] = [];
    const limit = query.limit ?? 1000;
    const all = [...this.#entries.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const e = all[i]!;
      if (query.from && e.at < query.from) continue;
      if (query.to && e.at >= query.to) continue;
      if (query.domain && e.domain !== query.domain) continue;
      if (sender && !e.sender.includes(sender)) continue;
      if (recipient && !e.recipients.some((r) => r.includes(recipient))) continue;
      if (subject && !e.subject.toLowerCase().includes(subject)) continue;
      if (query.classification && e.classification !== query.classification) continue;
      out.push(e);
    }
    return out;
  }

  statistics(domain: string, from?: string, to?: string): DomainStatistics {
    const s: DomainStatistics = {
      domain,
      from: from ?? null,
      to: to ?? null,
      total: 0,
      clean: 0,
      unsure: 0,
      spam: 0,
      allowlisted: 0,
      blocked: 0,
      rejected: 0,
      deferred: 0,
      quarantined: 0,
      bytes: 0,
      spamRatio: 0,
    };
    for (const e of this.#entries.values()) {
      if (e.domain !== domain || (from && e.at < from) || (to && e.at >= to)) continue;
      s.total++;
      s.bytes += e.size;
      if (e.action === "quarantined") s.quarantined++;
      if (e.classification === "clean") s.clean++;
      else if (e.classification === "unsure") s.unsure++;
      else if (e.classification === "spam") s.spam++;
      else if (e.classification === "allowlisted") s.allowlisted++;
      else if (e.classification === "blocked") s.blocked++;
      else if (e.classification === "deferred") s.deferred++;
      else s.rejected++;
    }
    s.spamRatio = s.total > 0 ? Math.round((s.spam / s.total) * 10_000) / 10_000 : 0;
    return s;
  }

  #append(item: unknown): void {
    if (!this.#file) return;
    // Buffered and unsynced on purpose: the log is a record, not the mail; it must not slow the 250.
    // Written at most every 100 ms: a write per event-loop turn was a thread-pool round trip for
    // every few messages under load.
    this.#buffer.push(JSON.stringify(item));
    if (this.#buffer.length >= 1024) this.#writeBuffered();
    else this.#timer ??= setTimeout(() => this.#writeBuffered(), 100).unref();
  }

  #writeBuffered(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#buffer.length === 0) return;
    const lines = this.#buffer;
    this.#buffer = [];
    const file = this.#file!;
    this.#writing = this.#writing
      .then(async () => {
        this.#fh ??= await open(file, "a");
        await this.#fh.write(Buffer.from(`${lines.join("\n")}\n`));
      })
      .catch(() => {});
  }

  /** Resolves once buffered lines are written. */
  async flush(): Promise<void> {
    this.#writeBuffered();
    await this.#writing;
  }

  /** Writes what is buffered and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    await this.#fh?.close();
    this.#fh = null;
  }
}
