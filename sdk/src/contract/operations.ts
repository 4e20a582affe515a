/** The operations endpoints of the SMTP engine: quarantine, delivery queue, message log search and statistics, per domain. */
import { z } from "zod";
import { pageOf } from "../models/page.ts";
import type { Endpoint } from "./types.ts";

const domainParam = z.string().min(1).describe("The domain name, e.g. `example.com`.");
const messageParam = z.string().min(1).describe("The message's queue ID, e.g. `mf3k2x1a0-9c1e22f4a7`.");
const DomainParams = z.strictObject({ domain: domainParam });
const MessageParams = z.strictObject({ domain: domainParam, message: messageParam });

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(100)
  .describe("Most items returned (1–1000). Default 100.");
const since = z.iso
  .datetime()
  .optional()
  .describe("Only messages received at or after this time (RFC 3339).");
const until = z.iso.datetime().optional().describe("Only messages received before this time (RFC 3339).");
const substring = (what: string) =>
  z.string().max(254).optional().describe(`Case-insensitive substring of the ${what}.`);

/** Classifications of the message log (SpamPanel's log search). */
export const LOG_CLASSIFICATIONS = [
  "clean",
  "unsure",
  "spam",
  "allowlisted",
  "blocked",
  "blocked-attachment",
  "oversized",
  "spf-fail",
  "dmarc-fail",
  "virus",
  "rejected",
  "deferred",
] as const;

/** A quarantined message. */
export const QuarantineEntry = z
  .object({
    id: z.string().describe("The message's queue ID."),
    receivedAt: z.string().describe("When it was received (RFC 3339)."),
    expiresAt: z.string().describe("When it is purged (received + the domain's quarantine days)."),
    domain: z.string().nullable().describe("The recipients' domain."),
    sender: z.string().describe("Envelope sender; empty for the null sender."),
    recipients: z.array(z.string()).describe("Envelope recipients (domain aliases rewritten)."),
    subject: z.string().describe("Subject: as received."),
    size: z.number().int().describe("Size in bytes as received."),
    classification: z
      .string()
      .describe("Why it is held: `spam`, `blocked-attachment`, `oversized`, `dmarc-fail` or `virus`."),
    reason: z.string().describe("The verdict in words, e.g. `spam score 1.00`."),
    score: z.number().describe("Spam score (0–1)."),
  })
  .meta({
    id: "QuarantineEntry",
    title: "QuarantineEntry",
    description: "A message held in the quarantine.",
  });

/** A quarantined message with its content. */
export const QuarantinedMessage = QuarantineEntry.extend({
  raw: z.string().describe("The message as it would be delivered (with the verdict headers), RFC 5322 text."),
}).meta({
  id: "QuarantinedMessage",
  title: "QuarantinedMessage",
  description: "A quarantined message and its raw content.",
});

/** Filters of the quarantine list. */
export const QuarantineQuery = z.strictObject({
  since,
  until,
  sender: substring("envelope sender"),
  recipient: substring("recipient"),
  subject: substring("subject"),
  limit,
});

/** The answer of a release. */
export const QuarantineRelease = z
  .object({
    id: z.string().describe("The released message's quarantine ID."),
    queueId: z.string().describe("Its new queue ID: follow it in the delivery queue and the message log."),
  })
  .meta({
    id: "QuarantineRelease",
    title: "QuarantineRelease",
    description: "A message released for delivery.",
  });

/** The answer of a purge. */
export const QuarantinePurge = z
  .object({
    purged: z.array(z.string()).describe("IDs of the messages removed because their quarantine days passed."),
  })
  .meta({
    id: "QuarantinePurge",
    title: "QuarantinePurge",
    description: "Messages purged from the quarantine.",
  });

/** A message in the delivery queue. */
export const QueuedMessage = z
  .object({
    id: z.string().describe("Queue ID."),
    receivedAt: z.string().describe("When it was accepted (RFC 3339)."),
    sender: z.string().describe("Envelope sender; empty for the null sender."),
    recipients: z.array(z.string()).describe("Recipients still to deliver."),
    size: z.number().int().describe("Size in bytes."),
    subject: z.string().describe("Subject: as received."),
    domain: z.string().nullable().describe("The domain the message belongs to."),
    state: z
      .enum(["active", "deferred"])
      .describe("`active`: being delivered or due; `deferred`: waiting for its next attempt."),
    attempts: z.number().int().describe("Delivery attempts so far."),
    lastError: z.string().nullable().describe("Why the last attempt failed (the queue reason)."),
    nextAttemptAt: z.string().nullable().describe("When it is retried next (RFC 3339), if deferred."),
  })
  .meta({
    id: "QueuedMessage",
    title: "QueuedMessage",
    description: "A message waiting in the delivery queue.",
  });

/** A queued message with its content. */
export const QueuedMessageDetail = QueuedMessage.extend({
  raw: z.string().describe("The message as it will be delivered, RFC 5322 text."),
}).meta({
  id: "QueuedMessageDetail",
  title: "QueuedMessageDetail",
  description: "A queued message and its raw content.",
});

/** The answer of a retry. */
export const QueueRetry = z
  .object({ retried: z.number().int().describe("How many messages are retried now.") })
  .meta({
    id: "QueueRetry",
    title: "QueueRetry",
    description: "Messages scheduled for an immediate delivery attempt.",
  });

/** The answer of clearing a domain's recipient callout cache. */
/** Largest .eml a spam/ham report accepts: 10 MiB (a bigger upload is answered 413). */
export const REPORT_MAX_BYTES = 10 * 1024 * 1024;

/** Query of a quarantine release: `report=ham` also trains the spam filter that the message is ham. */
export const ReleaseQuery = z.strictObject({
  report: z
    .enum(["ham"])
    .optional()
    .describe(
      "`ham`: also teach rspamd's Bayes classifier that the message is ham (needs rspamd: else 422).",
    ),
});

/** Query of a queued message's delete: `report=spam` first trains the spam filter that the message is spam. */
export const DeleteQueuedQuery = z.strictObject({
  report: z
    .enum(["spam"])
    .optional()
    .describe(
      "`spam` (\"delete and report as spam\"): first teach rspamd's Bayes classifier that the message is spam (needs rspamd: else 422; rspamd refusing: 503, the message stays queued); 409 while a delivery attempt runs or when the message also goes to another account's recipients.",
    ),
});

/** Query of a mail user's delete of their quarantined copy: `report=spam` first trains the spam filter that the message is spam. */
export const DeleteQuarantinedQuery = z.strictObject({
  report: z
    .enum(["spam"])
    .optional()
    .describe(
      '`spam` ("delete and report as spam"): first teach rspamd\'s Bayes classifier that the message is spam (needs rspamd: else 422; rspamd refusing: 503, the message stays held).',
    ),
});

/** The answer to a spam or ham report. */
export const FilterReport = z
  .object({
    learned: z.enum(["spam", "ham"]).describe("What rspamd's Bayes classifier was taught the message is."),
    size: z.number().int().describe("Size of the reported message in bytes."),
  })
  .meta({
    id: "FilterReport",
    title: "FilterReport",
    description: "A reported message was given to rspamd's Bayes classifier as spam or ham.",
  });

export const CalloutCacheClear = z
  .object({ cleared: z.number().int().describe("How many cached route answers were forgotten.") })
  .meta({
    id: "CalloutCacheClear",
    title: "CalloutCacheClear",
    description:
      "The domain's cached recipient callout answers were forgotten: its next recipients are asked of its routes again.",
  });

/** One entry of the message log. */
export const MessageLogEntry = z
  .object({
    id: z.string().describe("The queue ID (accepted mail) or a session reference (refused mail)."),
    at: z.string().describe("When the transaction ended (RFC 3339)."),
    listener: z
      .enum(["inbound", "submission", "internal"])
      .describe("Where it came in; `internal` for bounces and auto-replies."),
    clientIp: z.string().describe("The client's IP address."),
    clientHelo: z.string().describe("The client's EHLO name."),
    sender: z.string().describe("Envelope sender."),
    recipients: z.array(z.string()).describe("Envelope recipients."),
    domain: z.string().nullable().describe("The domain the entry belongs to."),
    subject: z.string().describe("Subject: (empty when refused before DATA)."),
    messageId: z.string().nullable().describe("Message-ID:, when received."),
    size: z.number().int().describe("Size in bytes (0 when refused before DATA)."),
    classification: z.enum(LOG_CLASSIFICATIONS).describe("How the message was classified."),
    action: z.enum(["accepted", "quarantined", "rejected", "deferred"]).describe("What the client was told."),
    reply: z.string().describe("The SMTP reply sent."),
    score: z.number().describe("Spam score (0–1)."),
    delivery: z
      .enum(["queued", "delivered", "deferred", "bounced", "quarantined", "released", "deleted"])
      .nullable()
      .describe("Delivery status of accepted mail."),
    deliveryDetail: z.string().nullable().describe("The delivery error details, when there are any."),
  })
  .meta({ id: "MessageLogEntry", title: "MessageLogEntry", description: "One logged transaction." });

/** Filters of the message log search (SpamPanel's Incoming Log Search). */
export const MessageLogQuery = z.strictObject({
  since,
  until,
  sender: substring("envelope sender"),
  recipient: substring("recipient"),
  subject: substring("subject"),
  classification: z.enum(LOG_CLASSIFICATIONS).optional().describe("Only this classification."),
  limit,
});

/** Message counts of one range or one day. */
const statisticsCounts = {
  total: z.number().int().describe("Messages logged."),
  clean: z.number().int().describe("Not spam."),
  unsure: z.number().int().describe("Between the tag and the quarantine threshold."),
  spam: z.number().int().describe("At or above the quarantine threshold."),
  allowlisted: z.number().int().describe("Allow-listed: not filtered."),
  blocked: z.number().int().describe("Refused by a block list."),
  rejected: z
    .number()
    .int()
    .describe("Refused for another reason (SPF, size, syntax, attachment, unknown user…)."),
  viruses: z
    .number()
    .int()
    .describe(
      "Viruses blocked: messages in which clamd found a virus (quarantined, classification `virus`).",
    ),
  deferred: z.number().int().describe("Answered 4xx."),
  quarantined: z.number().int().describe("Held in the quarantine."),
  spamReports: z
    .number()
    .int()
    .describe(
      "Messages reported as spam (`report/spam`, `DELETE …/queue/{id}?report=spam`): rspamd's Bayes classifier learned them. Reports are not mail: `total` does not count them.",
    ),
  hamReports: z
    .number()
    .int()
    .describe(
      "Messages reported as ham (`report/ham`, `release?report=ham`): rspamd's Bayes classifier learned them.",
    ),
  bytes: z.number().int().describe("Total size of the messages received."),
  spamRatio: z.number().describe("spam / total."),
};

/** Per-domain counts (SpamPanel's Domain Statistics). */
export const DomainStatistics = z
  .object({
    domain: z.string(),
    since: z
      .string()
      .nullable()
      .describe("Start of the time range (RFC 3339), null for the beginning of the log."),
    until: z.string().nullable().describe("End of the time range, null for now."),
    ...statisticsCounts,
    timezone: z.string().describe("The domain's `timezone`: its midnights split `days`."),
    days: z
      .array(z.object({ date: z.string().describe("Local date, YYYY-MM-DD."), ...statisticsCounts }))
      .describe("One row per local day of the domain's time zone that has mail, oldest first."),
  })
  .meta({
    id: "DomainStatistics",
    title: "DomainStatistics",
    description: "Message counts of a domain over a time range, and per day of the domain's time zone.",
  });

/** The statistics' time range. */
export const StatisticsQuery = z.strictObject({ since, until });

export type QuarantineEntry = z.output<typeof QuarantineEntry>;
export type QuarantinedMessage = z.output<typeof QuarantinedMessage>;
export type QueuedMessage = z.output<typeof QueuedMessage>;
export type MessageLogEntry = z.output<typeof MessageLogEntry>;
export type DomainStatistics = z.output<typeof DomainStatistics>;
export type QuarantineQueryInput = z.input<typeof QuarantineQuery>;
export type MessageLogQueryInput = z.input<typeof MessageLogQuery>;

const READ: Endpoint["headers"] = { ifMatch: "none", idempotencyKey: "none", account: "optional" };
/** Deletes take If-Match like every delete of the API; a held message never changes, so its etag is its ID. */
const DELETE: Endpoint["headers"] = { ifMatch: "optional", idempotencyKey: "none", account: "optional" };
const errors: Endpoint["errors"] = ["MP_NOT_FOUND"];
const base = { tag: "Operations", headers: READ, etag: false, errors } as const;

/** The operations endpoints. They answer 503 MP_UNAVAILABLE when no SMTP engine runs in the control plane's process. */
export const endpoints: readonly Endpoint[] = [
  {
    ...base,
    operationId: "listQuarantine",
    method: "GET",
    path: "/v1/domains/:domain/quarantine",
    summary: "List the domain's quarantined messages, newest first.",
    access: "read",
    params: DomainParams,
    query: QuarantineQuery,
    response: pageOf(QuarantineEntry),
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "getQuarantinedMessage",
    method: "GET",
    path: "/v1/domains/:domain/quarantine/:message",
    summary: "View a quarantined message, raw content included.",
    access: "read",
    params: MessageParams,
    response: QuarantinedMessage,
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "releaseQuarantinedMessage",
    method: "POST",
    path: "/v1/domains/:domain/quarantine/:message/release",
    summary:
      "Release a quarantined message: it is delivered to the recipients that accept it now (409 when none does) and leaves the quarantine.",
    access: "write",
    params: MessageParams,
    query: ReleaseQuery,
    response: QuarantineRelease,
    successStatuses: [200],
    errors: ["MP_NOT_FOUND", "MP_CONFLICT", "MP_FILTER_TRAINING_UNAVAILABLE"],
  },
  {
    ...base,
    operationId: "deleteQuarantinedMessage",
    method: "DELETE",
    path: "/v1/domains/:domain/quarantine/:message",
    summary:
      "Delete a quarantined message. `report=spam` (\"delete and report as spam\") first teaches rspamd's Bayes classifier that it is spam: 422 without rspamd, 503 when rspamd refuses (still held); audited, counted once in the domain's statistics.",
    access: "write",
    params: MessageParams,
    query: DeleteQuarantinedQuery,
    response: null,
    successStatuses: [204],
    headers: DELETE,
    errors: ["MP_NOT_FOUND", "MP_PRECONDITION_FAILED", "MP_FILTER_TRAINING_UNAVAILABLE", "MP_UNAVAILABLE"],
  },
  {
    ...base,
    operationId: "purgeQuarantine",
    method: "POST",
    path: "/v1/domains/:domain/quarantine-purge",
    summary: "Delete the domain's quarantined messages whose quarantine days have passed (also done hourly).",
    access: "write",
    params: DomainParams,
    response: QuarantinePurge,
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "listQueue",
    method: "GET",
    path: "/v1/domains/:domain/queue",
    summary: "List the domain's messages in the delivery queue, oldest first.",
    access: "read",
    params: DomainParams,
    query: z.strictObject({ limit }),
    response: pageOf(QueuedMessage),
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "getQueuedMessage",
    method: "GET",
    path: "/v1/domains/:domain/queue/:message",
    summary: "View a queued message: its queue reason, retry time and raw content.",
    access: "read",
    params: MessageParams,
    response: QueuedMessageDetail,
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "retryQueuedMessage",
    method: "POST",
    path: "/v1/domains/:domain/queue/:message/retry",
    summary: "Force an immediate delivery attempt of a queued message.",
    access: "write",
    params: MessageParams,
    response: QueueRetry,
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "retryQueue",
    method: "POST",
    path: "/v1/domains/:domain/queue-retry",
    summary: "Retry every queued message of the domain now.",
    access: "write",
    params: DomainParams,
    response: QueueRetry,
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "deleteQueuedMessage",
    method: "DELETE",
    path: "/v1/domains/:domain/queue/:message",
    summary:
      'Delete a queued message without delivering or bouncing it (synced: a power cut does not bring it back); 409 when it also goes to (or comes from) another account, whose mail it would take. `report=spam` first teaches rspamd\'s Bayes classifier that it is spam ("delete and report as spam"); audited.',
    access: "write",
    params: MessageParams,
    query: DeleteQueuedQuery,
    response: null,
    successStatuses: [204],
    headers: DELETE,
    errors: [
      "MP_NOT_FOUND",
      "MP_PRECONDITION_FAILED",
      "MP_CONFLICT",
      "MP_FILTER_TRAINING_UNAVAILABLE",
      "MP_UNAVAILABLE",
    ],
  },
  ...(["spam", "ham"] as const).map(
    (kind): Endpoint => ({
      ...base,
      operationId: kind === "spam" ? "reportSpam" : "reportHam",
      method: "POST",
      path: `/v1/domains/:domain/report/${kind}`,
      summary: `Report a message as ${kind}: its raw RFC 5322 text (an .eml file, \`Content-Type: message/rfc822\`, at most 10 MiB: else 413) teaches rspamd's Bayes classifier that it is ${kind}. 422 when the platform does not score with a supervised rspamd. Audited.`,
      access: "write",
      params: DomainParams,
      rawBody: { mediaType: "message/rfc822", maxBytes: REPORT_MAX_BYTES },
      response: FilterReport,
      successStatuses: [200],
      errors: [
        "MP_NOT_FOUND",
        "MP_PAYLOAD_TOO_LARGE",
        "MP_UNSUPPORTED_MEDIA_TYPE",
        "MP_FILTER_TRAINING_UNAVAILABLE",
      ],
    }),
  ),
  {
    ...base,
    operationId: "clearCalloutCache",
    method: "DELETE",
    path: "/v1/domains/:domain/callout-cache",
    summary:
      "Forget the recipient callout answers cached for the domain (what its routes said of each recipient), so the next RCPT asks the route again. Audited.",
    access: "write",
    params: DomainParams,
    response: CalloutCacheClear,
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "searchMessageLog",
    method: "GET",
    path: "/v1/domains/:domain/message-log",
    summary:
      "Search the domain's message log by date range, sender, recipient, subject and classification, newest first.",
    access: "read",
    params: DomainParams,
    query: MessageLogQuery,
    response: pageOf(MessageLogEntry),
    successStatuses: [200],
  },
  {
    ...base,
    operationId: "getDomainStatistics",
    method: "GET",
    path: "/v1/domains/:domain/statistics",
    summary:
      "Message counts of the domain over a time range: clean, unsure, spam, allow-listed, blocked, quarantined.",
    access: "read",
    params: DomainParams,
    query: StatisticsQuery,
    response: DomainStatistics,
    successStatuses: [200],
  },
];
