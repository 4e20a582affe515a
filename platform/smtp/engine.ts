/** The SMTP engine: listeners, policy snapshot, durable queue, delivery, quarantine and the message log, started together. */
import { promises as dns } from "node:dns";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { SMTPServer } from "smtp-server";
import type { ClamdScanner } from "./content/clamav.ts";
import { isLocalAddress, verifiedClientName } from "./content/client-name.ts";
import { DnsCache, type DnsCacheOptions } from "./content/dns-cache.ts";
import type { RspamdScorer } from "./content/rspamd.ts";
import { type DnsResolver, SpfCache } from "./content/spf.ts";
import { AutoResponder } from "./delivery/autoreply.ts";
import { type CalloutOptions, RecipientCallout } from "./delivery/callout.ts";
import { addressLookup, EgressPolicy } from "./delivery/egress.ts";
import { MaildirStore, maildirOf } from "./delivery/maildir.ts";
import { type Hop, Relay } from "./delivery/relay.ts";
import { createBounce, createDeliver, type Inject } from "./delivery/worker.ts";
import { currentLifetime, DataLifecycle } from "./lifecycle.ts";
import { type LoginLockout, MemoryLoginLockout } from "./lockout.ts";
import { FileMessageLog, type MessageLog } from "./log.ts";
import { importLegacyLog } from "./log-legacy.ts";
import { createOperations, type SmtpOperations } from "./operations.ts";
import { declaredOwner, type MessageView, ownedBy, ownerOf, viewsOfMessage } from "./owners.ts";
import type { CredentialSource } from "./phases/auth.ts";
import { ConnectionGate } from "./phases/connect.ts";
import { DEFAULT_RCPT_LIMITS, type RcptLimits, rcptTo } from "./phases/rcpt-to.ts";
import { DEFAULT_SENDER_RATE, type SenderRate, SenderRateLimit } from "./phases/sender-rate.ts";
import { splitMailbox } from "./policy/matchers.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import { QuarantineStore } from "./quarantine.ts";
import { purgeExpired } from "./quarantine-operations.ts";
import { logEntry, newQueueId, receivedField } from "./receive.ts";
import { createListener } from "./server.ts";
import { type ConnectionContext, newTransaction } from "./session.ts";
import {
  checkSmtpServer,
  fallbackWarning,
  installedSmtpServer,
  type PatchDecision,
  type SmtpServerFacts,
} from "./smtp-server-patches.ts";
import { Queue } from "./spool/queue.ts";
import type { QueuedMessage, TargetState } from "./spool/queued-message.ts";
import { type TlsMaterial, tlsMaterial } from "./tls.ts";

/** Where the engine gets its policy: a fixed snapshot (tests) or the store (see policy/from-store.ts). */
export interface PolicySource {
  /** The snapshot to use now; read on every command, so a swap applies to the next command. */
  current(): PolicySnapshot;
  /** Calls `listener` after each change of the snapshot; returns unsubscribe. */
  subscribe?(listener: () => void): () => void;
  close?(): Promise<void> | void;
}

/** A listen address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Options of {@link startSmtpEngine}. Times in milliseconds, sizes in bytes. */
export interface SmtpEngineOptions {
  /** Spool, Maildirs, quarantine, TLS material and logs live here. */
  dataDir: string;
  policy: PolicySource;
  /** Password hashes for SMTP AUTH. Without it every AUTH fails (535). */
  credentials?: CredentialSource;
  /** Where failed logins are counted; default in this process's memory (engines on a store share the store's). */
  lockout?: LoginLockout;
  /** Inbound (MX) listener; default 127.0.0.1:2525; false for none. Port 0 picks a free port. */
  inbound?: ListenAddress | false;
  /** Submission listener; default 127.0.0.1:2587; false for none. */
  submission?: ListenAddress | false;
  /** Our name in greetings, Received: fields and DSNs; default the machine's host name. */
  hostname?: string;
  /** STARTTLS key and certificate; default a self-signed pair made once in `<dataDir>/tls`. */
  tls?: TlsMaterial;
  /** DNS for SPF and MX lookups; default the system resolver. Tests pass a table. */
  resolver?: DnsResolver;
  /**
   * The cache in front of `resolver` for inbound authentication (SPF, DKIM, DMARC, ARC; see
   * content/dns-cache.ts), one for the whole engine; default 10,000 entries, 300 s, 60 s for
   * negative answers. false: every lookup asks DNS.
   */
  dnsCache?: DnsCacheOptions | false;
  /** Send mail for domains we do not host through this server instead of their MX. */
  smarthost?: Hop;
  /**
   * Which addresses routes and remote MXs may reach (`--allow-route-cidr`); default refuses every
   * loopback, private, link-local, multicast and other special-purpose address. The engine adds
   * its own listeners, which stay refused whatever is allowed. The smarthost is not checked: the
   * platform admin chose it.
   */
  egress?: EgressPolicy;
  /**
   * Recipient callouts (delivery/callout.ts): RCPT for a routed domain not in local-recipients-only
   * mode is asked of its first reachable route, through the egress policy; a 5xx → 550 5.1.1 at
   * RCPT, anything else accepts (fail open). Default none: routed recipients are accepted unasked.
   */
  callout?: CalloutOptions | false;
  /** Hard message size limit; default 52,428,800 (50 MiB). */
  maxMessageBytes?: number;
  /** Bodies up to this size are kept in memory and journaled inline; default 1 MiB. */
  inlineLimit?: number;
  /**
   * Delay before the greeting; default 0 (smtp-server's own is a fixed 100 ms, kept when the
   * library runs unpatched: see smtp-server-patches.ts).
   */
  greetingDelayMs?: number;
  /** Simultaneous connections per client IP, over both listeners; beyond → 421. Default 100. */
  maxConnectionsPerIp?: number;
  /** Simultaneous connections in all, over both listeners; beyond → 421. Default 1,000. */
  maxConnections?: number;
  /** RCPT TO per message; beyond → 452 4.5.3 (RFC 5321 §4.5.3.1.8 asks for ≥ 100). Default 100. */
  maxRecipients?: number;
  /** Final targets alias expansion may produce per message; beyond → 550 5.5.3 naming the alias. Default 1,000. */
  maxExpansion?: number;
  /** Messages per authenticated user (token bucket); default 300 per 3,600 s; false for none. */
  senderRate?: SenderRate | false;
  /** Retry back-off: first delay (default 60,000), doubling up to `retryMaxMs` (default 3,600,000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Messages delivered at once; default 8. */
  deliveryConcurrency?: number;
  /**
   * While clients are handing messages in, delivery waits until the oldest due message has waited
   * this long (then runs two at a time), so a burst is taken in first; default 5,000. 0 delivers
   * during bursts too.
   */
  burstHoldMs?: number;
  /** The message log; default JSON-lines files in `<dataDir>/message-log` (see log.ts). */
  log?: MessageLog;
  /** Entries of the message log kept in memory (older ones are read from its files); default 100,000. */
  logEntriesInMemory?: number;
  /** A message log file is rotated past this size; default 67,108,864 (64 MiB). */
  logFileBytes?: number;
  /**
   * What happens to a deleted domain's message data (log, quarantine, queued mail, Maildirs):
   * "purge" deletes it once the engine sees the domain gone; "keep" leaves it on disk, sealed —
   * no read names its lifetime any more, so nothing serves it. Default "purge".
   */
  deletedDomainData?: "purge" | "keep";
  /**
   * Told about faults no client sees (a message whose bytes were lost from the spool, a write that
   * failed during delivery); default a line on standard error.
   */
  onError?: (err: Error) => void;
  /**
   * The smtp-server the patch check sees (smtp-server-patches.ts); default the installed one.
   * Tests pass another release's facts to run the fallback.
   */
  smtpServer?: SmtpServerFacts;
  /**
   * A client's verified host name, for rspamd's `Hostname` and the Received: field (undefined: not
   * looked up). Default: forward-confirmed reverse DNS through the engine's resolver
   * (content/client-name.ts), loopback and private clients not looked up.
   */
  clientName?: (address: string) => Promise<string | null> | undefined;
  /**
   * Scores filtered messages with rspamd (content/rspamd.ts); default none: the built-in rules.
   * When rspamd does not answer, a message is scored by the built-in rules (fail open).
   */
  rspamd?: RspamdScorer;
  /**
   * Scans filtered messages for viruses with clamd (content/clamav.ts); default none. An infected
   * message is quarantined as `virus`; while clamd cannot scan, DATA is answered 451 4.7.1 (fail closed).
   */
  clamd?: ClamdScanner;
  /**
   * ARC sealers trusted for every domain, on top of each domain's FilterSettings
   * `trustedArcSealers` (see content/auth.ts): their validated dmarc=pass lifts a DMARC failure's
   * policy. Default none.
   */
  trustedArcSealers?: readonly string[];
  /**
   * Where `RCPT TO:<Postmaster>` without a domain goes (RFC 5321 §4.1.1.3); a remote address is
   * relayed to. Default `postmaster@<hostname>`, accepted when that domain is hosted here.
   */
  postmaster?: string;
  /** Where start-up warnings go (smtp-server left unpatched); default `process.emitWarning` (stderr). */
  onWarning?: (message: string) => void;
  now?: () => number;
}

/** A running engine. */
export interface SmtpEngine {
  /** The inbound listener's port (0 when disabled). */
  inboundPort: number;
  /** The submission listener's port (0 when disabled). */
  submissionPort: number;
  hostname: string;
  dataDir: string;
  /** `<dataDir>/mail`: Maildirs as `<domain>@<generation>/<local>/{tmp,new,cur}` (see maildirOf). */
  mailRoot: string;
  /** The Maildir folder of a local address in its Domain's current lifetime. */
  maildirOf(address: string): string;
  queue: Queue;
  quarantine: QuarantineStore;
  log: MessageLog;
  /** Purges a deleted domain's message data after every policy change (nothing when `deletedDomainData` is "keep"). */
  lifecycle: DataLifecycle;
  operations: SmtpOperations;
  /** `delivered`, `deferred`, `failed`, `quarantined`, `settled` (from the queue), `injected`. */
  events: EventEmitter;
  /** Alias expansion steps taken at RCPT since start (forward destinations followed), for monitoring and tests. */
  expansion: { steps: number };
  /** The recipient callouts, when enabled (their cache and probe count). */
  callout: RecipientCallout | undefined;
  /** Client connections open now, both listeners (what `maxConnections` caps). */
  openConnections(): number;
  /** The smtp-server release in use and whether the engine patched it (else why not). */
  smtpServer: { version: string; patched: boolean; reason: string | null };
  snapshot(): PolicySnapshot;
  /** Stops listening, waits for running deliveries, closes files. Queued mail stays on disk. */
  close(): Promise<void>;
}

function listen(server: SMTPServer, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    const net = (server as unknown as { server: import("node:net").Server }).server;
    net.once("error", reject);
    server.listen(address.port, address.host, () => {
      net.off("error", reject);
      resolve((net.address() as AddressInfo).port);
    });
  });
}

/** Internal mail (bounces, auto-replies) is addressed like an authenticated client: it may go anywhere. */
function internalContext(hostname: string): ConnectionContext {
  return {
    id: "internal",
    listener: "submission",
    remoteAddress: "127.0.0.1",
    helo: hostname,
    secure: true,
    user: { address: `mailer-daemon@${hostname}`, accountId: "", domain: hostname },
  };
}

/** Where delivery problems go when the caller gives no `onError`: stderr. */
const defaultOnError = (err: Error) => process.stderr.write(`mailplane: delivery queue: ${err.message}\n`);

/**
 * Starts the engine: recovers the spool (every message a client got 250 for and that was not yet
 * delivered is delivered now), then listens. Use port 0 in tests.
 *
 * @example
 * const engine = await startSmtpEngine({ dataDir: ".data", policy: staticPolicy(snapshot), inbound: { host: "127.0.0.1", port: 0 } });
 * console.log(engine.inboundPort);
 * await engine.close();
 */
export async function startSmtpEngine(opts: SmtpEngineOptions): Promise<SmtpEngine> {
  const hostname = opts.hostname ?? osHostname();
  const now = opts.now ?? Date.now;
  const dataDir = opts.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const resolver: DnsResolver =
    opts.resolver ?? ((name, rrtype) => dns.resolve(name, rrtype) as Promise<unknown[]>);
  // Every message of a sender asks for the same SPF, DKIM key and DMARC records.
  const authResolver =
    opts.dnsCache === false ? resolver : new DnsCache(resolver, { now, ...opts.dnsCache }).resolver;
  const snapshot = () => opts.policy.current();
  const log =
    opts.log ??
    (await FileMessageLog.open({
      dir: join(dataDir, "message-log"),
      // A lifetime that is over has no retention: its entries are neither loaded nor served.
      retentionDays: (owner) => currentLifetime(snapshot(), owner)?.logRetentionDays,
      ...(opts.logEntriesInMemory !== undefined ? { maxEntriesInMemory: opts.logEntriesInMemory } : {}),
      ...(opts.logFileBytes !== undefined ? { maxFileBytes: opts.logFileBytes } : {}),
      now,
    }));
  // The single-file log of earlier versions belongs to the domains of that time (generation '').
  if (!opts.log) {
    await importLegacyLog(join(dataDir, "message-log.jsonl"), log, (domain) => {
      const d = snapshot().declared.get(domain);
      return d && d.generation === "" ? declaredOwner(d) : undefined;
    });
  }
  const events = new EventEmitter();
  const mailRoot = join(dataDir, "mail");
  const maildir = new MaildirStore(mailRoot);
  const egress = opts.egress ?? new EgressPolicy();
  const relay = new Relay({
    name: hostname,
    egress,
    lookup: addressLookup(resolver),
    ...(opts.callout && opts.callout.timeoutMs !== undefined
      ? { probeTimeoutMs: opts.callout.timeoutMs }
      : {}),
  });
  const callout = opts.callout ? new RecipientCallout(relay, opts.callout) : undefined;
  const responder = new AutoResponder(join(dataDir, "autoreply.json"), hostname);
  const quarantine = await QuarantineStore.open(join(dataDir, "quarantine"));
  let queue: Queue | undefined;

  const inject: Inject = async ({ origin, to, body, domain, subject, requireTls }) => {
    const q = queue!;
    const conn = internalContext(hostname);
    const current = snapshot();
    const verdict = rcptTo(current, conn, newTransaction("", null), to);
    const id = newQueueId(now());
    // The domain the notice is sent for sees it; a hosted recipient's domain sees it too.
    const views: MessageView[] = [];
    const own = domain ? current.domains.get(domain) : undefined;
    if (own) views.push({ owner: ownerOf(own), recipients: [to] });
    const target =
      verdict.action === "accept" && verdict.value.domain
        ? current.domains.get(verdict.value.domain)
        : undefined;
    if (target && !views.some((v) => ownedBy(v.owner, ownerOf(target)))) {
      views.push({ owner: ownerOf(target), recipients: [to] });
    }
    if (verdict.action !== "accept") {
      log.record(
        logEntry(conn, {
          id,
          sender: "",
          classification: "rejected",
          action: "rejected",
          reply: `${origin} not sent: ${verdict.message}`,
        }),
        views,
      );
      return;
    }
    const receivedAt = new Date(now());
    const meta: QueuedMessage = {
      id,
      receivedAt: receivedAt.toISOString(),
      sender: "",
      client: { ip: "127.0.0.1", helo: hostname, tls: true, user: null, listener: "internal" },
      domain,
      subject,
      messageId: null,
      size: body.length,
      disposition: "deliver",
      classification: "clean",
      reason: origin,
      score: 0,
      edits: {
        prepend: [receivedField({ ...conn, user: null }, hostname, id, [to], receivedAt)],
        subjectPrefix: null,
      },
      recipients: [
        { rcpt: verdict.value.rcpt, address: verdict.value.address, targets: verdict.value.targets },
      ],
      origin,
      views,
      ...(requireTls ? { requireTls: true as const } : {}),
    };
    await q.accept(meta, body);
    log.record(
      {
        ...logEntry(
          { ...conn, listener: "submission" },
          {
            id,
            sender: "",
            classification: "clean",
            action: "accepted",
            reply: `${origin} queued`,
            subject,
            size: body.length,
            delivery: "queued",
          },
        ),
        listener: "internal",
      },
      views,
    );
    events.emit("injected", meta);
    return id;
  };

  queue = await Queue.open({
    dir: join(dataDir, "spool"),
    deliver: createDeliver({
      snapshot,
      maildir,
      relay,
      outbound: { resolver, ...(opts.smarthost ? { smarthost: opts.smarthost } : {}) },
      responder,
      inject,
      // The message goes out unsigned rather than not at all; the operator hears why.
      onDkimError: (meta, why) => (opts.onError ?? defaultOnError)(new Error(`message ${meta.id}: ${why}`)),
    }),
    quarantine: async (meta, body) => {
      const days = meta.domain ? (snapshot().domains.get(meta.domain)?.filter.quarantineDays ?? 28) : 28;
      await quarantine.put(meta, body, days);
    },
    bounce: createBounce({
      snapshot,
      inject,
      hostname,
      now,
      onSuppressed: (meta, why) =>
        log.update(meta.id, viewsOfMessage(meta), "bounced", `no DSN sent: ${why}`),
    }),
    retryBaseMs: opts.retryBaseMs ?? 60_000,
    retryMaxMs: opts.retryMaxMs ?? 3_600_000,
    maxRetryMs: (domain) => (domain ? (snapshot().domains.get(domain)?.maxRetryDays ?? 4) : 4) * 86_400_000,
    concurrency: opts.deliveryConcurrency ?? 8,
    burstHoldMs: opts.burstHoldMs,
    now,
  });
  const failedIds = new Set<string>();
  queue.on("delivered", (meta: QueuedMessage, t: TargetState, o) => events.emit("delivered", meta, t, o));
  queue.on("deferred", (meta: QueuedMessage, t: TargetState, o) => {
    // Only the views that hold the recipient learn why it was deferred.
    log.update(meta.id, viewsOfMessage(meta), "deferred", o.detail, t.recipient);
    events.emit("deferred", meta, t, o);
  });
  queue.on("failed", (meta: QueuedMessage, t: TargetState, o) => {
    failedIds.add(meta.id);
    events.emit("failed", meta, t, o);
  });
  queue.on("quarantined", (meta: QueuedMessage) => events.emit("quarantined", meta));
  queue.on("settled", (meta: QueuedMessage) => {
    if (meta.disposition !== "quarantine") {
      log.update(meta.id, viewsOfMessage(meta), failedIds.has(meta.id) ? "bounced" : "delivered", null);
    }
    failedIds.delete(meta.id);
    events.emit("settled", meta);
  });
  // Loud, not silent: an operator must hear of a message the spool could not read.
  const onError = opts.onError ?? defaultOnError;
  queue.on("error", (err: Error) => {
    onError(err);
    events.emit("queue-error", err);
  });

  const smtpServer: PatchDecision = checkSmtpServer(opts.smtpServer ?? (await installedSmtpServer()));
  if (!smtpServer.patched) {
    const warn = opts.onWarning ?? ((message: string) => process.emitWarning(message, "MailplaneWarning"));
    warn(fallbackWarning(smtpServer));
  }
  const tls = await tlsMaterial(join(dataDir, "tls"), hostname, opts.tls);
  const gate = new ConnectionGate(opts.maxConnectionsPerIp ?? 100, opts.maxConnections ?? 1_000);
  const expansion = { steps: 0 };
  const rcptLimits: RcptLimits = {
    maxRecipients: opts.maxRecipients ?? DEFAULT_RCPT_LIMITS.maxRecipients,
    maxExpansion: opts.maxExpansion ?? DEFAULT_RCPT_LIMITS.maxExpansion,
    meter: expansion,
  };
  const senderRate =
    opts.senderRate === false ? undefined : new SenderRateLimit(opts.senderRate ?? DEFAULT_SENDER_RATE, now);
  const lockout = opts.lockout ?? new MemoryLoginLockout();
  const credentials: CredentialSource = opts.credentials ?? {
    lookup: async () => undefined,
    verify: async () => false,
    dummyHash: async () => "",
  };
  const receive = {
    snapshot,
    queue,
    log,
    resolver: authResolver,
    hostname,
    inlineLimit: opts.inlineLimit ?? 1024 * 1024,
    spfCache: new SpfCache(),
    ...(opts.rspamd ? { rspamd: opts.rspamd } : {}),
    ...(opts.clamd ? { clamd: opts.clamd } : {}),
    ...(opts.trustedArcSealers?.length
      ? { trustedArcSealers: new Set(opts.trustedArcSealers.map((d) => d.toLowerCase())) }
      : {}),
  };
  const common = {
    hostname,
    tls,
    maxMessageBytes: opts.maxMessageBytes ?? 50 * 1024 * 1024,
    greetingDelayMs: opts.greetingDelayMs ?? 0,
    smtpServer,
    snapshot,
    gate,
    rcptLimits,
    postmaster: {
      address: opts.postmaster ?? `postmaster@${hostname}`,
      configured: opts.postmaster !== undefined,
    },
    ...(callout ? { callout } : {}),
    ...(senderRate ? { senderRate } : {}),
    lockout,
    credentials,
    log,
    receive,
    // rspamd's `Hostname` and the Received: field's TCP-info, asked through the engine's DNS cache;
    // loopback and private clients are not looked up (nobody publishes their names).
    clientName:
      opts.clientName ??
      ((address: string) =>
        isLocalAddress(address) ? undefined : verifiedClientName(address, authResolver)),
    now,
  };
  const servers: SMTPServer[] = [];
  let inboundPort = 0;
  let submissionPort = 0;
  const inboundAt = opts.inbound === undefined ? { host: "127.0.0.1", port: 2525 } : opts.inbound;
  const submissionAt = opts.submission === undefined ? { host: "127.0.0.1", port: 2587 } : opts.submission;
  try {
    if (inboundAt) {
      const s = createListener({ ...common, kind: "inbound" });
      servers.push(s);
      inboundPort = await listen(s, inboundAt);
      egress.addListener({ host: inboundAt.host, port: inboundPort });
    }
    if (submissionAt) {
      const s = createListener({ ...common, kind: "submission" });
      servers.push(s);
      submissionPort = await listen(s, submissionAt);
      egress.addListener({ host: submissionAt.host, port: submissionPort });
    }
  } catch (err) {
    for (const s of servers) s.close();
    await queue.close();
    throw err;
  }

  // Quarantined messages past their days are purged hourly (SpamPanel: "stored for 28 days, after which they are purged").
  // The message log's retention (each domain's logRetentionDays) is applied in the same sweep.
  const purge = setInterval(() => {
    void purgeExpired(quarantine, log, now)
      .then(() => log.sweep())
      .catch((err) => events.emit("log-error", err));
  }, 3_600_000);
  purge.unref();

  // A deleted domain's data goes with it: now (lifetimes ended while the engine was down and since
  // re-declared) and after every policy change.
  const lifecycle = new DataLifecycle({
    snapshot,
    log,
    quarantine,
    queue,
    mailRoot,
    keep: opts.deletedDomainData === "keep",
    onPurged: (report) => events.emit("purged", report),
  });
  await lifecycle.reconcile();
  const unsubscribe = opts.policy.subscribe?.(() => {
    lifecycle.reconcile().catch((err) => events.emit("lifecycle-error", err));
  });

  const operations = createOperations({
    queue,
    quarantine,
    log,
    now,
    snapshot,
    ...(callout ? { callout } : {}),
    ...(opts.rspamd ? { rspamd: opts.rspamd } : {}),
    inject,
    hostname,
  });
  let closed = false;
  return {
    inboundPort,
    submissionPort,
    hostname,
    dataDir,
    mailRoot,
    maildirOf(address) {
      const domain = splitMailbox(address)?.domain ?? "";
      return maildirOf(mailRoot, address, snapshot().domains.get(domain)?.generation ?? "");
    },
    queue,
    quarantine,
    log,
    lifecycle,
    operations,
    events,
    expansion,
    callout,
    openConnections: () => gate.open,
    smtpServer: {
      version: smtpServer.version,
      patched: smtpServer.patched,
      reason: smtpServer.patched ? null : smtpServer.reason,
    },
    snapshot,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(purge);
      unsubscribe?.();
      await lifecycle.reconcile().catch(() => {});
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await queue!.close();
      relay.close();
      await responder.flush();
      await log.close();
      await opts.policy.close?.();
    },
  };
}

/**
 * A policy that is whatever was last `set` (tests, and engines fed by something other than the store).
 * @example const policy = staticPolicy(buildPolicySnapshot(tenancy)); policy.set(next);
 */
export function staticPolicy(initial: PolicySnapshot): PolicySource & { set(next: PolicySnapshot): void } {
  let current = initial;
  const listeners = new Set<() => void>();
  return {
    current: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      current = next;
      for (const listener of listeners) listener();
    },
  };
}
