import type { EventEmitter } from "node:events";
import type { ClamdScanner } from "./content/clamav.ts";
import type { DnsCacheOptions } from "./content/dns-cache.ts";
import type { RspamdScorer } from "./content/rspamd.ts";
import type { DnsResolver } from "./content/spf.ts";
import type { CalloutOptions, RecipientCallout } from "./delivery/callout.ts";
import type { EgressPolicy } from "./delivery/egress.ts";
import type { Hop } from "./delivery/relay.ts";
import type { DataLifecycle } from "./lifecycle.ts";
import type { LoginLockout } from "./lockout.ts";
import type { MessageLog } from "./message-log/entry.ts";
import type { SmtpOperations } from "./operations.ts";
import type { CredentialSource } from "./phases/auth.ts";
import type { SenderRate } from "./phases/sender-rate.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import type { QuarantineStore } from "./quarantine/store.ts";
import type { SmtpServerFacts } from "./smtp-server-patches.ts";
import type { Queue } from "./spool/queue.ts";
import type { TlsMaterial } from "./tls.ts";

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
  /** The message log; default JSON-lines files in `<dataDir>/message-log` (see message-log/log.ts). */
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
  /** `delivered`, `deferred`, `failed`, `quarantined`, `settled` (from the queue), `injected`, `transaction` (each message-log record, with its shared fields) and `recipient-refused` (tag, action). */
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
