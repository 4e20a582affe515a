/** `mailplane smtp`: runs the SMTP engine alone against the control plane's store until SIGINT/SIGTERM. */
import { join } from "node:path";
import { loadMasterKey } from "../../platform/api/access/sealing.ts";
import type { ControlPlane } from "../../platform/api/server.ts";
import { ReportScheduler } from "../../platform/reports/scheduler.ts";
import type { DnsCacheOptions } from "../../platform/smtp/content/dns-cache.ts";
import { NO_DNS } from "../../platform/smtp/content/spf.ts";
import type { CalloutOptions } from "../../platform/smtp/delivery/callout.ts";
import { EgressPolicy, parseCidrList } from "../../platform/smtp/delivery/egress.ts";
import { parseListenAddress, startSmtpEngineOnStore } from "../../platform/smtp/engine-on-store.ts";
import type { SenderRate } from "../../platform/smtp/phases/sender-rate.ts";
import { openStore, reportSharedAddresses } from "../../platform/store/index.ts";
import { isMailDomain, toAsciiDomain } from "../../sdk/src/models/common.ts";
import { type Command, type CommandIo, UsageError, untilSignal } from "../command.ts";
import {
  DEFAULT_DATA_DIR,
  optionReader,
  parseFlags,
  positiveInteger,
  postgresUrl,
  trustedProxies,
  wholeMilliseconds,
} from "../options.ts";
import { SCANNER_FLAGS, SCANNER_HELP, type Scanner, scannerFrom } from "./scanner.ts";

/** Defaults, each overridable by its environment variable and then by its flag. */
export const SMTP_DEFAULTS = {
  dataDir: DEFAULT_DATA_DIR,
  smtpListen: "127.0.0.1:2525",
  submissionListen: "127.0.0.1:2587",
  reportCheckIntervalMs: 60_000,
} as const;

/** The help lines of the report scheduler, shared by `mailplane smtp` and `mailplane serve`. */
export const REPORTS_HELP = `  --report-check-interval <ms>   how often due quarantine digests and domain reports (ReportSettings) are
                                 looked for and sent, once per period at each domain's timezone and once
                                 across every engine on the store; 0: never
                                 [$MAILPLANE_REPORT_CHECK_INTERVAL, default ${SMTP_DEFAULTS.reportCheckIntervalMs}]
`;

/**
 * \`--public-url\` (checked to be an http(s) URL) and \`--report-check-interval\` (ms; 0 turns the
 * report scheduler off).
 * @throws UsageError naming the flag and the value
 * @example reportOptionsFrom(opt) // { publicUrl: "https://mail.example.com", reportCheckIntervalMs: 60000 }
 */
export function reportOptionsFrom(opt: (flag: string, env: string) => string | undefined): {
  publicUrl: string | undefined;
  reportCheckIntervalMs: number;
} {
  const reportCheckIntervalMs =
    wholeMilliseconds(
      "report-check-interval",
      opt("report-check-interval", "MAILPLANE_REPORT_CHECK_INTERVAL"),
    ) ?? SMTP_DEFAULTS.reportCheckIntervalMs;
  const publicUrl = opt("public-url", "MAILPLANE_PUBLIC_URL");
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(publicUrl)) {
    throw new UsageError(
      `--public-url must be an http(s) URL such as https://mail.example.com, not ${JSON.stringify(publicUrl)}`,
    );
  }
  return { publicUrl, reportCheckIntervalMs };
}

/** The help lines of the SMTP caps, shared by `mailplane smtp` and `mailplane serve`. */
export const CAPS_HELP = `  --max-connections <n>          connections at once, both listeners; beyond: 421 [$MAILPLANE_SMTP_MAX_CONNECTIONS, default 1000]
  --max-connections-per-ip <n>   connections at once from one IP; beyond: 421  [$MAILPLANE_SMTP_MAX_CONNECTIONS_PER_IP, default 100]
  --max-recipients <n>           RCPT TO per message; beyond: 452 4.5.3        [$MAILPLANE_SMTP_MAX_RECIPIENTS, default 100]
  --max-expansion <n>            targets alias expansion may produce per message; beyond: 550 5.5.3
                                                                              [$MAILPLANE_SMTP_MAX_EXPANSION, default 1000]
  --sender-rate <n>/<seconds>    messages per authenticated user; beyond: 450 4.7.1; "off" for none
                                                                              [$MAILPLANE_SMTP_SENDER_RATE, default 300/3600]
  --recipient-callout <on|off>   ask a routed domain's first reachable route whether it knows each RCPT
                                 (MAIL FROM:<>, RCPT, RSET; egress policy applies); 5xx: 550 5.1.1,
                                 4xx/timeout/unreachable: accepted   [$MAILPLANE_SMTP_RECIPIENT_CALLOUT, default on]
  --callout-positive-ttl <s>     how long a route's "known" is cached   [$MAILPLANE_SMTP_CALLOUT_POSITIVE_TTL, default 86400]
  --callout-negative-ttl <s>     how long a route's "unknown" is cached [$MAILPLANE_SMTP_CALLOUT_NEGATIVE_TTL, default 3600]
  --trusted-arc-sealers <d,…>    ARC sealer domains trusted for every hosted domain (besides each domain's
                                 FilterSettings trustedArcSealers): their validated dmarc=pass lifts a
                                 DMARC failure's policy          [$MAILPLANE_TRUSTED_ARC_SEALERS, default none]
  --postmaster <address>         where RCPT TO:<Postmaster> (no domain, RFC 5321 §4.1.1.3) goes; a remote
                                 address is relayed to       [$MAILPLANE_POSTMASTER, default postmaster@<host name>,
                                                              accepted when that domain is hosted here]
  --dns-cache-entries <n|off>    DNS answers cached for SPF/DKIM/DMARC/ARC (least recently used evicted);
                                 "off": every lookup asks DNS    [$MAILPLANE_DNS_CACHE_ENTRIES, default 10000]
  --dns-cache-ttl <s>            how long an answer is reused    [$MAILPLANE_DNS_CACHE_TTL, default 300]
  --dns-cache-negative-ttl <s>   how long "no such name/record" is reused (at most --dns-cache-ttl)
                                                                 [$MAILPLANE_DNS_CACHE_NEGATIVE_TTL, default 60]
`;

const usage = `usage: mailplane smtp [options]

Runs the SMTP engine on its own, enforcing what the control plane's store holds: the same SQLite
file (give the same --data-dir as \`mailplane serve\`) or the same PostgreSQL (--database-url).
Changes made through the API are enforced within a second. Spool, Maildirs, quarantine and the
message log live in <data-dir>/smtp; only one engine may use a data directory at a time.
The operations API (quarantine, delivery queue, message log, statistics) answers for the engine of
its own process: give --api-listen to serve the /v1 API from this process too.
Outgoing mail is DKIM-signed with each domain's key, opened with the control plane's master key:
$MAILPLANE_MASTER_KEY (base64 of 32 bytes) or <data-dir>/master-key, as \`mailplane serve\` uses.
At start it warns on standard error, as \`mailplane serve\` does, of each address that two recipients
hold (data written before one address, one recipient covered users' extra addresses).

options:
  --data-dir <dir>               data directory                                [$MAILPLANE_DATA_DIR, default ${SMTP_DEFAULTS.dataDir}]
  --database-url <url>           postgres://… (else SQLite in the data directory) [$MAILPLANE_DATABASE_URL]
  --smtp-listen <host:port>      inbound (MX) listener; "off" for none          [$MAILPLANE_SMTP_LISTEN, default ${SMTP_DEFAULTS.smtpListen}]
  --submission-listen <host:port>  submission listener (STARTTLS + AUTH); "off" [$MAILPLANE_SUBMISSION_LISTEN, default ${SMTP_DEFAULTS.submissionListen}]
  --smtp-hostname <name>         name in greetings, Received: and bounces       [$MAILPLANE_SMTP_HOSTNAME, default the host name]
  --smarthost <host:port>        send mail for other domains through this server [$MAILPLANE_SMARTHOST]
  --allow-route-cidr <cidr,…>    let routes and MXs reach these special-purpose blocks (loopback, private,
                                 link-local …), e.g. 127.0.0.1/32; repeatable. The engine's and API's own
                                 listeners stay refused          [$MAILPLANE_ALLOW_ROUTE_CIDR, default none]
${CAPS_HELP}  --no-dns                       answer every DNS question "no such name" (offline machines: SPF none, no DKIM/DMARC,
                                 mail for other domains needs --smarthost)   [$MAILPLANE_SMTP_NO_DNS=1]
  --greeting-delay <ms>          wait before the 220 greeting (on the tested smtp-server release;
                                 any other runs unpatched with its own 100)    [default 0]
  --burst-hold <ms>              while clients hand messages in, delivery waits until the oldest
                                 message waited this long; 0: deliver during bursts too [$MAILPLANE_SMTP_BURST_HOLD, default 5000]
  --deleted-domain-data <purge|keep>  a deleted domain's log, quarantine, queued mail and Maildirs:
                                 purge (delete them) or keep (sealed: never served) [$MAILPLANE_DELETED_DOMAIN_DATA, default purge]
  --log-entries-in-memory <n>    message log entries kept in memory; older ones are read from its files
                                 [$MAILPLANE_LOG_ENTRIES_IN_MEMORY, default 100000]
  --log-file-bytes <n>           a message log file is rotated past this size [$MAILPLANE_LOG_FILE_BYTES, default 67108864]
  --api-listen <host:port>       also serve the /v1 HTTP API on the same store, its operations
                                 answered by this engine; port 0 picks one  [$MAILPLANE_SMTP_API_LISTEN, default off]
  --trusted-proxies <cidr,…>     with --api-listen: reverse proxies whose X-Forwarded-Proto: https counts
                                 as TLS for requireTlsForSignIn and whose X-Forwarded-For names the client
                                 IP                          [$MAILPLANE_TRUSTED_PROXIES, default none]
  --public-url <url>             the control plane as mail users reach it: quarantine digests' release
                                 links point to <url>/release/… [$MAILPLANE_PUBLIC_URL, default the
                                 --api-listen address; without either, this engine sends no reports]
${REPORTS_HELP}  --trust-all-domains            single-tenant/demo mode: every declared domain is local, verified or not
                                 (default: only verified domains receive mail) [$MAILPLANE_TRUST_ALL_DOMAINS=1]
${SCANNER_HELP}  -h, --help                     this help
`;

/** The flags of the SMTP caps, for parseFlags. */
export const CAPS_FLAGS = {
  "max-connections": { type: "string" },
  "max-connections-per-ip": { type: "string" },
  "max-recipients": { type: "string" },
  "max-expansion": { type: "string" },
  "sender-rate": { type: "string" },
  "recipient-callout": { type: "string" },
  "callout-positive-ttl": { type: "string" },
  "callout-negative-ttl": { type: "string" },
  "trusted-arc-sealers": { type: "string" },
  postmaster: { type: "string" },
  "dns-cache-entries": { type: "string" },
  "dns-cache-ttl": { type: "string" },
  "dns-cache-negative-ttl": { type: "string" },
} as const;

/**
 * `--recipient-callout` and its cache lifetimes (seconds) as engine options; "off" for none.
 * @throws Error naming the flag and the value
 * @example calloutFrom("on", "60", undefined) // { positiveTtlMs: 60_000 }
 */
export function calloutFrom(
  enabled: string | undefined,
  positiveTtl: string | undefined,
  negativeTtl: string | undefined,
): CalloutOptions | false {
  if (enabled !== undefined && enabled !== "on" && enabled !== "off") {
    throw new Error(`--recipient-callout must be on or off, not ${JSON.stringify(enabled)}`);
  }
  const positive = positiveInteger("callout-positive-ttl", positiveTtl);
  const negative = positiveInteger("callout-negative-ttl", negativeTtl);
  if (enabled === "off") return false;
  return {
    ...(positive !== undefined ? { positiveTtlMs: positive * 1000 } : {}),
    ...(negative !== undefined ? { negativeTtlMs: negative * 1000 } : {}),
  };
}

/**
 * `--dns-cache-entries` (a count or "off") and the cache's lifetimes (seconds) as engine options.
 * @throws Error naming the flag and the value
 * @example dnsCacheFrom("5000", "120", undefined) // { maxEntries: 5000, ttlMs: 120_000 }
 */
export function dnsCacheFrom(
  entries: string | undefined,
  ttl: string | undefined,
  negativeTtl: string | undefined,
): DnsCacheOptions | false {
  const seconds = (flag: string, value: string | undefined) => {
    const n = positiveInteger(flag, value);
    return n === undefined ? undefined : n * 1000;
  };
  const ttlMs = seconds("dns-cache-ttl", ttl);
  const negativeTtlMs = seconds("dns-cache-negative-ttl", negativeTtl);
  if (entries === "off") return false;
  const maxEntries = positiveInteger("dns-cache-entries", entries);
  return {
    ...(maxEntries !== undefined ? { maxEntries } : {}),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(negativeTtlMs !== undefined ? { negativeTtlMs } : {}),
  };
}

/**
 * `--sender-rate <messages>/<seconds>` or "off".
 * @throws Error naming the flag and the value
 * @example senderRateFrom("300/3600") // { messages: 300, seconds: 3600 }
 */
export function senderRateFrom(value: string | undefined): SenderRate | false | undefined {
  if (value === undefined) return undefined;
  if (value === "off") return false;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const messages = Number(m?.[1]);
  const seconds = Number(m?.[2]);
  if (!m || messages < 1 || seconds < 1)
    throw new Error(
      `--sender-rate must be <messages>/<seconds> (each ≥ 1) or off, not ${JSON.stringify(value)}`,
    );
  return { messages, seconds };
}

/** The engine options shared by `mailplane smtp` and `mailplane serve` (flag → environment variable → default, see optionReader). */
export function smtpOptionsFrom(
  opt: (flag: string, env: string) => string | undefined,
  defaults: { smtpListen: string | undefined; submissionListen: string | undefined },
) {
  try {
    const smarthost = parseListenAddress(opt("smarthost", "MAILPLANE_SMARTHOST"), false);
    const hostname = opt("smtp-hostname", "MAILPLANE_SMTP_HOSTNAME");
    const noDns = opt("no-dns", "MAILPLANE_SMTP_NO_DNS");
    const burstHoldMs = wholeMilliseconds("burst-hold", opt("burst-hold", "MAILPLANE_SMTP_BURST_HOLD"));
    const deletedDomainData = opt("deleted-domain-data", "MAILPLANE_DELETED_DOMAIN_DATA") ?? "purge";
    if (deletedDomainData !== "purge" && deletedDomainData !== "keep") {
      throw new Error(
        `--deleted-domain-data must be purge or keep, got ${JSON.stringify(deletedDomainData)}`,
      );
    }
    const logEntriesInMemory = positiveInteger(
      "log-entries-in-memory",
      opt("log-entries-in-memory", "MAILPLANE_LOG_ENTRIES_IN_MEMORY"),
    );
    const logFileBytes = positiveInteger("log-file-bytes", opt("log-file-bytes", "MAILPLANE_LOG_FILE_BYTES"));
    const count = (flag: string, env: string) => positiveInteger(flag, opt(flag, env));
    const maxConnections = count("max-connections", "MAILPLANE_SMTP_MAX_CONNECTIONS");
    const maxConnectionsPerIp = count("max-connections-per-ip", "MAILPLANE_SMTP_MAX_CONNECTIONS_PER_IP");
    const maxRecipients = count("max-recipients", "MAILPLANE_SMTP_MAX_RECIPIENTS");
    const maxExpansion = count("max-expansion", "MAILPLANE_SMTP_MAX_EXPANSION");
    const senderRate = senderRateFrom(opt("sender-rate", "MAILPLANE_SMTP_SENDER_RATE"));
    const callout = calloutFrom(
      opt("recipient-callout", "MAILPLANE_SMTP_RECIPIENT_CALLOUT"),
      opt("callout-positive-ttl", "MAILPLANE_SMTP_CALLOUT_POSITIVE_TTL"),
      opt("callout-negative-ttl", "MAILPLANE_SMTP_CALLOUT_NEGATIVE_TTL"),
    );
    const dnsCache = dnsCacheFrom(
      opt("dns-cache-entries", "MAILPLANE_DNS_CACHE_ENTRIES"),
      opt("dns-cache-ttl", "MAILPLANE_DNS_CACHE_TTL"),
      opt("dns-cache-negative-ttl", "MAILPLANE_DNS_CACHE_NEGATIVE_TTL"),
    );
    const trustedArcSealers = trustedArcSealersFrom(
      opt("trusted-arc-sealers", "MAILPLANE_TRUSTED_ARC_SEALERS"),
    );
    const postmaster = opt("postmaster", "MAILPLANE_POSTMASTER")?.trim();
    if (postmaster !== undefined && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(postmaster)) {
      throw new Error(
        `--postmaster: ${JSON.stringify(postmaster)} is not an address such as noc@example.com`,
      );
    }
    return {
      inbound: parseListenAddress(opt("smtp-listen", "MAILPLANE_SMTP_LISTEN") ?? defaults.smtpListen, false),
      submission: parseListenAddress(
        opt("submission-listen", "MAILPLANE_SUBMISSION_LISTEN") ?? defaults.submissionListen,
        false,
      ),
      ...(hostname ? { hostname } : {}),
      ...(noDns && noDns !== "0" && noDns !== "false" ? { resolver: NO_DNS } : {}),
      ...(burstHoldMs !== undefined ? { burstHoldMs } : {}),
      deletedDomainData: deletedDomainData as "purge" | "keep",
      ...(logEntriesInMemory !== undefined ? { logEntriesInMemory } : {}),
      ...(logFileBytes !== undefined ? { logFileBytes } : {}),
      ...(maxConnections !== undefined ? { maxConnections } : {}),
      ...(maxConnectionsPerIp !== undefined ? { maxConnectionsPerIp } : {}),
      ...(maxRecipients !== undefined ? { maxRecipients } : {}),
      ...(maxExpansion !== undefined ? { maxExpansion } : {}),
      ...(senderRate !== undefined ? { senderRate } : {}),
      callout,
      dnsCache,
      ...(trustedArcSealers.length > 0 ? { trustedArcSealers } : {}),
      ...(postmaster ? { postmaster } : {}),
      ...(smarthost ? { smarthost: { ...smarthost, tls: "opportunistic" as const } } : {}),
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * `--trusted-arc-sealers` / MAILPLANE_TRUSTED_ARC_SEALERS: a comma list of domains, lower-cased and
 * in punycode; default none.
 * @throws Error naming the entry that is not a domain name
 * @example trustedArcSealersFrom("Lists.Example.org, forwarder.example") // ["lists.example.org", "forwarder.example"]
 */
export function trustedArcSealersFrom(value: string | undefined): string[] {
  const entries = (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  return entries.map((entry) => {
    const domain = toAsciiDomain(entry);
    if (!isMailDomain(domain)) {
      throw new Error(
        `--trusted-arc-sealers: ${JSON.stringify(entry)} is not a domain name such as lists.example.org`,
      );
    }
    return domain;
  });
}

/**
 * \`--trust-all-domains\` / MAILPLANE_TRUST_ALL_DOMAINS: true when set (anything but "0" or "false").
 * @example trustAllDomains(opt) // false unless the flag or the variable is set
 */
export function trustAllDomains(opt: (flag: string, env: string) => string | undefined): boolean {
  const value = opt("trust-all-domains", "MAILPLANE_TRUST_ALL_DOMAINS");
  return value !== undefined && value !== "0" && value !== "false";
}

/**
 * The egress policy from `--allow-route-cidr` (repeatable, each a comma list) or else
 * MAILPLANE_ALLOW_ROUTE_CIDR (a comma list); default nothing allowed.
 * @throws UsageError naming the entry that is not an address or CIDR block
 * @example egressFrom({ "allow-route-cidr": ["127.0.0.1/32"] }, {}).allowed.has("127.0.0.1") // true
 */
export function egressFrom(values: Record<string, unknown>, env: NodeJS.ProcessEnv): EgressPolicy {
  const given = values["allow-route-cidr"];
  const lists =
    Array.isArray(given) && given.length > 0 ? given.map(String) : [env.MAILPLANE_ALLOW_ROUTE_CIDR ?? ""];
  try {
    return new EgressPolicy({ allow: lists.flatMap(parseCidrList) });
  } catch (error) {
    throw new UsageError(`--allow-route-cidr: ${(error as Error).message}`);
  }
}

/** `inbound 127.0.0.1:2525, submission off`: where a started engine listens, for the start-up line. */
export function listeners(
  smtp: { inbound: { host: string } | false; submission: { host: string } | false },
  engine: { inboundPort: number; submissionPort: number },
): string {
  const at = (a: { host: string } | false, port: number) => (a ? `${a.host}:${port}` : "off");
  return `inbound ${at(smtp.inbound, engine.inboundPort)}, submission ${at(smtp.submission, engine.submissionPort)}`;
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, {
    "data-dir": { type: "string" },
    "database-url": { type: "string" },
    "smtp-listen": { type: "string" },
    "submission-listen": { type: "string" },
    "smtp-hostname": { type: "string" },
    smarthost: { type: "string" },
    "allow-route-cidr": { type: "string", multiple: true },
    ...CAPS_FLAGS,
    ...SCANNER_FLAGS,
    "greeting-delay": { type: "string" },
    "burst-hold": { type: "string" },
    "deleted-domain-data": { type: "string" },
    "log-entries-in-memory": { type: "string" },
    "log-file-bytes": { type: "string" },
    "no-dns": { type: "boolean" },
    "api-listen": { type: "string" },
    "trusted-proxies": { type: "string" },
    "trust-all-domains": { type: "boolean" },
    "public-url": { type: "string" },
    "report-check-interval": { type: "string" },
  });
  const opt = optionReader(values, io.env);
  const dataDir = opt("data-dir", "MAILPLANE_DATA_DIR") ?? SMTP_DEFAULTS.dataDir;
  const { publicUrl, reportCheckIntervalMs } = reportOptionsFrom(opt);
  const apiListen = opt("api-listen", "MAILPLANE_SMTP_API_LISTEN");
  const proxies = trustedProxies(opt("trusted-proxies", "MAILPLANE_TRUSTED_PROXIES"));
  const databaseUrl = postgresUrl(opt("database-url", "MAILPLANE_DATABASE_URL"));
  const smtp = smtpOptionsFrom(opt, SMTP_DEFAULTS);
  const egress = egressFrom(values, io.env);
  const delay = wholeMilliseconds("greeting-delay", values["greeting-delay"]) ?? 0;
  if (!smtp.inbound && !smtp.submission) throw new UsageError("both listeners are off: nothing to run");
  const store = await openStore({ dataDir, databaseUrl });
  let engine: Awaited<ReturnType<typeof startSmtpEngineOnStore>>;
  let scanner: Scanner | undefined;
  // Opens the domains' sealed DKIM keys and signs release links: the same master key as `mailplane serve` on this data directory.
  const masterKey = loadMasterKey(dataDir);
  try {
    scanner = await scannerFrom(opt, dataDir, (m) => io.stderr(`mailplane smtp: ${m}\n`));
    engine = await startSmtpEngineOnStore({
      store,
      dataDir: join(dataDir, "smtp"),
      ...smtp,
      ...(scanner.rspamd ? { rspamd: scanner.rspamd } : {}),
      ...(scanner.clamd ? { clamd: scanner.clamd } : {}),
      egress,
      greetingDelayMs: delay,
      onError: (e) => io.stderr(`mailplane smtp: delivery queue: ${e.message}\n`),
      policy: {
        masterKey,
        onError: (e) => io.stderr(`mailplane smtp: policy refresh failed: ${(e as Error).message}\n`),
        trustAllDomains: trustAllDomains(opt),
      },
    });
  } catch (error) {
    await scanner?.close();
    await store.close();
    throw error;
  }
  let api: ControlPlane | undefined;
  if (apiListen !== undefined && apiListen !== "off") {
    try {
      // The same store, data directory and master key as `mailplane serve`; the store stays this command's.
      // Loaded only when asked for: the API's modules are a third of the engine's heap, which every
      // major garbage collection walks.
      const { startControlPlane } = await import("../../platform/api/server.ts");
      const { PlatformMetrics } = await import("../../platform/metrics.ts");
      const metrics = new PlatformMetrics();
      metrics.attachEngine(engine);
      api = await startControlPlane({
        metrics,
        dataDir,
        store,
        listen: apiListen,
        trustedProxies: proxies,
        logger: false,
        egress,
        ...(publicUrl ? { publicUrl } : {}),
        smtp: () => engine.operations,
      });
    } catch (error) {
      await engine.close();
      await scanner.close();
      await store.close();
      throw new UsageError(`--api-listen: ${(error as Error).message}`);
    }
    if (api.adminTokenPath) {
      io.stdout(`mailplane: platform-admin token written to ${api.adminTokenPath} (mode 0600)\n`);
    }
  }
  // Every engine may run the scheduler: the store's record of sends lets one send each report.
  const reportsUrl = publicUrl ?? api?.url;
  let reports: ReportScheduler | undefined;
  if (reportCheckIntervalMs > 0 && reportsUrl) {
    reports = await ReportScheduler.open({
      store,
      engine,
      masterKey,
      publicUrl: reportsUrl,
      dataDir: join(dataDir, "smtp"),
      onError: (e) => io.stderr(`mailplane smtp: reports: ${e.message}\n`),
    });
    reports.start(reportCheckIntervalMs);
  }
  io.stdout(
    `mailplane: reports: ${reports ? `every ${reportCheckIntervalMs} ms, release links at ${reportsUrl}` : reportCheckIntervalMs > 0 ? "off (no --public-url for release links)" : "off"}\n`,
  );
  // As `mailplane serve` warns: old data may give one address to two recipients (docs/smtp.md).
  await reportSharedAddresses(store, (message) => io.stderr(`mailplane smtp: warning: ${message}\n`));
  io.stdout(`mailplane: spam scoring: ${scanner.description}\n`);
  io.stdout(`mailplane: virus scanning: ${scanner.clamdDescription ?? "off"}\n`);
  // Handlers first: whoever waits for the line below may send SIGTERM at once.
  const stopped = untilSignal();
  // Last, so whoever waits for this line has seen everything before it.
  io.stdout(
    `mailplane: SMTP engine listening: ${listeners(smtp, engine)}${api ? `, API ${api.url}` : ""} (store: ${store.dialect}, revision ${engine.policy.revision()})\n`,
  );
  const signal = await stopped;
  io.stdout(`mailplane: ${signal}, shutting down\n`);
  await reports?.close();
  await api?.close();
  await engine.close();
  await scanner.close();
  await store.close();
  return 0;
}

/** The smtp command. */
export const command: Command = {
  name: "smtp",
  summary: "run the SMTP engine alone against the control plane's store",
  usage,
  run,
};
