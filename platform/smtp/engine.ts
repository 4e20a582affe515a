/** The SMTP engine: listeners, policy snapshot, durable queue, delivery, quarantine and the message log, started together. */
import { promises as dns } from "node:dns";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { SMTPServer } from "smtp-server";
import { isLocalAddress, verifiedClientName } from "./content/client-name.ts";
import { DnsCache } from "./content/dns-cache.ts";
import { type DnsResolver, SpfCache } from "./content/spf.ts";
import { AutoResponder } from "./delivery/autoreply.ts";
import { RecipientCallout } from "./delivery/callout.ts";
import { addressLookup, EgressPolicy } from "./delivery/egress.ts";
import { MaildirStore, maildirOf } from "./delivery/maildir.ts";
import { Relay } from "./delivery/relay.ts";
import { createBounce, createDeliver } from "./delivery/worker.ts";
import type { ListenAddress, PolicySource, SmtpEngine, SmtpEngineOptions } from "./engine-contract.ts";
import { createInject } from "./internal-mail.ts";
import { currentLifetime, DataLifecycle } from "./lifecycle.ts";
import { createListener } from "./listener.ts";
import { MemoryLoginLockout } from "./lockout.ts";
import type { LogFields, MessageLog } from "./message-log/entry.ts";
import { importLegacyLog } from "./message-log/legacy-import.ts";
import { FileMessageLog } from "./message-log/log.ts";
import { createOperations } from "./operations.ts";
import { declaredOwner, type MessageView, viewsOfMessage } from "./owners.ts";
import type { CredentialSource } from "./phases/auth.ts";
import { ConnectionGate } from "./phases/connect.ts";
import { DEFAULT_RCPT_LIMITS, type RcptLimits } from "./phases/rcpt-to.ts";
import type { Refusal } from "./phases/result.ts";
import { DEFAULT_SENDER_RATE, SenderRateLimit } from "./phases/sender-rate.ts";
import { splitMailbox } from "./policy/matchers.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import { purgeExpired } from "./quarantine/operations.ts";
import { QuarantineStore } from "./quarantine/store.ts";
import {
  checkSmtpServer,
  fallbackWarning,
  installedSmtpServer,
  type PatchDecision,
} from "./smtp-server-patches.ts";
import { Queue } from "./spool/queue.ts";
import type { QueuedMessage, TargetState } from "./spool/queued-message.ts";
import { tlsMaterial } from "./tls.ts";

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
  const storedLog =
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
    await importLegacyLog(join(dataDir, "message-log.jsonl"), storedLog, (domain) => {
      const d = snapshot().declared.get(domain);
      return d && d.generation === "" ? declaredOwner(d) : undefined;
    });
  }
  const events = new EventEmitter();
  const log = announcingTransactions(storedLog, events);
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

  const inject = createInject({ queue: () => queue!, hostname, now, snapshot, log, events });

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
    // Every refused recipient, logged or not (unknown recipients are logged only when the domain asks), for the metrics.
    onRecipientRefused: (refusal: Refusal) =>
      events.emit("recipient-refused", refusal.tag ?? "policy", refusal.action),
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

/**
 * The message log as the engine uses it: each transaction it records is also announced on `events`
 * as `transaction` (once, with the fields every view shares), for the platform's metrics. Entries
 * imported from an earlier version's log are recorded before this, and are not announced.
 */
function announcingTransactions(log: MessageLog, events: EventEmitter): MessageLog {
  const record = (fields: LogFields, views: readonly MessageView[]) => {
    log.record(fields, views);
    events.emit("transaction", fields);
  };
  // A Proxy rather than a wrapper class: every other member (and getter) of whichever log is in use
  // passes through untouched, bound to the log itself (its private fields need that) once, not per call.
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(log, {
    get(target, property) {
      if (property === "record") return record;
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      if (!bound.has(property)) bound.set(property, value.bind(target));
      return bound.get(property);
    },
  });
}
