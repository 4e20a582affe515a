/** The SMTP engine: listeners, policy snapshot, durable queue, delivery, quarantine and the message log, started together. */
import { promises as dns } from "node:dns";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { SMTPServer } from "smtp-server";
import { type DnsResolver, SpfCache } from "./content/spf.ts";
import { AutoResponder } from "./delivery/autoreply.ts";
import { MaildirStore } from "./delivery/maildir.ts";
import { type Hop, Relay } from "./delivery/relay.ts";
import { createBounce, createDeliver, type Inject } from "./delivery/worker.ts";
import { type LoginLockout, MemoryLoginLockout } from "./lockout.ts";
import { FileMessageLog, type MessageLog } from "./log.ts";
import { createOperations, type SmtpOperations } from "./operations.ts";
import type { CredentialSource } from "./phases/auth.ts";
import { ConnectionGate } from "./phases/connect.ts";
import { rcptTo } from "./phases/rcpt-to.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import { QuarantineStore } from "./quarantine.ts";
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
import { Queue, type QueuedMessage, type TargetState } from "./spool/queue.ts";
import { type TlsMaterial, tlsMaterial } from "./tls.ts";

/** Where the engine gets its policy: a fixed snapshot (tests) or the store (see policy/from-store.ts). */
export interface PolicySource {
  /** The snapshot to use now; read on every command, so a swap applies to the next command. */
  current(): PolicySnapshot;
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
  /** Send mail for domains we do not host through this server instead of their MX. */
  smarthost?: Hop;
  /** Hard message size limit; default 52,428,800 (50 MiB). */
  maxMessageBytes?: number;
  /** Bodies up to this size are kept in memory and journaled inline; default 1 MiB. */
  inlineLimit?: number;
  /**
   * Delay before the greeting; default 0 (smtp-server's own is a fixed 100 ms, kept when the
   * library runs unpatched: see smtp-server-patches.ts).
   */
  greetingDelayMs?: number;
  /** Simultaneous connections per client IP; default 100. */
  maxConnectionsPerIp?: number;
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
  /** The message log; default a JSON-lines file in the data directory. */
  log?: MessageLog;
  /**
   * The smtp-server the patch check sees (smtp-server-patches.ts); default the installed one.
   * Tests pass another release's facts to run the fallback.
   */
  smtpServer?: SmtpServerFacts;
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
  /** `<dataDir>/mail`: Maildirs as `<domain>/<local>/{tmp,new,cur}`. */
  mailRoot: string;
  queue: Queue;
  quarantine: QuarantineStore;
  log: MessageLog;
  operations: SmtpOperations;
  /** `delivered`, `deferred`, `failed`, `quarantined`, `settled` (from the queue), `injected`. */
  events: EventEmitter;
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
  const snapshot = () => opts.policy.current();
  const log = opts.log ?? new FileMessageLog(join(dataDir, "message-log.jsonl"));
  const events = new EventEmitter();
  const mailRoot = join(dataDir, "mail");
  const maildir = new MaildirStore(mailRoot);
  const relay = new Relay({ name: hostname });
  const responder = new AutoResponder(join(dataDir, "autoreply.json"), hostname);
  const quarantine = await QuarantineStore.open(join(dataDir, "quarantine"));
  let queue: Queue | undefined;

  const inject: Inject = async ({ origin, to, body, domain, subject }) => {
    const q = queue!;
    const conn = internalContext(hostname);
    const verdict = rcptTo(snapshot(), conn, newTransaction("", null), to);
    const id = newQueueId(now());
    if (verdict.action !== "accept") {
      log.record(
        logEntry(conn, {
          id,
          sender: "",
          recipients: [to],
          domain,
          classification: "rejected",
          action: "rejected",
          reply: `${origin} not sent: ${verdict.message}`,
        }),
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
    };
    await q.accept(meta, body);
    log.record({
      ...logEntry(
        { ...conn, listener: "submission" },
        {
          id,
          sender: "",
          recipients: [to],
          domain,
          classification: "clean",
          action: "accepted",
          reply: `${origin} queued`,
          subject,
          size: body.length,
          delivery: "queued",
        },
      ),
      listener: "internal",
    });
    events.emit("injected", meta);
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
      onSuppressed: (meta, why) => log.update(meta.id, "bounced", `no DSN sent: ${why}`),
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
    log.update(meta.id, "deferred", o.detail);
    events.emit("deferred", meta, t, o);
  });
  queue.on("failed", (meta: QueuedMessage, t: TargetState, o) => {
    failedIds.add(meta.id);
    events.emit("failed", meta, t, o);
  });
  queue.on("quarantined", (meta: QueuedMessage) => events.emit("quarantined", meta));
  queue.on("settled", (meta: QueuedMessage) => {
    if (meta.disposition !== "quarantine") {
      log.update(meta.id, failedIds.has(meta.id) ? "bounced" : "delivered", null);
    }
    failedIds.delete(meta.id);
    events.emit("settled", meta);
  });
  queue.on("error", (err) => events.emit("queue-error", err));

  const smtpServer: PatchDecision = checkSmtpServer(opts.smtpServer ?? (await installedSmtpServer()));
  if (!smtpServer.patched) {
    const warn = opts.onWarning ?? ((message: string) => process.emitWarning(message, "MailplaneWarning"));
    warn(fallbackWarning(smtpServer));
  }
  const tls = await tlsMaterial(join(dataDir, "tls"), hostname, opts.tls);
  const gate = new ConnectionGate(opts.maxConnectionsPerIp ?? 100);
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
    resolver,
    hostname,
    inlineLimit: opts.inlineLimit ?? 1024 * 1024,
    spfCache: new SpfCache(),
  };
  const common = {
    hostname,
    tls,
    maxMessageBytes: opts.maxMessageBytes ?? 50 * 1024 * 1024,
    greetingDelayMs: opts.greetingDelayMs ?? 0,
    smtpServer,
    snapshot,
    gate,
    lockout,
    credentials,
    log,
    receive,
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
    }
    if (submissionAt) {
      const s = createListener({ ...common, kind: "submission" });
      servers.push(s);
      submissionPort = await listen(s, submissionAt);
    }
  } catch (err) {
    for (const s of servers) s.close();
    await queue.close();
    throw err;
  }

  // Quarantined messages past their days are purged hourly (SpamPanel: "stored for 28 days, after which they are purged").
  const purge = setInterval(() => {
    void quarantine.purge(new Date(now())).then((ids) => {
      for (const id of ids) log.update(id, "deleted", "purged after quarantine days");
    });
  }, 3_600_000);
  purge.unref();

  const operations = createOperations({ queue, quarantine, log, now });
  let closed = false;
  return {
    inboundPort,
    submissionPort,
    hostname,
    dataDir,
    mailRoot,
    queue,
    quarantine,
    log,
    operations,
    events,
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
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await queue!.close();
      relay.close();
      await responder.flush();
      if (log instanceof FileMessageLog) await log.close();
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
  return {
    current: () => current,
    set(next) {
      current = next;
    },
  };
}
