/** Authentication of inbound mail through mailauth: DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489) → Authentication-Results (RFC 8601). */
import { arc } from "mailauth/lib/arc/index.js";
import { DkimVerifier } from "mailauth/lib/dkim/dkim-verifier.js";
import { evaluateDmarc } from "mailauth/lib/dmarc/index.js";
import type { DnsResolver, SpfVerdict } from "./spf.ts";

/** RFC 7489 §11.2 results, plus `none` when the author domain publishes no record. */
export type DmarcResult = "pass" | "fail" | "none" | "temperror" | "permerror";

/** What DMARC decided for a message. */
export interface DmarcOutcome {
  result: DmarcResult;
  /** The RFC5322.From domain the result is about (`header.from`); null when there is no single one. */
  fromDomain: string | null;
  /** The policy the domain asks receivers to apply to failing mail (sp/np/t=y already applied). */
  policy: "none" | "quarantine" | "reject";
  /**
   * A failing result whose policy is not applied: the trusted ARC sealer whose validated set
   * recorded dmarc=pass for the same From: domain (RFC 8617 §7.2, RFC 7489 §6.7 local policy).
   */
  trustedSealer?: string;
}

/** RFC 8617 §4.1.3 chain validation status (`cv=`) an ARC set added by a forward carries. */
export type ArcChainStatus = "none" | "pass" | "fail";

/** What a forward of this message needs to add its ARC set (RFC 8617 §5.1). */
export interface ArcSealInput {
  /** The chain as it arrived: `none` (no ARC set), `pass` or `fail`. */
  cv: ArcChainStatus;
  /** The Authentication-Results value (`<authserv-id>; spf=…`) copied into ARC-Authentication-Results (§4.1.1). */
  authResults: string;
}

/** The authentication of one message: the Authentication-Results field and the DMARC verdict. */
export interface InboundAuth {
  /** `Authentication-Results: <authserv-id>; spf=…; dkim=…; arc=…; dmarc=…` (RFC 8601 §2.2). */
  header: string;
  dmarc: DmarcOutcome;
  /** The input of an ARC seal on a forward; null when the chain could not be judged (timeout): such mail is not sealed. */
  arc: ArcSealInput | null;
}

/** The input of {@link InboundAuthenticator.end}: facts of the SMTP transaction. */
export interface TransactionFacts {
  /** SPF as checked during DATA; null when it was not checked (skipped or exempt), so only DKIM can align. */
  spf: SpfVerdict | null;
  /** The client's IP address (ARC's `smtp.remote-ip`). */
  ip: string;
}

/** Keys shorter than this fail verification (RFC 8301 §3.2: at least 1024 bits). */
const MIN_KEY_BITS = 1024;

/** The clauses after SPF's, the DMARC verdict and the arriving chain's status (null: not judged). */
interface Evaluation {
  clauses: string[];
  dmarc: DmarcOutcome;
  cv: ArcChainStatus | null;
}

const TEMPERROR: DmarcOutcome = { result: "temperror", fromDomain: null, policy: "none" };

/** What DKIM verification hands ARC and DMARC: mailauth's `dkimVerify` result, its ARC data included. */
interface DkimOutcome {
  headerFrom: string[];
  fromFields: number;
  results: DkimVerifier["results"];
  arc: unknown;
}

/** A header block longer than this is streamed through mailauth's own parser. */
const MAX_COLLECTED_HEADER_BYTES = 64 * 1024;
const CRLF_CRLF = Buffer.from("\r\n\r\n");

/**
 * The header block (through its empty line) when mailauth may be handed it alone, else null: it
 * names no DKIM-Signature and no ARC field (so nothing hashes the body: the result is dkim=none
 * whatever follows, RFC 6376 §6.1) and has no bare LF (mailauth's parser rewrites those, and
 * would then see the block differently). `end` is the offset of the CRLF CRLF ending it.
 */
function unsignedHeaderBlock(bytes: Buffer, end: number): Buffer | null {
  // An empty header block (the message starts with its empty line) goes the general way.
  if (end <= 0 || (bytes[0] === 0x0d && bytes[1] === 0x0a)) return null;
  const block = bytes.subarray(0, end + 4);
  for (let lf = block.indexOf(0x0a); lf >= 0; lf = block.indexOf(0x0a, lf + 1)) {
    if (lf === 0 || block[lf - 1] !== 0x0d) return null;
  }
  // Any mention, not only field names: whatever mailauth could read as a signature goes the general way.
  const text = block.toString("latin1").toLowerCase();
  if (text.includes("dkim-signature") || text.includes("arc-")) return null;
  return block;
}

/** The verifier's findings in the shape of mailauth's `dkimVerify` result. */
function outcomeOf(verifier: DkimVerifier): DkimOutcome {
  return {
    headerFrom: verifier.headerFrom,
    fromFields: verifier.fromFields,
    results: verifier.results,
    arc: verifier.arc,
  };
}

/**
 * Verifies a message while it streams in: DKIM signatures are hashed chunk by chunk, so the body
 * is read once, whether it stays in memory or spills to disk. After the last chunk ARC and DMARC
 * are evaluated with the SPF verdict the transaction already has (one SPF evaluation per message).
 * The header block is looked at first: a message that names no DKIM-Signature and no ARC field
 * has nothing to hash, so mailauth gets its header block alone (the body would pass through its
 * byte-by-byte parser for nothing); any other message streams through mailauth whole.
 *
 * @example
 * const auth = new InboundAuthenticator({ authservId: "mx.example.com", resolver });
 * stream.on("data", (c) => auth.write(c));
 * const { header, dmarc } = await auth.end({ spf, ip: "192.0.2.1" });
 */
export class InboundAuthenticator {
  readonly #authservId: string;
  readonly #resolver: DnsResolver;
  readonly #verifier: DkimVerifier;
  /** Resolves once the streamed message was verified (`stream` mode). */
  #streamed: Promise<DkimOutcome> | null = null;
  /** collecting the header block; streaming the message through mailauth; or the header block alone suffices. */
  #mode: "collect" | "stream" | "headers" = "collect";
  #collected: Buffer[] = [];
  #collectedBytes = 0;
  #headerBlock: Buffer | null = null;
  readonly #maxElapsedMs: number;
  readonly #trustedArcSealers: ReadonlySet<string>;

  /**
   * @param opts.authservId this platform's authserv-id (its host name).
   * @param opts.maxElapsedMs how long {@link end} waits for DNS-bound verification once the message
   *   is in; then DKIM and DMARC are `temperror` and no policy applies. Default 10,000 (like SPF's cap).
   * @param opts.trustedArcSealers lower-case domains whose ARC results are believed: a DMARC failure
   *   of a message whose validated chain was last sealed by one of them, recording dmarc=pass for
   *   the same From: domain, gets no policy (see {@link DmarcOutcome.trustedSealer}). Default none.
   */
  constructor(opts: {
    authservId: string;
    resolver: DnsResolver;
    maxElapsedMs?: number;
    trustedArcSealers?: ReadonlySet<string>;
  }) {
    this.#authservId = opts.authservId;
    this.#resolver = opts.resolver;
    this.#maxElapsedMs = opts.maxElapsedMs ?? 10_000;
    this.#trustedArcSealers = opts.trustedArcSealers ?? new Set();
    this.#verifier = new DkimVerifier({ resolver: opts.resolver, minBitLength: MIN_KEY_BITS });
  }

  write(chunk: Buffer): void {
    if (this.#mode === "stream") {
      this.#verifier.write(chunk);
      return;
    }
    if (this.#mode === "headers") return;
    this.#collected.push(chunk);
    this.#collectedBytes += chunk.length;
    // Headers usually arrive in the first chunk: joined only when they straddle chunks.
    const bytes = this.#collected.length === 1 ? chunk : Buffer.concat(this.#collected, this.#collectedBytes);
    const end = bytes.indexOf(CRLF_CRLF);
    if (end >= 0) {
      this.#headerBlock = unsignedHeaderBlock(bytes, end);
      if (this.#headerBlock) {
        this.#mode = "headers";
        this.#collected = [];
        return;
      }
    }
    // A blank line ended the block (an LF-only one, or the block must be verified whole), or it grew too long.
    if (end >= 0 || bytes.indexOf("\n\n") >= 0 || this.#collectedBytes > MAX_COLLECTED_HEADER_BYTES) {
      this.#startStream();
    }
  }

  /** Streams what was collected, and every chunk after it, through mailauth's parser. */
  #startStream(): void {
    this.#mode = "stream";
    const verifier = this.#verifier;
    // mailauth's own dkimVerify() pipes into the verifier and waits for it like this.
    this.#streamed = new Promise<DkimOutcome>((resolve, reject) => {
      verifier.once("finish", () => resolve(outcomeOf(verifier)));
      verifier.once("error", reject);
    });
    // A rejected verification is read in end(); until then it must not count as unhandled.
    this.#streamed.catch(() => {});
    for (const c of this.#collected) verifier.write(c);
    this.#collected = [];
  }

  /** Ends the input without waiting for a verdict (DATA failed). */
  abort(): void {
    if (this.#mode === "stream") this.#verifier.end();
    this.#collected = [];
  }

  /** DKIM's findings once the whole message was written. */
  async #dkim(): Promise<DkimOutcome> {
    if (this.#mode === "headers") {
      // What mailauth's parser does with a block it found itself, minus the byte-by-byte search.
      await this.#verifier.emitHeaders(this.#headerBlock!);
      await this.#verifier.finalChunk();
      return outcomeOf(this.#verifier);
    }
    // No empty line ever came (a message of headers only): mailauth's parser judges it as it is.
    if (this.#mode === "collect") this.#startStream();
    this.#verifier.end();
    return this.#streamed!;
  }

  /**
   * The verdict once the last chunk was written. A sender's slow name servers (DKIM keys, DMARC
   * records) cannot hold the transaction longer than the cap.
   */
  async end(facts: TransactionFacts): Promise<InboundAuth> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Evaluation>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            clauses: ["dkim=temperror (verification timed out)", "dmarc=temperror (verification timed out)"],
            dmarc: TEMPERROR,
            cv: null,
          }),
        this.#maxElapsedMs,
      );
    });
    const outcome = await Promise.race([this.#evaluate(facts), timedOut]).finally(() => clearTimeout(timer));
    const clauses = [...(facts.spf?.info ? [facts.spf.info] : []), ...outcome.clauses];
    // RFC 8601 §2.2: `authserv-id; method=result …` or `authserv-id; none` when nothing was checked.
    const body = clauses.length > 0 ? clauses.map((c) => c.replace(/\r?\n/g, " ")).join(";\r\n\t") : "none";
    const value = `${this.#authservId};\r\n\t${body}`;
    return {
      header: `Authentication-Results: ${value}`,
      dmarc: outcome.dmarc,
      arc: outcome.cv === null ? null : { cv: outcome.cv, authResults: value },
    };
  }

  /**
   * The trusted sealer vouching for `fromDomain`, or undefined. Only the newest set counts: its
   * ARC-Message-Signature is the one verified over the message as it arrived, so only its sealer
   * saw this From: (an older set's results may be about a message changed since). The chain must
   * validate (arc=pass: every seal verified, RFC 8617 §5.2) and the sealer's
   * ARC-Authentication-Results must say dmarc=pass with header.from the same domain.
   */
  #trustedPass(chain: unknown, arcResult: unknown, fromDomain: string): string | undefined {
    if (this.#trustedArcSealers.size === 0 || !chain || !arcResult) return undefined;
    const verdict = arcResult as ArcVerdictFacts;
    if (verdict.status.result !== "pass") return undefined;
    const sealer = (chain as ArcFacts).lastEntry?.["arc-seal"]?.parsed?.d?.value?.toLowerCase();
    if (!sealer || !this.#trustedArcSealers.has(sealer)) return undefined;
    const recorded = verdict.authenticationResults?.dmarc;
    if (recorded?.result?.toLowerCase() !== "pass") return undefined;
    if (recorded.header?.from?.toLowerCase() !== fromDomain) return undefined;
    return sealer;
  }

  async #evaluate(facts: TransactionFacts): Promise<Evaluation> {
    const resolver = this.#resolver as never;
    const clauses: string[] = [];
    try {
      const dkim = await this.#dkim();
      for (const row of dkim.results ?? []) if (row.info) clauses.push(row.info);
      const chain = dkim.arc;
      const arcResult = chain
        ? await arc(chain as never, { resolver, minBitLength: MIN_KEY_BITS, ip: facts.ip } as never)
        : undefined;
      if (arcResult?.info) clauses.push(arcResult.info);
      const cv = chainStatusOf(arcResult?.status.result);
      const spfDomain = facts.spf?.result === "pass" ? facts.spf.domain : undefined;
      const evaluated = await evaluateDmarc({
        headerFrom: dkim.headerFrom,
        fromFields: dkim.fromFields ?? 0,
        spfDomains: spfDomain ? [spfDomain] : [],
        dkimDomains: (dkim.results ?? [])
          .filter((r) => r.status.result === "pass")
          .map((r) => ({ domain: r.signingDomain ?? "", aligned: r.status.aligned ?? false })),
        ...(arcResult ? { arcResult } : {}),
        resolver,
      });
      const response = evaluated.response;
      if (!response) {
        // RFC 7489 §6.6.1: no single author domain — DMARC cannot pass (nor apply a policy).
        clauses.push(`dmarc=none (${evaluated.reason ?? "no author domain"})`);
        return { clauses, dmarc: { result: "none", fromDomain: null, policy: "none" }, cv };
      }
      const result = (response.status.result ?? "none") as DmarcResult;
      const fromDomain = response.status.header?.from?.toLowerCase() ?? null;
      const trustedSealer =
        result === "fail" && fromDomain ? this.#trustedPass(chain, arcResult, fromDomain) : undefined;
      if (response.info) {
        clauses.push(
          trustedSealer
            ? `${response.info} (policy not applied: ARC set sealed by trusted ${trustedSealer} records dmarc=pass)`
            : response.info,
        );
      }
      return {
        clauses,
        dmarc: {
          result,
          fromDomain,
          policy: policyOf(response.policy),
          ...(trustedSealer ? { trustedSealer } : {}),
        },
        cv,
      };
    } catch {
      clauses.push("dmarc=temperror");
      return { clauses, dmarc: TEMPERROR, cv: null };
    }
  }
}

/**
 * The `cv=` a forward's ARC set takes from the arriving chain (RFC 8617 §5.1.1): no chain → none,
 * a validated one → pass, anything else ARC judged (fail, and permerror: all ARC failures are
 * permanent) → fail; null for a result ARC does not define (nothing to seal on).
 */
function chainStatusOf(result: string | undefined): ArcChainStatus | null {
  if (result === undefined || result === "none") return "none";
  if (result === "pass") return "pass";
  if (result === "fail" || result === "permerror") return "fail";
  return null;
}

/** The parts of mailauth's ARC data and result a trust decision reads. */
interface ArcFacts {
  lastEntry?: { "arc-seal"?: { parsed?: { d?: { value?: string } } } };
}
interface ArcVerdictFacts {
  status: { result?: string };
  authenticationResults?: { dmarc?: { result?: string; header?: { from?: string } } };
}

function policyOf(value: string | undefined): DmarcOutcome["policy"] {
  return value === "reject" || value === "quarantine" ? value : "none";
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 §2.2: the token before the first
 * `;`, after any CFWS), lower-cased; "" when there is none.
 *
 * @example authservIdOf(" mx.example.com (comment); spf=pass") // "mx.example.com"
 */
export function authservIdOf(value: string): string {
  const head = value.split(";", 1)[0] ?? "";
  return head
    .replace(/\([^()]*\)/g, " ")
    .trim()
    .split(/\s+/, 1)[0]!
    .replace(/^"|"$/g, "")
    .toLowerCase();
}
