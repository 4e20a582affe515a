/** `mailplane serve`: runs the control plane and, given a listener, the SMTP engine until SIGINT/SIGTERM. */
import { join } from "node:path";
import { loadMasterKey } from "../../platform/api/access/sealing.ts";
import { startControlPlane } from "../../platform/api/server.ts";
import { PlatformMetrics } from "../../platform/metrics.ts";
import { ReportScheduler } from "../../platform/reports/scheduler.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../platform/smtp/engine-on-store.ts";
import { type Command, type CommandIo, UsageError, untilSignal } from "../command.ts";
import {
  DEFAULT_DATA_DIR,
  optionReader,
  parseFlags,
  postgresUrl,
  trustedProxies,
  wholeMilliseconds,
} from "../options.ts";
import { SCANNER_FLAGS, SCANNER_HELP, type Scanner, scannerFrom } from "./scanner.ts";
import {
  CAPS_FLAGS,
  CAPS_HELP,
  egressFrom,
  listeners,
  REPORTS_HELP,
  reportOptionsFrom,
  smtpOptionsFrom,
  trustAllDomains,
} from "./smtp.ts";

/** Defaults, each overridable by its environment variable and then by its flag. */
export const SERVE_DEFAULTS = {
  dataDir: DEFAULT_DATA_DIR,
  listen: "127.0.0.1:8080",
  logLevel: "info",
  domainCheckIntervalMs: 900_000,
} as const;

const usage = `usage: mailplane serve [options]

Runs the mailplane control plane (HTTP API) on SQLite in the data directory, or on PostgreSQL.
The first start writes a platform-admin token to <data-dir>/admin-token (mode 0600) and prints
the file's path; the token itself is never printed or logged. Secrets the platform must read back
(each domain's DKIM private key) are sealed in the store with a master key: $MAILPLANE_MASTER_KEY (base64
of 32 bytes; give every node sharing a PostgreSQL store the same one) or <data-dir>/master-key,
created on first start (mode 0600). Prometheus metrics: GET /metrics with a platform-admin token.

options:
  --data-dir <dir>        data directory (SQLite file, admin token)    [$MAILPLANE_DATA_DIR, default ${SERVE_DEFAULTS.dataDir}]
  --listen <host:port>    HTTP API address; port 0 picks a free one     [$MAILPLANE_LISTEN, default ${SERVE_DEFAULTS.listen}]
  --database-url <url>    postgres://… to use PostgreSQL instead of SQLite [$MAILPLANE_DATABASE_URL]
  --mx-host <host>        host published as every domain's MX            [$MAILPLANE_MX_HOST, default mx.mailplane.test]
  --rate-limit <n>/<burst>  per-token requests per second and burst      [$MAILPLANE_RATE_LIMIT, default 200/1000; "off" disables]
  --log-level <level>     fatal, error, warn, info, debug or silent      [$MAILPLANE_LOG_LEVEL, default ${SERVE_DEFAULTS.logLevel}]
  --domain-check-interval <ms>  how often pending domain names' verification TXT records are looked up
                          again (a name pending for days: about daily); 0: only on request
                                                                         [$MAILPLANE_DOMAIN_CHECK_INTERVAL, default ${SERVE_DEFAULTS.domainCheckIntervalMs}]
  --trusted-proxies <cidr,…>  reverse proxies whose X-Forwarded-Proto: https counts as TLS for a
                          PasswordPolicy's requireTlsForSignIn and whose X-Forwarded-For names the
                          client IP of lockouts, access rules and the login audit (IP addresses or CIDR blocks)
                                                                         [$MAILPLANE_TRUSTED_PROXIES, default none: only TLS sockets]
  --public-url <url>      the control plane as mail users reach it: quarantine digests' release links
                          point to <url>/release/…, password reset links to <url>/console/#/reset/…
                                                                 [$MAILPLANE_PUBLIC_URL, default http://<listen address>]
${REPORTS_HELP}  -h, --help              this help

SMTP engine (started when a listener is given; its spool, Maildirs and quarantine live in <data-dir>/smtp;
\`mailplane smtp\` runs it alone against the same store):
  --smtp-listen <host:port>        inbound (MX) listener, e.g. 127.0.0.1:2525  [$MAILPLANE_SMTP_LISTEN]
  --submission-listen <host:port>  submission listener (STARTTLS + AUTH), e.g. 127.0.0.1:2587 [$MAILPLANE_SUBMISSION_LISTEN]
  --smtp-hostname <name>           name in greetings, Received: and bounces    [$MAILPLANE_SMTP_HOSTNAME, default the host name]
  --smarthost <host:port>          send mail for other domains through this server [$MAILPLANE_SMARTHOST]
  --allow-route-cidr <cidr,…>      let routes reach these special-purpose blocks (loopback, private,
                                   link-local …), e.g. 127.0.0.1/32; repeatable; checked when a route is
                                   written and before every connection [$MAILPLANE_ALLOW_ROUTE_CIDR, default none]
${CAPS_HELP}  --no-dns                         no DNS: SPF none, no DKIM/DMARC; others need --smarthost [$MAILPLANE_SMTP_NO_DNS=1]
  --burst-hold <ms>                while clients hand messages in, delivery waits until the oldest
                                   message waited this long; 0: deliver during bursts too [$MAILPLANE_SMTP_BURST_HOLD, default 5000]
  --deleted-domain-data <purge|keep>  a deleted domain's log, quarantine, queued mail and Maildirs:
                                   purge (delete them) or keep (sealed: never served) [$MAILPLANE_DELETED_DOMAIN_DATA, default purge]
  --log-entries-in-memory <n>      message log entries kept in memory; older ones are read from its files
                                   [$MAILPLANE_LOG_ENTRIES_IN_MEMORY, default 100000]
  --log-file-bytes <n>             a message log file is rotated past this size [$MAILPLANE_LOG_FILE_BYTES, default 67108864]
  --trust-all-domains              single-tenant/demo mode: every declared domain is local, verified or
                                   not. Default: a domain receives mail only once its owner verified it
                                   (DNS TXT record, or a platform admin) [$MAILPLANE_TRUST_ALL_DOMAINS=1]
${SCANNER_HELP}`;

function rateLimit(value: string | undefined) {
  if (value === undefined) return undefined;
  if (value === "off") return false as const;
  const m = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value);
  if (!m)
    throw new UsageError(`--rate-limit must be <per-second>/<burst> or off, got ${JSON.stringify(value)}`);
  return { perSecond: Number(m[1]), burst: Number(m[2]) };
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, {
    "data-dir": { type: "string" },
    listen: { type: "string" },
    "database-url": { type: "string" },
    "mx-host": { type: "string" },
    "rate-limit": { type: "string" },
    "log-level": { type: "string" },
    "smtp-listen": { type: "string" },
    "submission-listen": { type: "string" },
    "smtp-hostname": { type: "string" },
    smarthost: { type: "string" },
    "allow-route-cidr": { type: "string", multiple: true },
    ...CAPS_FLAGS,
    ...SCANNER_FLAGS,
    "burst-hold": { type: "string" },
    "deleted-domain-data": { type: "string" },
    "log-entries-in-memory": { type: "string" },
    "log-file-bytes": { type: "string" },
    "no-dns": { type: "boolean" },
    "trust-all-domains": { type: "boolean" },
    "domain-check-interval": { type: "string" },
    "trusted-proxies": { type: "string" },
    "public-url": { type: "string" },
    "report-check-interval": { type: "string" },
  });
  const opt = optionReader(values, io.env);
  const dataDir = opt("data-dir", "MAILPLANE_DATA_DIR") ?? SERVE_DEFAULTS.dataDir;
  const databaseUrl = postgresUrl(opt("database-url", "MAILPLANE_DATABASE_URL"));
  const mxHost = opt("mx-host", "MAILPLANE_MX_HOST");
  const limit = rateLimit(opt("rate-limit", "MAILPLANE_RATE_LIMIT"));
  const level = opt("log-level", "MAILPLANE_LOG_LEVEL") ?? SERVE_DEFAULTS.logLevel;
  const domainCheckIntervalMs =
    wholeMilliseconds(
      "domain-check-interval",
      opt("domain-check-interval", "MAILPLANE_DOMAIN_CHECK_INTERVAL"),
    ) ?? SERVE_DEFAULTS.domainCheckIntervalMs;

  const proxies = trustedProxies(opt("trusted-proxies", "MAILPLANE_TRUSTED_PROXIES"));
  const { publicUrl, reportCheckIntervalMs } = reportOptionsFrom(opt);

  const smtp = smtpOptionsFrom(opt, { smtpListen: undefined, submissionListen: undefined });
  // One policy for the API (routes written) and the engine (connections made), so they agree.
  const egress = egressFrom(values, io.env);
  let engine: EngineOnStore | undefined;
  let scanner: Scanner | undefined;
  let reports: ReportScheduler | undefined;
  // One master key for the API (which seals each domain's DKIM key) and the engine (which signs with it).
  const masterKey = loadMasterKey(dataDir);
  const metrics = new PlatformMetrics();
  const cp = await startControlPlane({
    metrics,
    dataDir,
    masterKey,
    listen: opt("listen", "MAILPLANE_LISTEN") ?? SERVE_DEFAULTS.listen,
    databaseUrl,
    ...(mxHost ? { mxHost } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...(limit === undefined ? {} : { rateLimit: limit }),
    logger: level === "silent" ? false : { level },
    egress,
    smtp: () => engine?.operations,
    domainCheckIntervalMs,
    trustedProxies: proxies,
    // Ownership checks ask the engine's DNS (none with --no-dns).
    ...(smtp.resolver ? { resolver: smtp.resolver } : {}),
  });
  if (cp.adminTokenPath) {
    io.stdout(`mailplane: platform-admin token written to ${cp.adminTokenPath} (mode 0600)\n`);
  }
  if (smtp.inbound || smtp.submission) {
    try {
      scanner = await scannerFrom(opt, dataDir, (m) => io.stderr(`mailplane serve: ${m}\n`));
      engine = await startSmtpEngineOnStore({
        store: cp.store,
        dataDir: join(dataDir, "smtp"),
        ...smtp,
        ...(scanner.rspamd ? { rspamd: scanner.rspamd } : {}),
        ...(scanner.clamd ? { clamd: scanner.clamd } : {}),
        onError: (e) => io.stderr(`mailplane serve: SMTP delivery queue: ${e.message}\n`),
        egress,
        policy: {
          masterKey,
          onError: (e) => io.stderr(`mailplane serve: SMTP policy refresh failed: ${(e as Error).message}\n`),
          trustAllDomains: trustAllDomains(opt),
        },
      });
    } catch (error) {
      await scanner?.close();
      await cp.close();
      throw error;
    }
    metrics.attachEngine(engine);
    if (reportCheckIntervalMs > 0) {
      reports = await ReportScheduler.open({
        store: cp.store,
        engine,
        masterKey,
        publicUrl: publicUrl ?? cp.url,
        dataDir: join(dataDir, "smtp"),
        onError: (e) => io.stderr(`mailplane serve: reports: ${e.message}\n`),
      });
      reports.start(reportCheckIntervalMs);
    }
    io.stdout(`mailplane: SMTP engine listening: ${listeners(smtp, engine)}\n`);
    io.stdout(`mailplane: spam scoring: ${scanner.description}\n`);
    io.stdout(`mailplane: virus scanning: ${scanner.clamdDescription ?? "off"}\n`);
  }
  io.stdout(`mailplane: web console at ${cp.url}/console/\n`);
  // Handlers first: whoever waits for the line below may send SIGTERM at once.
  const stopped = untilSignal();
  // Last, so whoever waits for this line has seen everything before it.
  io.stdout(`mailplane: control plane listening on ${cp.url} (store: ${cp.store.dialect})\n`);
  const signal = await stopped;
  io.stdout(`mailplane: ${signal}, shutting down\n`);
  await reports?.close();
  await engine?.close();
  await scanner?.close();
  await cp.close();
  return 0;
}

/** The serve command. */
export const command: Command = {
  name: "serve",
  summary: "run the control plane (HTTP API) on SQLite or PostgreSQL, and the SMTP engine given a listener",
  usage,
  run,
};
