/** Relaying over SMTP: a domain's hops in order (4xx or no answer → the next), every address checked by the egress policy, TLS verified where asked, REQUIRETLS honoured. */
import { isIP } from "node:net";
import type SMTPConnection from "nodemailer/lib/smtp-connection";
import type { SMTPConnectionSendInfo } from "nodemailer/lib/smtp-connection";
import { NO_DNS } from "../content/spf.ts";
import { type AddressLookup, addressLookup, EgressPolicy } from "./egress.ts";
import { SessionPool, type SessionTarget, TlsDemandError } from "./smtp-sessions.ts";

/** One downstream server to try. */
export interface Hop {
  host: string;
  port: number;
  tls: "none" | "opportunistic" | "required";
  /** With `required`: SHA-256 pins of the server's key (`sha256/<base64>`) or certificate (`AB:CD:…`). */
  tlsPins?: string[] | undefined;
  /** With `required`: PEM CA certificates the chain must lead to instead of the system's. */
  tlsCa?: string | undefined;
  /**
   * Where the hop comes from: a tenant's route (default), a remote domain's MX (DNS), or the
   * platform admin's smarthost — the only one the egress policy does not check.
   */
  source?: "route" | "mx" | "smarthost";
}

/** The outcome for one recipient. */
export interface RelayResult {
  address: string;
  status: "delivered" | "deferred" | "failed";
  /** The remote reply (or the connection error) as text. */
  detail: string;
  /** RFC 3463 status for DSNs. */
  statusCode: string;
  /** `host:port` of the server that answered last. */
  remoteMta?: string;
}

/** Relay options; times in milliseconds. */
export interface RelayOptions {
  /** Our EHLO name. */
  name: string;
  /** Sessions open at once per destination. Default 4. */
  poolSize?: number;
  /** Connect/greeting timeout. Default 30,000. */
  connectTimeoutMs?: number;
  /** Idle socket timeout during a transaction. Default 120,000. */
  socketTimeoutMs?: number;
  /** Which addresses may be reached; default refuses every special-purpose block (nothing allowed). */
  egress?: EgressPolicy;
  /** Host → addresses; default A/AAAA through the system's DNS, then the hosts file. */
  lookup?: AddressLookup;
  /** A recipient probe ({@link Relay.probe}) gives up after this long, connecting included. Default 10,000. */
  probeTimeoutMs?: number;
}

/**
 * What a route said of one recipient: `accepted` (2xx to RCPT), `rejected` (5xx to RCPT), or
 * `unknown` (4xx, no route reachable, refused by the egress policy, timed out: the caller fails open).
 */
export interface ProbeResult {
  outcome: "accepted" | "rejected" | "unknown";
  /** The route's reply or why none was had. */
  detail: string;
  /** `host:port` of the route that answered, when one did. */
  remoteMta?: string;
}

/** What {@link Relay.send} is asked to honour for one message. */
export interface SendOptions {
  /**
   * RFC 8689 REQUIRETLS: relay only over TLS whose certificate verifies (chain and name, or the
   * route's pin) to a server that advertises REQUIRETLS, with REQUIRETLS on MAIL FROM; otherwise
   * the message fails with 5.7.30 (§4.2.1, §5).
   */
  requireTls?: boolean;
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** The enhanced code in a reply (`550 5.1.1 …` → 5.1.1), or a class default. */
export function enhancedOf(reply: string | undefined, code: number | undefined): string {
  const m = reply ? /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(reply) : null;
  if (m) return m[1]!;
  if (code && code >= 500) return "5.0.0";
  // No reply at all (refused, timed out): RFC 3463 X.4.1 no answer from host.
  return code && code >= 400 ? "4.0.0" : "4.4.1";
}

/** A hop that failed as a whole (nothing was sent for any recipient). */
interface HopFailure {
  detail: string;
  statusCode: string;
  /** Retrying cannot help (a refused MX address, REQUIRETLS unmet); else the queue retries. */
  permanent: boolean;
}

/** RFC 8689 §5 / RFC 3463 registry: "REQUIRETLS support required". */
const REQUIRETLS_STATUS = "5.7.30";

/**
 * Sends messages to downstream servers. For each hop the host is resolved, every address is put
 * to the egress policy, and a session is opened to an address that passed — so DNS cannot change
 * its answer between the check and the connection — with the host name kept for SNI and the
 * certificate check. Reply classes decide: 2xx delivered, 5xx failed (the message bounces,
 * RFC 5321 §4.2.1), 4xx or no answer → the same recipients are offered to the next hop. A hop
 * refused as a whole (egress policy, unverified TLS) moves on too. When no hop delivered, the
 * recipients are `deferred` (the queue retries) unless every hop failed permanently.
 *
 * @example
 * const relay = new Relay({ name: "mx.example.test", egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }) });
 * const results = await relay.send([{ host: "127.0.0.1", port: 2526, tls: "none" }], "a@b.example", ["c@d.example"], raw);
 */
export class Relay {
  readonly #pool: SessionPool;
  /** Probes get sessions of their own, never reused: one never waits behind, or holds up, a delivery. */
  readonly #probes: SessionPool;
  readonly #probeTimeoutMs: number;
  readonly #egress: EgressPolicy;
  readonly #lookup: AddressLookup;

  constructor(opts: RelayOptions) {
    this.#pool = new SessionPool({
      name: opts.name,
      ...(opts.poolSize === undefined ? {} : { perDestination: opts.poolSize }),
      ...(opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs }),
      ...(opts.socketTimeoutMs === undefined ? {} : { socketTimeoutMs: opts.socketTimeoutMs }),
    });
    this.#probeTimeoutMs = opts.probeTimeoutMs ?? 10_000;
    this.#probes = new SessionPool({
      name: opts.name,
      idleMs: 0,
      connectTimeoutMs: this.#probeTimeoutMs,
      socketTimeoutMs: this.#probeTimeoutMs,
    });
    this.#egress = opts.egress ?? new EgressPolicy();
    this.#lookup = opts.lookup ?? addressLookup(NO_DNS);
  }

  /**
   * Asks the first reachable hop whether it takes `recipient`, without sending a message (a
   * recipient callout, as Postfix verify(8) or Exim's `verify = recipient/callout`): connect and
   * EHLO as for a delivery — the same lookup, egress policy and TLS demands, so a probe reaches
   * nothing a delivery may not — then `MAIL FROM:<>`, `RCPT TO:<recipient>` and `RSET`/`QUIT`.
   * The null sender means no reply can ever go anywhere (RFC 5321 §4.5.5). Hops that cannot be
   * reached are skipped; the first that answers decides.
   *
   * @example await relay.probe([{ host: "127.0.0.1", port: 2526, tls: "none" }], "bob@routed.example") // { outcome: "rejected", … }
   */
  async probe(hops: Hop[], recipient: string): Promise<ProbeResult> {
    const why: string[] = [];
    for (const hop of hops) {
      const mta = hostPort(hop.host, hop.port);
      let addresses: string[];
      try {
        addresses = await this.#lookup(hop.host);
      } catch (err) {
        why.push(`${mta}: cannot resolve ${hop.host}: ${(err as Error).message}`);
        continue;
      }
      const servername = isIP(hop.host.replace(/^\[(.*)\]$/, "$1")) ? undefined : hop.host;
      for (const address of addresses) {
        const refused = hop.source === "smarthost" ? undefined : this.#egress.refusal(address, hop.port);
        if (refused) {
          why.push(`${mta}: refused by the platform's egress policy: ${refused}`);
          continue;
        }
        const target: SessionTarget = {
          address,
          port: hop.port,
          servername,
          tls: { mode: hop.tls, pins: hop.tlsPins, ca: hop.tlsCa },
        };
        const answer = await this.#probeVia(target, mta, recipient);
        if (answer) return answer;
        why.push(`${mta}: not reachable`);
      }
    }
    return { outcome: "unknown", detail: why.join("; ") || "no route" };
  }

  /** One probe session; undefined when it never got to MAIL FROM (the next address or hop is tried). */
  async #probeVia(target: SessionTarget, mta: string, recipient: string): Promise<ProbeResult | undefined> {
    let conn: SMTPConnection;
    try {
      conn = (await this.#probes.acquire(target)).conn;
    } catch {
      return undefined;
    }
    const raw = conn as unknown as RawCommands;
    const timeout = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), this.#probeTimeoutMs);
      timer.unref();
      conn.once("end", () => {
        clearTimeout(timer);
        resolve("closed");
      });
    });
    const ask = (line: string) =>
      Promise.race([
        new Promise<string>((resolve) => {
          raw._responseActions.push((reply: string) => resolve(reply));
          raw._sendCommand(line);
        }),
        timeout,
      ]);
    try {
      // RFC 5321 §4.5.5: the null reverse-path, as for a DSN, so nothing is ever sent back.
      const mail = await ask("MAIL FROM:<>");
      if (!mail.startsWith("2"))
        return { outcome: "unknown", detail: `${mta}: MAIL FROM:<> → ${mail}`, remoteMta: mta };
      const rcpt = await ask(`RCPT TO:<${recipient}>`);
      const outcome = rcpt.startsWith("2") ? "accepted" : rcpt.startsWith("5") ? "rejected" : "unknown";
      return { outcome, detail: `${mta}: ${rcpt}`, remoteMta: mta };
    } finally {
      if (conn._socket && !conn._socket.destroyed) {
        await Promise.race([ask("RSET"), timeout]).catch(() => {});
        conn.quit();
      }
      this.#probes.release(target, conn, false);
    }
  }

  /** Tries `hops` in order until every recipient is delivered or failed; see the class comment. */
  async send(
    hops: Hop[],
    from: string,
    recipients: string[],
    body: Buffer,
    options: SendOptions = {},
  ): Promise<RelayResult[]> {
    const results = new Map<string, RelayResult>();
    let remaining = [...recipients];
    const lastTemp = new Map<string, RelayResult>();
    let lastHard: HopFailure | undefined;
    for (const hop of hops) {
      if (remaining.length === 0) break;
      const mta = hostPort(hop.host, hop.port);
      const failure = await this.#viaHop(hop, mta, from, remaining, body, options, results, lastTemp);
      if (failure) {
        for (const r of remaining) {
          const result: RelayResult = {
            address: r,
            status: failure.permanent ? "failed" : "deferred",
            detail: failure.detail,
            statusCode: failure.statusCode,
            remoteMta: mta,
          };
          if (failure.permanent) lastHard = failure;
          else lastTemp.set(r, result);
        }
      }
      remaining = remaining.filter((r) => !results.has(r));
    }
    for (const r of remaining) {
      // A temporary failure anywhere means a later attempt may find that hop working.
      const temp = lastTemp.get(r);
      results.set(
        r,
        temp ??
          (lastHard
            ? { address: r, status: "failed", detail: lastHard.detail, statusCode: lastHard.statusCode }
            : { address: r, status: "deferred", detail: "no route available", statusCode: "4.4.4" }),
      );
    }
    return recipients.map((r) => results.get(r)!);
  }

  /** One hop: resolve, check, connect, send. Returns a failure of the hop as a whole, else records per-recipient outcomes. */
  async #viaHop(
    hop: Hop,
    mta: string,
    from: string,
    recipients: string[],
    body: Buffer,
    options: SendOptions,
    results: Map<string, RelayResult>,
    temp: Map<string, RelayResult>,
  ): Promise<HopFailure | undefined> {
    const requireTls = options.requireTls === true;
    if (requireTls && hop.source === "mx") {
      // §4.2.1: the MX lookup of a REQUIRETLS message must be DNSSEC-validated (or MTA-STS);
      // this platform validates neither, so it does not pretend to.
      return {
        detail: `${mta}: REQUIRETLS needs a DNSSEC-validated MX lookup, which this platform does not do (RFC 8689 §4.2.1)`,
        statusCode: REQUIRETLS_STATUS,
        permanent: true,
      };
    }
    let addresses: string[];
    try {
      addresses = await this.#lookup(hop.host);
    } catch (err) {
      return {
        detail: `${mta}: cannot resolve ${hop.host}: ${(err as Error).message}`,
        statusCode: "4.4.3",
        permanent: false,
      };
    }
    const allowed: string[] = [];
    const refused: string[] = [];
    for (const address of addresses) {
      const why = hop.source === "smarthost" ? undefined : this.#egress.refusal(address, hop.port);
      if (why) refused.push(why);
      else allowed.push(address);
    }
    if (allowed.length === 0) {
      // A tenant can fix a route (the queue retries with the new one); an MX that points at
      // private space is the remote domain's doing, and retrying will not change it.
      return {
        detail: `${mta}: refused by the platform's egress policy: ${refused.join("; ")}`,
        statusCode: hop.source === "mx" ? "5.4.4" : "4.4.4",
        permanent: hop.source === "mx",
      };
    }
    const tls = {
      mode: requireTls ? ("required" as const) : hop.tls,
      pins: hop.tlsPins,
      ca: hop.tlsCa,
    };
    const servername = isIP(hop.host.replace(/^\[(.*)\]$/, "$1")) ? undefined : hop.host;
    let lastError: HopFailure | undefined;
    for (const address of allowed) {
      const target: SessionTarget = { address, port: hop.port, servername, tls };
      const outcome = await this.#sendVia(target, mta, from, recipients, body, requireTls, results, temp);
      if (outcome === "answered") return undefined;
      lastError = outcome;
      // Only a connection that never got going tries the host's next address.
      if (outcome.statusCode !== "4.4.1") break;
    }
    return lastError;
  }

  /** One session to one checked address; "answered" once the server took part in the transaction. */
  async #sendVia(
    target: SessionTarget,
    mta: string,
    from: string,
    recipients: string[],
    body: Buffer,
    requireTls: boolean,
    results: Map<string, RelayResult>,
    temp: Map<string, RelayResult>,
  ): Promise<HopFailure | "answered"> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let session: { conn: SMTPConnection; reused: boolean };
      try {
        session = await this.#pool.acquire(target);
      } catch (raw) {
        const err = raw as SmtpError;
        if (err instanceof TlsDemandError) {
          return {
            detail: `${mta}: TLS required: ${err.message}`,
            statusCode: requireTls ? REQUIRETLS_STATUS : "4.7.5",
            permanent: requireTls,
          };
        }
        if (err.code === "ETLS") {
          // STARTTLS not offered, refused or failed: RFC 3463 X.7.4 security features not supported.
          return requireTls
            ? {
                detail: `${mta}: REQUIRETLS needs TLS, which failed: ${err.message}`,
                statusCode: REQUIRETLS_STATUS,
                permanent: true,
              }
            : { detail: `${mta}: TLS failed: ${err.message}`, statusCode: "4.7.4", permanent: false };
        }
        if (err.responseCode) {
          // The server refused the session itself (554 greeting, 421): its reply class decides.
          for (const r of recipients) classify(err, r, mta, results, temp);
          return "answered";
        }
        return { detail: `${mta}: ${err.message}`, statusCode: "4.4.1", permanent: false };
      }
      const { conn, reused } = session;
      try {
        const info = await sendOn(conn, from, recipients, body, requireTls);
        for (const a of info.accepted) {
          results.set(a, {
            address: a,
            status: "delivered",
            detail: info.response,
            statusCode: "2.0.0",
            remoteMta: mta,
          });
        }
        for (const e of info.rejectedErrors ?? []) classify(e, e.recipient ?? "", mta, results, temp);
        this.#pool.release(target, conn, true);
        return "answered";
      } catch (raw) {
        const err = raw as SmtpError;
        if (err.code === "EREQUIRETLS") {
          // Refused before MAIL FROM was sent: the session is still clean.
          this.#pool.release(target, conn, true);
          return {
            detail: `${mta}: does not support REQUIRETLS (RFC 8689): ${err.message}`,
            statusCode: REQUIRETLS_STATUS,
            permanent: true,
          };
        }
        if (!err.responseCode) {
          this.#pool.release(target, conn, false);
          // A pooled session the server closed meanwhile: once more with a fresh one.
          if (reused) continue;
          return { detail: `${mta}: ${err.message}`, statusCode: "4.4.1", permanent: false };
        }
        if (err.rejectedErrors?.length) {
          for (const e of err.rejectedErrors) classify(e, e.recipient ?? "", mta, results, temp);
        } else {
          for (const r of recipients) classify(err, r, mta, results, temp);
        }
        this.#pool.release(target, conn, await resetSession(conn));
        return "answered";
      }
    }
    return { detail: `${mta}: connection lost`, statusCode: "4.4.1", permanent: false };
  }

  /** Closes every idle session. */
  close(): void {
    this.#pool.close();
    this.#probes.close();
  }
}

/** The two internals of nodemailer's SMTPConnection a probe needs: one command, its reply. */
interface RawCommands {
  _sendCommand(line: string): void;
  _responseActions: ((reply: string) => void)[];
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function sendOn(
  conn: SMTPConnection,
  from: string,
  to: string[],
  body: Buffer,
  requireTls: boolean,
): Promise<SMTPConnectionSendInfo> {
  return new Promise((resolve, reject) => {
    conn.send(
      { from, to, size: body.length, ...(requireTls ? { requireTLSExtensionEnabled: true } : {}) },
      body,
      (err, info) => (err ? reject(err) : resolve(info!)),
    );
  });
}

/** RSET after a refused transaction, so the session can carry the next one; false when it cannot. */
function resetSession(conn: SMTPConnection): Promise<boolean> {
  if (!conn._socket || conn._socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => conn.reset((err) => resolve(!err)));
}

function classify(
  err: SmtpError,
  recipient: string,
  mta: string,
  results: Map<string, RelayResult>,
  temp: Map<string, RelayResult>,
): void {
  const detail = err.response ?? err.message;
  const code = err.responseCode;
  if (code && code >= 500) {
    results.set(recipient, {
      address: recipient,
      status: "failed",
      detail,
      statusCode: enhancedOf(err.response, code),
      remoteMta: mta,
    });
  } else {
    temp.set(recipient, {
      address: recipient,
      status: "deferred",
      detail: `${mta}: ${detail}`,
      statusCode: enhancedOf(err.response, code),
      remoteMta: mta,
    });
  }
}
