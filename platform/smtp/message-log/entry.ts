/** What the message log holds and answers: its entries, their classification, queries, and the MessageLog interface. */
import type { MessageView, Owner } from "../owners.ts";
import type { ReportLine } from "./files.ts";
import type { DomainStatistics } from "./statistics.ts";

export type { DomainStatistics } from "./statistics.ts";

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
  | "dmarc-fail"
  | "virus"
  | "rejected"
  | "deferred";

/** One logged transaction as one account sees it (the API's `MessageLogEntry`). */
export interface LogEntry {
  id: string;
  at: string;
  listener: "inbound" | "submission" | "internal";
  clientIp: string;
  clientHelo: string;
  sender: string;
  /** The recipients this view may see: all of them for the sender's account, its own for a recipient domain. */
  recipients: string[];
  /** The domain of the view (the owner's main domain). */
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

/** A transaction's fields common to every view (each view adds its recipients and domain). */
export type LogFields = Omit<LogEntry, "recipients" | "domain">;

/** Filters of {@link MessageLog.search}; all optional, combined with AND. Substrings are case-insensitive. */
export interface LogQuery {
  from?: string;
  to?: string;
  sender?: string;
  recipient?: string;
  subject?: string;
  classification?: LogClassification;
  /** Default 1,000. */
  limit?: number;
}

/** Where log entries go. Every read is scoped to one owner (account, domain, generation). */
export interface MessageLog {
  /** Records a transaction once per view: each account it touches keeps its own entry. */
  record(fields: LogFields, views: readonly MessageView[]): void;
  /**
   * Sets the delivery status of message `id` in each of `views`; given `recipient`, only in the
   * views that include it (a detail about one account's recipient never reaches another account).
   */
  update(
    id: string,
    views: readonly MessageView[],
    delivery: NonNullable<LogEntry["delivery"]>,
    detail: string | null,
    recipient?: string,
  ): void;
  /**
   * Records that an operator of `owner` reported a message as spam or ham (the filter learned it):
   * counted in the owner's statistics (`spamReports`, `hamReports`), kept like its entries.
   */
  report(owner: Owner, kind: ReportLine["report"], at: string): void;
  /** The owner's entries matching `query`, newest first, within the owner's retention. */
  search(owner: Owner, query: LogQuery): Promise<LogEntry[]>;
  /** The owner's counts over [from, to), split into days of `timezone`. */
  statistics(
    owner: Owner,
    range: { from?: string; to?: string },
    timezone: string,
  ): Promise<DomainStatistics>;
  /** The owners (domain lifetimes) the log holds entries of. */
  owners(): Owner[];
  /** Deletes every entry of the owner's lifetime, in memory and on disk. */
  purge(owner: Owner): Promise<void>;
  /** Drops entries past their domain's retention: from memory, and whole day files from disk. */
  sweep(): Promise<void>;
  /** Writes what is buffered and closes the files. */
  close(): Promise<void>;
}
