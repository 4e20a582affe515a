/** Scoring by rspamd: a message is posted to its HTTP protocol (/checkv2) and the result mapped to the 0–1 combined score. */
import { request } from "undici";
import type { Classification } from "./classify.ts";
import { rspamdPost } from "./rspamd-http.ts";

/**
 * The mapping from rspamd's score to the combined score (piecewise linear between these points;
 * ≤ 0 → 0, ≥ 30 → 1). The points sit on rspamd's default actions so the default FilterSettings
 * thresholds mean what rspamd means: 4 (greylist) → 0.10, the default tag threshold (unsure);
 * 15 (reject) → 0.90, the default quarantine threshold.
 */
export const RSPAMD_SCORE_POINTS: readonly (readonly [rspamd: number, combined: number])[] = [
  [0, 0],
  [4, 0.1],
  [15, 0.9],
  [30, 1],
];

/**
 * Maps an rspamd score to the combined score (0–1), four decimals.
 * @example combinedFromRspamd(15) // 0.9
 */
export function combinedFromRspamd(score: number): number {
  const points = RSPAMD_SCORE_POINTS;
  if (!Number.isFinite(score) || score <= points[0]![0]) return 0;
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x0, y0] = points[i - 1]!;
    if (score <= x1) return Math.round((y0 + ((score - x0) / (x1 - x0)) * (y1 - y0)) * 10_000) / 10_000;
  }
  return 1;
}

/** The envelope and connection facts rspamd is told with the message (its HTTP protocol headers). */
export interface RspamdEnvelope {
  /** The client's IP address (`IP`). */
  ip: string;
  /** The EHLO/HELO name (`Helo`). */
  helo: string;
  /**
   * The client's verified host name (`Hostname`), which spares rspamd its own reverse lookup. Null
   * or absent: the header is left out and rspamd looks the name up itself (RDNS_NONE when there is
   * none). Never "unknown": rspamd 3 takes that as a name and stops judging reverse DNS.
   */
  hostname?: string | null;
  /** MAIL FROM (`From`); empty for the null reverse path. */
  sender: string;
  /** RCPT TO addresses (one `Rcpt` each). */
  recipients: string[];
  /** The authenticated user (`User`), if any. */
  user?: string | null;
  /** Our queue ID (`Queue-Id`), for rspamd's own log. */
  queueId?: string;
}

/** The part of rspamd's /checkv2 answer the mapping reads. */
interface RspamdCheckReply {
  score: number;
  action: string;
  symbols?: Record<string, { name?: string; score?: number }>;
}

/** Options of {@link RspamdScorer}. */
export interface RspamdScorerOptions {
  /**
   * Base URL of an rspamd normal worker, e.g. `http://127.0.0.1:11333`, or `unix:<absolute path>`
   * for its Unix socket (plain HTTP over it: no TCP connection per check).
   */
  url: string;
  /** Base URL of its controller worker (learning); default none: {@link RspamdScorer.learn} refuses. */
  controllerUrl?: string;
  /**
   * The controller's password, sent as rspamd's `Password` header with each learn (its controller
   * asks for it unless the client's address is one of its `secure_ip`s); default none. Never logged
   * nor put in an error message.
   */
  controllerPassword?: string;
  /**
   * rspamd settings to select for every check (its `Settings-ID` request header), e.g.
   * `mailplane-verified` (see RSPAMD_VERIFIED_SETTINGS_ID in rspamd-supervisor.ts: the SPF, DKIM,
   * DMARC and ARC checks the engine has made itself are not repeated); default none: rspamd's own
   * settings apply.
   */
  settingsId?: string;
  /** Give up on one check after this long and fall back; default 15,000 ms. */
  timeoutMs?: number;
  /** Told when rspamd stops answering (once per outage) and when it answers again; default standard error. */
  onWarning?: (message: string) => void;
}

/**
 * Asks rspamd for a message's score. {@link check} never throws: when rspamd cannot be reached or
 * answers nonsense it returns null and the caller uses the built-in rules (fail open: a scanner
 * outage must not refuse or drop mail).
 *
 * @example
 * const scorer = new RspamdScorer({ url: "http://127.0.0.1:11333" });
 * const c = await scorer.check([body], { ip: "192.0.2.1", helo: "mx.example", sender: "a@example.net", recipients: ["b@example.com"] });
 * c?.score // 0.9 for rspamd's reject score (15)
 */
export class RspamdScorer {
  readonly url: string;
  readonly controllerUrl: string | undefined;
  /** The `Settings-ID` sent with every check; undefined: none. */
  readonly settingsId: string | undefined;
  readonly #controllerPassword: string | undefined;
  readonly #timeoutMs: number;
  readonly #warn: (message: string) => void;
  #down = false;
  /** The normal worker's URL when it is plain HTTP (checked by rspamd-http.ts); undefined for HTTPS. */
  readonly #plainUrl: URL | undefined;
  /** The normal worker's Unix socket (`unix:` URL); undefined for TCP. */
  readonly #socketPath: string | undefined;
  /** Checks answered by rspamd and checks that fell back to the built-in rules. */
  readonly counts = { scored: 0, fellBack: 0 };

  constructor(opts: RspamdScorerOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.controllerUrl = opts.controllerUrl?.replace(/\/+$/, "");
    this.settingsId = opts.settingsId;
    const parsed = new URL(this.url);
    if (parsed.protocol === "unix:") {
      this.#socketPath = decodeURIComponent(parsed.pathname);
      // The Host header rspamd reads over the socket; checks go to /checkv2.
      this.#plainUrl = new URL("http://localhost");
    } else {
      this.#plainUrl = parsed.protocol === "http:" ? parsed : undefined;
    }
    this.#controllerPassword = opts.controllerPassword;
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#warn = opts.onWarning ?? ((m) => process.stderr.write(`mailplane: ${m}\n`));
  }

  /**
   * Teaches rspamd's Bayes classifier (stored in Redis) that a message is spam or ham, through the
   * controller's `/learnspam` / `/learnham`. A message rspamd already learned as the same class
   * counts as learned.
   * @throws Error when no controller is configured or rspamd refuses (the caller reports it; nothing is retried)
   */
  async learn(kind: "spam" | "ham", message: Buffer[]): Promise<void> {
    if (!this.controllerUrl) throw new Error("rspamd learning needs the controller's URL");
    const headers = new Headers();
    if (this.#controllerPassword !== undefined) headers.set("Password", this.#controllerPassword);
    const res = await fetch(`${this.controllerUrl}/learn${kind}`, {
      method: "POST",
      headers,
      body: Buffer.concat(message),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await res.text();
    if (res.status === 403 || res.status === 401) {
      // rspamd's controller answers 403 to a missing or wrong password (its text says no more).
      throw new Error(
        this.#controllerPassword === undefined
          ? `rspamd's controller at ${this.controllerUrl} asks for a password (HTTP ${res.status}): give it with --rspamd-controller-password-file`
          : `rspamd's controller at ${this.controllerUrl} refused the password (HTTP ${res.status}): check --rspamd-controller-password-file`,
      );
    }
    // 208 (already learned) is not a failure for whoever reported the message again.
    if (!res.ok && res.status !== 208) {
      throw new Error(`rspamd refused to learn ${kind}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
  }

  /**
   * A check over plain HTTP: one connection per request written and read by rspamd-http.ts (rspamd's
   * normal worker closes every connection, and a general client pays for the pool it cannot use:
   * ~370 µs of the engine's CPU per check with undici, most of it the error object it makes for
   * each closed socket — bench/RESULTS.md, "Full filter").
   */
  async #checkPlain(
    url: URL,
    message: Buffer[],
    headers: Record<string, string | string[]>,
  ): Promise<unknown> {
    const path = `${url.pathname.replace(/\/+$/, "")}/checkv2`;
    const answer = await rspamdPost(url, path, headers, message, this.#timeoutMs, this.#socketPath);
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
    return JSON.parse(answer.body.toString("utf8"));
  }

  /** A check over HTTPS (an rspamd behind a TLS proxy), by undici. */
  async #checkUndici(message: Buffer[], headers: Record<string, string | string[]>): Promise<unknown> {
    const res = await request(`${this.url}/checkv2`, {
      method: "POST",
      headers,
      body: Buffer.concat(message),
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    return res.body.json();
  }

  /** Scores the message (its bytes in order); null when rspamd did not answer usefully. */
  async check(message: Buffer[], envelope: RspamdEnvelope): Promise<Classification | null> {
    const headers: Record<string, string | string[]> = {
      IP: envelope.ip,
      Helo: envelope.helo || "unknown",
      From: envelope.sender,
      Rcpt: envelope.recipients,
    };
    if (envelope.hostname) headers["Hostname"] = envelope.hostname;
    if (envelope.user) headers["User"] = envelope.user;
    if (envelope.queueId) headers["Queue-Id"] = envelope.queueId;
    if (this.settingsId) headers["Settings-ID"] = this.settingsId;
    try {
      const reply = (
        this.#plainUrl
          ? await this.#checkPlain(this.#plainUrl, message, headers)
          : await this.#checkUndici(message, headers)
      ) as RspamdCheckReply;
      if (typeof reply.score !== "number" || typeof reply.action !== "string") {
        throw new Error("reply without score and action");
      }
      if (this.#down) this.#warn(`rspamd at ${this.url} answers again; scoring by rspamd`);
      this.#down = false;
      this.counts.scored++;
      return classificationOf(reply);
    } catch (err) {
      this.counts.fellBack++;
      if (!this.#down) {
        this.#warn(
          `rspamd at ${this.url} unavailable (${(err as Error).message}); scoring with the built-in rules until it answers`,
        );
      }
      this.#down = true;
      return null;
    }
  }
}

/** The order of symbols with equal scores: localeCompare's, from one collator instead of one per comparison. */
const SYMBOL_ORDER = new Intl.Collator();

/**
 * The combined score and evidence of an rspamd reply: the mapped score, raised to the reject point
 * (0.90) when rspamd's action is reject whatever its score (a pre-filter such as GTUBE decided),
 * and every symbol that fired with its rspamd score, highest first.
 */
export function classificationOf(reply: RspamdCheckReply): Classification {
  let score = combinedFromRspamd(reply.score);
  if (reply.action === "reject") score = Math.max(score, RSPAMD_SCORE_POINTS[2]![1]);
  const hits = Object.entries(reply.symbols ?? {})
    .map(([name, s]) => ({ rule: name, score: Math.round((s.score ?? 0) * 100) / 100 }))
    .sort((a, b) => b.score - a.score || SYMBOL_ORDER.compare(a.rule, b.rule));
  return { score, hits, scanner: { name: "rspamd", score: reply.score, action: reply.action } };
}
