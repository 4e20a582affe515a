/** Relaying over SMTP with nodemailer: a domain's routes in priority order, 4xx or no answer → the next route. */
import nodemailer from "nodemailer";

/** One downstream server to try. */
export interface Hop {
  host: string;
  port: number;
  tls: "none" | "opportunistic" | "required";
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
  /** Connections kept per destination. Default 4. */
  poolSize?: number;
  /** Connect/greeting timeout. Default 30,000. */
  connectTimeoutMs?: number;
  /** Idle socket timeout during a transaction. Default 120,000. */
  socketTimeoutMs?: number;
}

interface SmtpError extends Error {
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

type Transport = ReturnType<typeof nodemailer.createTransport>;

/**
 * Sends messages to downstream servers. Connections are pooled per `host:port:tls`, so a busy
 * route reuses sessions. Reply classes decide: 2xx delivered, 5xx failed (the message bounces,
 * RFC 5321 §4.2.1), 4xx or no answer → the same recipients are offered to the next route; when
 * every route refused temporarily the recipients are `deferred` and the queue retries later.
 *
 * @example
 * const relay = new Relay({ name: "mx.example.test" });
 * const results = await relay.send([{ host: "127.0.0.1", port: 2526, tls: "none" }], "a@b.example", ["c@d.example"], raw);
 */
export class Relay {
  readonly #opts: Required<RelayOptions>;
  readonly #transports = new Map<string, Transport>();

  constructor(opts: RelayOptions) {
    this.#opts = { poolSize: 4, connectTimeoutMs: 30_000, socketTimeoutMs: 120_000, ...opts };
  }

  #transport(hop: Hop): Transport {
    const key = `${hop.host}:${hop.port}:${hop.tls}`;
    let t = this.#transports.get(key);
    if (!t) {
      t = nodemailer.createTransport({
        host: hop.host,
        port: hop.port,
        secure: false,
        name: this.#opts.name,
        pool: true,
        maxConnections: this.#opts.poolSize,
        maxMessages: Number.POSITIVE_INFINITY,
        ignoreTLS: hop.tls === "none",
        requireTLS: hop.tls === "required",
        // MX-to-MX TLS is opportunistic encryption; certificates of mail servers are rarely verifiable.
        tls: { rejectUnauthorized: false },
        connectionTimeout: this.#opts.connectTimeoutMs,
        greetingTimeout: this.#opts.connectTimeoutMs,
        socketTimeout: this.#opts.socketTimeoutMs,
        logger: false,
        debug: false,
      } as never);
      // A pooled transport reports connection trouble per message; this keeps stray errors quiet.
      t.on("error", () => {});
      this.#transports.set(key, t);
    }
    return t;
  }

  /** Tries `hops` in order until every recipient is delivered or failed; see the class comment. */
  async send(hops: Hop[], from: string, recipients: string[], body: Buffer): Promise<RelayResult[]> {
    const results = new Map<string, RelayResult>();
    let remaining = [...recipients];
    let lastTemp = new Map<string, RelayResult>();
    for (const hop of hops) {
      if (remaining.length === 0) break;
      const mta = `${hop.host}:${hop.port}`;
      const temp = new Map<string, RelayResult>();
      try {
        const info = (await this.#transport(hop).sendMail({
          envelope: { from, to: remaining },
          raw: body,
        } as never)) as {
          accepted?: string[];
          rejectedErrors?: SmtpError[];
          response?: string;
        };
        for (const a of info.accepted ?? []) {
          results.set(a, {
            address: a,
            status: "delivered",
            detail: info.response ?? "250",
            statusCode: "2.0.0",
            remoteMta: mta,
          });
        }
        for (const e of info.rejectedErrors ?? []) this.#classify(e, e.recipient ?? "", mta, results, temp);
      } catch (raw) {
        const err = raw as SmtpError;
        if (err.rejectedErrors?.length) {
          for (const e of err.rejectedErrors) this.#classify(e, e.recipient ?? "", mta, results, temp);
        } else {
          for (const r of remaining) this.#classify(err, r, mta, results, temp);
        }
      }
      remaining = remaining.filter((r) => !results.has(r));
      lastTemp = temp;
    }
    for (const r of remaining) {
      results.set(
        r,
        lastTemp.get(r) ?? {
          address: r,
          status: "deferred",
          detail: "no route available",
          statusCode: "4.4.4",
        },
      );
    }
    return recipients.map((r) => results.get(r)!);
  }

  #classify(
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

  /** Closes every pooled connection. */
  close(): void {
    for (const t of this.#transports.values()) t.close();
    this.#transports.clear();
  }
}
