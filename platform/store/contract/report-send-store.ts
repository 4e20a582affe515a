/** The store's record of report sends (quarantine digests, domain reports): each goes out once per period, whichever engine sends it. */

/**
 * Report sends: a claim per (report, recipient, period) key, so engines sharing the store send each once.
 *
 * @example
 * if (await store.claimReportSend({ key, claimant: "engine-1", forMs: 60_000 })) {
 *   await store.markReportSent({ key, claimant: "engine-1", queueId: await send() });
 * }
 */
export interface ReportSendStore {
  /**
   * Claims a report send (a digest or domain report for one recipient and period; see ../report-sends.ts)
   * for `claimant` for `forMs`: true when this claimant is to send it now, false when it was sent or
   * another claimant holds it. Engines sharing the store send each one once.
   */
  claimReportSend(input: { key: string; claimant: string; forMs: number }): Promise<boolean>;
  /** Of `keys`, the report sends already made (a sender skips building what they would send). */
  sentReportSends(keys: readonly string[]): Promise<Set<string>>;
  /** Marks a claimed report send done (`queueId` null: refused by its recipient); never claimed again. */
  markReportSent(input: { key: string; claimant: string; queueId: string | null }): Promise<void>;
  /** Records the keys of sends made before the store kept them as sent (existing keys stay); how many were added. */
  importReportSends(keys: string[]): Promise<number>;
}
