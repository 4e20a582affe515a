/** Recipient callouts for routed domains: RCPT asked of the domain's first reachable route, answers cached (positive and negative), failing open. */
import type { PolicySnapshot } from "../policy/snapshot.ts";
import type { AcceptedRecipient } from "../session.ts";
import type { Hop, ProbeResult } from "./relay.ts";

/** Settings of {@link RecipientCallout}; times in milliseconds. */
export interface CalloutOptions {
  /** How long a route's 2xx to RCPT is believed. Default 86,400,000 (1 day). */
  positiveTtlMs?: number;
  /** How long a route's 5xx to RCPT is believed. Default 3,600,000 (1 hour). */
  negativeTtlMs?: number;
  /**
   * A probe gives up after this long (connecting, TLS and every reply included) and the recipient
   * is accepted unasked. Used by the relay's probe sessions (see `Relay.probe`). Default 10,000.
   */
  timeoutMs?: number;
  /** Answers kept at most, over every domain; the oldest goes first. Default 100,000. */
  maxEntries?: number;
  now?: () => number;
}

/** {@link CalloutOptions} defaults. */
export const DEFAULT_CALLOUT = {
  positiveTtlMs: 86_400_000,
  negativeTtlMs: 3_600_000,
  timeoutMs: 10_000,
  maxEntries: 100_000,
};

/** What the callout decided for one recipient. */
export interface CalloutVerdict {
  outcome: ProbeResult["outcome"];
  detail: string;
  /** True when the answer came from the cache (no route was asked). */
  cached: boolean;
}

interface Entry {
  domain: string;
  outcome: "accepted" | "rejected";
  detail: string;
  until: number;
}

/** The part of the relay a callout needs. */
export interface Prober {
  probe(hops: Hop[], recipient: string): Promise<ProbeResult>;
}

/**
 * Verifies recipients of routed domains against their routes and caches what the routes said.
 * Only 2xx and 5xx answers are cached; `unknown` (4xx, timeouts, no reachable route, refused by
 * the egress policy) is not, and the caller accepts the recipient as without a callout. The key
 * holds the routes asked, so a changed route list asks again. Probes for the same key at once
 * share one session to the route.
 *
 * @example
 * const callout = new RecipientCallout(relay, { negativeTtlMs: 600_000 });
 * const v = await callout.verify("routed.example", hops, "bob@routed.example"); // { outcome: "rejected", cached: false, … }
 * callout.clear("routed.example"); // 1
 */
export class RecipientCallout {
  readonly #prober: Prober;
  readonly #opts: Required<CalloutOptions>;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<ProbeResult>>();
  /** Probes made (cache misses), for monitoring and tests. */
  probes = 0;

  constructor(prober: Prober, opts: CalloutOptions = {}) {
    this.#prober = prober;
    this.#opts = { ...DEFAULT_CALLOUT, now: Date.now, ...opts };
  }

  /** What the routes `hops` of `domain` say of `recipient`: from the cache, else asked now. */
  async verify(domain: string, hops: Hop[], recipient: string): Promise<CalloutVerdict> {
    const key = JSON.stringify([domain, recipient, hops.map((h) => [h.host, h.port, h.tls])]);
    const now = this.#opts.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return { outcome: hit.outcome, detail: hit.detail, cached: true };
    if (hit) this.#entries.delete(key);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      this.probes++;
      pending = this.#prober.probe(hops, recipient).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    const result = await pending;
    if (result.outcome !== "unknown") this.#remember(key, domain, result);
    return { outcome: result.outcome, detail: result.detail, cached: false };
  }

  #remember(key: string, domain: string, result: ProbeResult): void {
    const ttl = result.outcome === "accepted" ? this.#opts.positiveTtlMs : this.#opts.negativeTtlMs;
    if (ttl <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, {
      domain,
      outcome: result.outcome as Entry["outcome"],
      detail: result.detail,
      until: this.#opts.now() + ttl,
    });
    // A Map iterates in insertion order: the first key is the oldest answer.
    while (this.#entries.size > this.#opts.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets every answer cached for `domain`; returns how many. */
  clear(domain: string): number {
    let n = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.domain === domain) {
        this.#entries.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Answers cached now (expired ones included until next asked). */
  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The routes to verify an accepted recipient with, or undefined when it is not one a callout
 * covers: only an address the RCPT phase handed to its own domain's routes (step 10 of rcptTo:
 * no user, alias or catch-all took it), and never in local-recipients-only mode, where the
 * platform's own list already decided.
 * @example calloutRoutes(snapshot, accepted) // [{ host: "10.0.0.5", port: 25, tls: "opportunistic", source: "route" }]
 */
export function calloutRoutes(snapshot: PolicySnapshot, recipient: AcceptedRecipient): Hop[] | undefined {
  if (!recipient.domain) return undefined;
  const domain = snapshot.domains.get(recipient.domain);
  if (!domain || domain.localRecipientsOnly || domain.routes.length === 0) return undefined;
  const [only, ...more] = recipient.targets;
  if (more.length > 0 || only?.kind !== "relay" || only.address !== recipient.address) return undefined;
  return domain.routes.map((r) => ({ ...r, source: "route" as const }));
}
