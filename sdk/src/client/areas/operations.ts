/** The `operations` group of MailplaneClient: the SMTP engine's quarantine, delivery queue, message log and statistics of a domain. */
import type {
  DomainStatistics,
  MessageLogEntry,
  MessageLogQueryInput,
  QuarantinedMessage,
  QuarantineEntry,
  QuarantineQueryInput,
  QueuedMessage,
} from "../../contract/operations.ts";
import type { Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import { type ContractCaller, withReportQuery } from "./caller.ts";

/**
 * `client.operations`: the SMTP engine's operations on a domain. A control plane without an engine
 * in its process answers 503 (MP_UNAVAILABLE).
 * @example await client.operations.retryAll("example.com") // { retried: 2 }
 */
export function operationsApi(api: ContractCaller) {
  return {
    listQuarantine: (
      domain: string,
      query: QuarantineQueryInput = {},
      options?: RequestOptions,
    ): Promise<Page<QuarantineEntry>> => api.call("listQuarantine", { domain }, { ...options, query }),
    getQuarantined: (domain: string, id: string, options?: RequestOptions): Promise<QuarantinedMessage> =>
      api.call("getQuarantinedMessage", { domain, message: id }, options),
    /**
     * Delivers a held message to its recipients; the answer names its new queue ID. `report: "ham"`
     * also teaches rspamd's Bayes classifier that it is ham (MP_FILTER_TRAINING_UNAVAILABLE without rspamd).
     * @example await client.operations.release("example.com", id, { report: "ham" })
     */
    release: (
      domain: string,
      id: string,
      options?: RequestOptions & { report?: "ham" },
    ): Promise<{ id: string; queueId: string }> =>
      api.call("releaseQuarantinedMessage", { domain, message: id }, withReportQuery(options)),
    /**
     * Reports a message (its raw RFC 5322 bytes, an .eml file; at most 10 MiB) as spam or ham: rspamd's
     * Bayes classifier learns it. MP_FILTER_TRAINING_UNAVAILABLE when the platform does not score with rspamd.
     * @example await client.operations.report("example.com", "spam", readFileSync("junk.eml")) // { learned: "spam", size: 2048 }
     */
    report: (
      domain: string,
      kind: "spam" | "ham",
      eml: Uint8Array,
      options?: RequestOptions,
    ): Promise<{ learned: "spam" | "ham"; size: number }> =>
      api.call(
        kind === "spam" ? "reportSpam" : "reportHam",
        { domain },
        { ...options, rawBody: { mediaType: "message/rfc822", bytes: eml } },
      ),
    /**
     * Deletes a held message. `report: "spam"` ("delete and report as spam") first teaches rspamd's
     * Bayes classifier that it is spam (MP_FILTER_TRAINING_UNAVAILABLE without rspamd, MP_UNAVAILABLE
     * when rspamd refuses: it stays held).
     * @example await client.operations.deleteQuarantined("example.com", id, { report: "spam" })
     */
    deleteQuarantined: (
      domain: string,
      id: string,
      options?: RequestOptions & { report?: "spam" },
    ): Promise<void> =>
      api.call("deleteQuarantinedMessage", { domain, message: id }, withReportQuery(options)),
    purgeQuarantine: (domain: string, options?: RequestOptions): Promise<{ purged: string[] }> =>
      api.call("purgeQuarantine", { domain }, options),
    listQueue: (
      domain: string,
      query: { limit?: number } = {},
      options?: RequestOptions,
    ): Promise<Page<QueuedMessage>> => api.call("listQueue", { domain }, { ...options, query }),
    getQueued: (
      domain: string,
      id: string,
      options?: RequestOptions,
    ): Promise<QueuedMessage & { raw: string }> =>
      api.call("getQueuedMessage", { domain, message: id }, options),
    retry: (domain: string, id: string, options?: RequestOptions): Promise<{ retried: number }> =>
      api.call("retryQueuedMessage", { domain, message: id }, options),
    retryAll: (domain: string, options?: RequestOptions): Promise<{ retried: number }> =>
      api.call("retryQueue", { domain }, options),
    /**
     * Deletes a queued message without delivering it. `report: "spam"` ("delete and report as spam")
     * first teaches rspamd's Bayes classifier that it is spam (MP_FILTER_TRAINING_UNAVAILABLE without
     * rspamd; MP_CONFLICT while it is being delivered or when it also goes to another account).
     * @example await client.operations.deleteQueued("example.com", id, { report: "spam" })
     */
    deleteQueued: (
      domain: string,
      id: string,
      options?: RequestOptions & { report?: "spam" },
    ): Promise<void> => api.call("deleteQueuedMessage", { domain, message: id }, withReportQuery(options)),
    /** Forgets the domain's cached recipient callout answers. @example await client.operations.clearCalloutCache("example.com") // { cleared: 3 } */
    clearCalloutCache: (domain: string, options?: RequestOptions): Promise<{ cleared: number }> =>
      api.call("clearCalloutCache", { domain }, options),
    searchLog: (
      domain: string,
      query: MessageLogQueryInput = {},
      options?: RequestOptions,
    ): Promise<Page<MessageLogEntry>> => api.call("searchMessageLog", { domain }, { ...options, query }),
    statistics: (
      domain: string,
      query: { since?: string; until?: string } = {},
      options?: RequestOptions,
    ): Promise<DomainStatistics> => api.call("getDomainStatistics", { domain }, { ...options, query }),
  };
}

/** The type of `client.operations`. */
export type OperationsApi = ReturnType<typeof operationsApi>;
