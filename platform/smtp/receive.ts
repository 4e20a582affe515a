/** Receiving DATA: stream → scan (+ SPF in parallel) → verdict → durable (Maildir or queue) → the reply, and the log entry. */

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { type InboundAuth, InboundAuthenticator } from "./content/auth.ts";
import type { ClamdScanner } from "./content/clamav.ts";
import type { Classification } from "./content/classify.ts";
import { addressLiteral, mailDate } from "./content/mail-date.ts";
import type { RspamdEnvelope, RspamdScorer } from "./content/rspamd.ts";
import { MessageScanner, type ScanResult } from "./content/scan.ts";
import { type DnsResolver, SpfCache, type SpfVerdict } from "./content/spf.ts";
import type { LogClassification, LogFields, MessageLog } from "./message-log/entry.ts";
import { transactionViews } from "./owners.ts";
import { type Disposition, dataVerdict } from "./phases/data.ts";
import { senderAllowed } from "./phases/mail-from.ts";
import { defer, type Refusal, replyLine } from "./phases/result.ts";
import type { DomainPolicy, PolicySnapshot } from "./policy/snapshot.ts";
import type { ConnectionContext, Transaction } from "./session.ts";
import type { SpoolFile, SpoolFs } from "./spool/fs.ts";
import type { Queue, QueuedMessage } from "./spool/queue.ts";

/** What receiving needs from the engine. */
export interface ReceiveDeps {
  snapshot: () => PolicySnapshot;
  queue: Queue;
  log: MessageLog;
  resolver: DnsResolver;
  hostname: string;
  /** Bodies up to this size stay in memory and go into the journal record; larger ones are written to their own file. */
  inlineLimit: number;
  /** Recent SPF verdicts; default none (every message is evaluated). */
  spfCache?: SpfCache;
  /** Scores filtered messages with rspamd; default none (the built-in rules). */
  rspamd?: RspamdScorer;
  /** Scans filtered messages for viruses with clamd; default none (no virus scanning). */
  clamd?: ClamdScanner;
  /** ARC sealers trusted for every domain (lower-case), besides each domain's own; default none. */
  trustedArcSealers?: ReadonlySet<string>;
}

/** The reply to DATA: accepted with a queue ID, or a refusal. */
export type ReceiveResult = { action: "accept"; id: string } | Refusal;

/**
 * A queue ID: milliseconds since the epoch in base 36 (sortable by arrival), 16 random bits of
 * this process and a 24-bit counter.
 * @example newQueueId() // "mf3k2x1a0-9c1e22f4a7"
 */
export function newQueueId(now = Date.now()): string {
  // A random prefix per process and a counter: unique across restarts and nodes without asking the
  // random generator for every message.
  idCounter = (idCounter + 1) % 0x1000000;
  return `${now.toString(36).padStart(9, "0")}-${ID_PREFIX}${idCounter.toString(16).padStart(6, "0")}`;
}
const ID_PREFIX = randomBytes(2).toString("hex");
let idCounter = randomBytes(3).readUIntBE(0, 3);

/** Used when the engine passes no cache: an SPF cache that keeps nothing. */
const uncached = new SpfCache(0, 1);

/** RFC 3848 protocol names for the Received: field. */
function protocolOf(conn: ConnectionContext): string {
  return `ESMTP${conn.secure ? "S" : ""}${conn.user ? "A" : ""}`;
}

/**
 * The trace field every accepted message gets (RFC 5321 §4.4): the client's address as an address
 * literal (`[IPv6:…]` for IPv6, §4.1.3), after its verified host name when it has one (TCP-info
 * `Domain FWS address-literal`), and a date with a numeric zone (RFC 5322 §3.3).
 */
export function receivedField(
  conn: ConnectionContext,
  hostname: string,
  id: string,
  recipients: string[],
  now: Date,
  clientName: string | null = null,
): string {
  const helo = conn.helo || "unknown";
  const forClause = recipients.length === 1 ? `\r\n\tfor <${recipients[0]}>` : "";
  const tcpInfo = `${clientName ? `${clientName} ` : ""}${addressLiteral(conn.remoteAddress)}`;
  return `Received: from ${helo} (${tcpInfo})\r\n\tby ${hostname} (mailplane) with ${protocolOf(conn)} id ${id}${forClause};\r\n\t${mailDate(now)}`;
}

/** Whether SPF applies to this transaction (RFC 7208 checks MAIL FROM of unauthenticated clients only). */
function spfApplies(conn: ConnectionContext, domain: DomainPolicy | null, filtered: boolean): boolean {
  if (conn.user || !domain || !filtered) return false;
  return !domain.filter.skipSpf && !domain.filter.spfExempt.has(conn.remoteAddress);
}

function classificationOf(refusal: Refusal): LogClassification {
  if (refusal.action === "defer") return "deferred";
  if (refusal.enhanced === "5.7.23") return "spf-fail";
  if (refusal.tag === "dmarc") return "dmarc-fail";
  if (refusal.enhanced === "5.3.4") return "oversized";
  if (refusal.tag === "blocked") return "blocked";
  return "rejected";
}

/**
 * The From: address the sender allow list may match: only when DMARC passed for exactly that
 * address's domain (an aligned SPF or DKIM identity vouches for it), otherwise anyone could write
 * an allow-listed From:.
 */
function alignedAuthor(scan: ScanResult, auth: InboundAuth | null): string | undefined {
  const from = scan.headers.from;
  if (!from || auth?.dmarc.result !== "pass") return undefined;
  return from.slice(from.lastIndexOf("@") + 1) === auth.dmarc.fromDomain ? from : undefined;
}

/** Builds the fields of a log entry for a transaction outcome (each account's view adds its recipients). */
export function logEntry(
  conn: ConnectionContext,
  fields: Pick<LogFields, "id" | "sender" | "classification" | "action" | "reply"> &
    Partial<Pick<LogFields, "subject" | "messageId" | "size" | "score" | "delivery">>,
): LogFields {
  return {
    at: new Date().toISOString(),
    listener: conn.listener,
    clientIp: conn.remoteAddress,
    clientHelo: conn.helo,
    subject: "",
    messageId: null,
    size: 0,
    score: 0,
    delivery: null,
    deliveryDetail: null,
    ...fields,
  };
}

/**
 * Receives the message body into memory, spilling to `<bodies>/<id>` past the inline limit. The
 * spill file is closed however the stream ends: an aborted DATA (the client went away) must not
 * leave a descriptor open.
 */
function readBody(
  fs: SpoolFs,
  stream: Readable,
  scanner: { write(chunk: Buffer): void },
  inlineLimit: number,
  spillPath: string,
): Promise<{ chunks: Buffer[]; spilled: boolean; size: number }> {
  // Event listeners rather than `for await`: an async iterator costs a promise per chunk, which
  // shows at thousands of messages per second.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let file: SpoolFile | null = null;
    let writing: Promise<void> = Promise.resolve();
    let failed: Error | null = null;
    const fail = (err: unknown) => {
      failed ??= err instanceof Error ? err : new Error(String(err));
    };
    stream.on("data", (chunk: Buffer) => {
      scanner.write(chunk);
      size += chunk.length;
      if (!file && size <= inlineLimit) {
        chunks.push(chunk);
        return;
      }
      // Past the inline limit the body goes to its own file; the stream waits for each write.
      stream.pause();
      const pending = file ? [chunk] : [...chunks.splice(0), chunk];
      writing = writing
        .then(async () => {
          file ??= await fs.open(spillPath, "w");
          await file.writev(pending);
        })
        .catch(fail)
        .finally(() => stream.resume());
    });
    stream.once("error", (err) => {
      fail(err);
      // Let a running write finish, then close the spill file (the caller removes it).
      writing
        .then(() => (file as SpoolFile | null)?.close())
        .then(
          () => reject(failed),
          () => reject(failed),
        );
    });
    stream.once("end", () => {
      writing
        .then(async () => {
          if (file) {
            if (!failed) await file.sync().catch(fail);
            await file.close();
          }
          if (failed) return reject(failed);
          // The chunks stay apart: the journal writes them with writev.
          resolve({
            chunks: file ? [] : chunks,
            spilled: file !== null,
            size,
          });
        })
        .catch(reject);
    });
  });
}

/** rspamd's score of the received bytes (read back from the spill file when large); null to fall back. */
async function rspamdScore(
  scorer: RspamdScorer,
  fs: SpoolFs,
  received: { chunks: Buffer[]; spilled: boolean },
  spillPath: string,
  envelope: RspamdEnvelope,
): Promise<Classification | null> {
  let body: Buffer[];
  try {
    body = received.spilled ? [await fs.readFile(spillPath)] : received.chunks;
  } catch {
    return null;
  }
  return scorer.check(body, envelope);
}

/**
 * clamd's verdict on the received bytes: the signature name, null when clean, or a refusal
 * (451 4.7.1) when clamd could not scan — fail closed, so no unscanned message gets in while the
 * scanner is down and the client keeps the message to retry.
 */
async function virusScan(
  clamd: ClamdScanner,
  fs: SpoolFs,
  received: { chunks: Buffer[]; spilled: boolean },
  spillPath: string,
): Promise<{ virus: string | null } | Refusal> {
  try {
    const body = received.spilled ? [await fs.readFile(spillPath)] : received.chunks;
    return await clamd.scan(body);
  } catch {
    return defer(451, "4.7.1", "Virus scanner unavailable, try again later");
  }
}

/**
 * Handles one DATA. SPF (when it applies) runs while the body streams in; the verdict comes from
 * {@link dataVerdict}; an accepted or quarantined message is acknowledged only once it is durable
 * (RFC 5321 §6.1): mail for local mailboxes only is written into them at once (see
 * {@link Queue.acceptDelivering}), anything else into the queue's journal. A queue that cannot
 * write answers 451 4.3.0 so the client keeps the message and retries.
 */
export async function receiveMessage(
  deps: ReceiveDeps,
  conn: ConnectionContext,
  tx: Transaction,
  stream: Readable & { sizeExceeded?: boolean },
): Promise<ReceiveResult> {
  const snapshot = deps.snapshot();
  const id = newQueueId();
  const first = tx.recipients[0];
  const domain = first?.domain ? (snapshot.domains.get(first.domain) ?? null) : null;
  let filtered = tx.recipients.every((r) => r.filtered);
  const spfPromise: Promise<SpfVerdict | null> = spfApplies(conn, domain, filtered)
    ? (deps.spfCache ?? uncached).check({
        sender: tx.mailFrom,
        ip: conn.remoteAddress,
        helo: conn.helo,
        mta: deps.hostname,
        resolver: deps.resolver,
      })
    : Promise.resolve(null);
  const scanner = new MessageScanner();
  // RFC 8601 §5 / RFC 7489: mail arriving from the outside (MX, unauthenticated) for a hosted domain.
  const authenticator =
    conn.listener === "inbound" && !conn.user && domain
      ? new InboundAuthenticator({
          authservId: deps.hostname,
          resolver: deps.resolver,
          trustedArcSealers: deps.trustedArcSealers
            ? new Set([...deps.trustedArcSealers, ...domain.filter.trustedArcSealers])
            : domain.filter.trustedArcSealers,
        })
      : null;
  const sink = authenticator
    ? {
        write: (chunk: Buffer) => {
          scanner.write(chunk);
          authenticator.write(chunk);
        },
      }
    : scanner;
  const spillPath = join(deps.queue.bodiesDir, id);
  let received: { chunks: Buffer[]; spilled: boolean; size: number };
  let scan: ScanResult;
  let spf: SpfVerdict | null;
  let auth: InboundAuth | null = null;
  const recipients = tx.recipients.map((r) => r.address);
  const logDomain = domain?.name ?? conn.user?.domain ?? null;
  // Every account the transaction touches gets its own record, with only its own recipients.
  const views = transactionViews(snapshot, conn.user, tx.recipients);
  try {
    received = await readBody(deps.queue.fs, stream, sink, deps.inlineLimit, spillPath);
    [scan, spf] = await Promise.all([scanner.end(), spfPromise]);
    if (authenticator) auth = await authenticator.end({ spf, ip: conn.remoteAddress });
  } catch {
    authenticator?.abort();
    await deps.queue.fs.unlink(spillPath).catch(() => {});
    return defer(451, "4.3.0", "Temporary local problem while receiving the message, try again later");
  }
  const cleanup = () =>
    received.spilled ? deps.queue.fs.unlink(spillPath).catch(() => {}) : Promise.resolve();
  // smtp-server answers 552 5.3.4 itself when the hard limit was passed (rejectOversized).
  if (stream.sizeExceeded) {
    await cleanup();
    return defer(452, "4.3.1", "message exceeds the engine's size limit");
  }
  if (filtered && domain && senderAllowed(domain, tx.mailFrom, alignedAuthor(scan, auth))) filtered = false;
  // Viruses are looked for in what the filter judges (allow-listed and authenticated mail is not).
  const virus =
    deps.clamd && filtered && domain ? await virusScan(deps.clamd, deps.queue.fs, received, spillPath) : null;
  if (virus && "action" in virus) {
    await cleanup();
    deps.log.record(
      logEntry(conn, {
        id,
        sender: tx.mailFrom,
        subject: scan.headers.subject ?? "",
        messageId: scan.headers.messageId ?? null,
        size: scan.size,
        classification: "deferred",
        action: "deferred",
        reply: replyLine(virus),
      }),
      views,
    );
    return virus;
  }
  // rspamd scores only what the filter judges; null (rspamd down) falls back to the built-in rules.
  const rspamd =
    deps.rspamd && filtered && domain
      ? await rspamdScore(deps.rspamd, deps.queue.fs, received, spillPath, {
          ip: conn.remoteAddress,
          helo: conn.helo,
          ...(conn.clientName ? { hostname: await conn.clientName } : {}),
          sender: tx.mailFrom,
          recipients,
          user: conn.user?.address ?? null,
          queueId: id,
        })
      : null;
  const verdict = dataVerdict({
    domain,
    filtered,
    authenticated: conn.user !== null,
    sender: tx.mailFrom,
    recipients,
    remoteAddress: conn.remoteAddress,
    scan,
    spf: filtered ? spf : null,
    dmarc: filtered ? (auth?.dmarc ?? null) : null,
    classification: rspamd,
    virus: virus?.virus ?? null,
  });
  const base = {
    id,
    sender: tx.mailFrom,
    subject: scan.headers.subject ?? "",
    messageId: scan.headers.messageId ?? null,
    size: scan.size,
  };
  if (verdict.action !== "accept") {
    await cleanup();
    deps.log.record(
      logEntry(conn, {
        ...base,
        classification: classificationOf(verdict),
        action: verdict.action === "defer" ? "deferred" : "rejected",
        reply: replyLine(verdict),
      }),
      views,
    );
    return verdict;
  }
  const d: Disposition = verdict.value;
  const now = new Date();
  if (auth) d.edits.prepend.unshift(auth.header);
  // RFC 8601 §5: results claiming our authserv-id did not come from us (any listener: a submitting
  // user could forge them too).
  if (scan.headers.authservIds.includes(deps.hostname.toLowerCase())) {
    d.edits.stripAuthResults = deps.hostname.toLowerCase();
  }
  d.edits.prepend.unshift(
    receivedField(
      conn,
      deps.hostname,
      id,
      tx.recipients.map((r) => r.rcpt),
      now,
      conn.clientName ? await conn.clientName : null,
    ),
  );
  const meta: QueuedMessage = {
    id,
    receivedAt: now.toISOString(),
    sender: tx.mailFrom,
    client: {
      ip: conn.remoteAddress,
      helo: conn.helo,
      tls: conn.secure,
      user: conn.user?.address ?? null,
      listener: conn.listener,
    },
    domain: logDomain,
    subject: base.subject,
    messageId: base.messageId,
    size: scan.size,
    disposition: d.disposition,
    classification: d.classification,
    reason: d.reason,
    score: d.score,
    edits: d.edits,
    recipients: tx.recipients.map((r) => ({ rcpt: r.rcpt, address: r.address, targets: r.targets })),
    origin: "smtp",
    facts: {
      autoSubmitted: scan.headers.autoSubmitted ?? null,
      precedence: scan.headers.precedence ?? null,
      list: scan.headers.list,
    },
    ...(received.spilled ? { bodyFile: id } : {}),
    views,
    ...(tx.requireTls ? { requireTls: true as const } : {}),
    ...(auth?.arc ? { arc: auth.arc } : {}),
  };
  let announce = () => {};
  try {
    if (received.spilled) await deps.queue.accept(meta, received.chunks, [deps.queue.bodiesDir]);
    else announce = await deps.queue.acceptDelivering(meta, received.chunks);
  } catch {
    await cleanup();
    const refusal = defer(
      451,
      "4.3.0",
      "Temporary local problem: the message could not be stored, try again later",
    );
    deps.log.record(
      logEntry(conn, { ...base, classification: "deferred", action: "deferred", reply: replyLine(refusal) }),
      views,
    );
    return refusal;
  }
  const quarantined = d.disposition === "quarantine";
  const reply = d.reply === "accept" ? `250 2.0.0 Ok: queued as ${id}` : replyLine(d.reply);
  deps.log.record(
    logEntry(conn, {
      ...base,
      classification: d.classification,
      action: quarantined ? "quarantined" : "accepted",
      reply,
      score: d.score,
      delivery: quarantined ? "quarantined" : "queued",
    }),
    views,
  );
  announce();
  return d.reply === "accept" ? { action: "accept", id } : d.reply;
}
