/**
 * The platform's Prometheus metrics (`GET /metrics`): the process, the HTTP API, the store, and the
 * SMTP engine when it runs in this process. Labels never name an account, a domain or an address:
 * the counts are platform-wide, so a scrape tells nothing about one tenant and the series stay few.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { SmtpEngine } from "./smtp/engine-contract.ts";
import type { LogFields } from "./smtp/message-log/entry.ts";
import { storeProbe } from "./store/health-probe.ts";
import type { Store } from "./store/store.ts";

/** A route label for requests no route matched: the raw path would be any string a client sends. */
const UNMATCHED = "unmatched";

let processMetrics: Registry | undefined;

/**
 * The process's own metrics (CPU, memory, event-loop delay, GC), collected once per process: they
 * describe the process whichever control plane asks, and each collection starts observers that are
 * never stopped, so one per control plane would pile up in a test run that starts hundreds.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * One registry per control plane (a test may start several in one process). Made empty; the app
 * gives it its store, `mailplane serve` its engine once that runs.
 *
 * @example
 * const metrics = new PlatformMetrics();
 * await startControlPlane({ dataDir, listen, metrics });
 * metrics.attachEngine(engine);
 * await metrics.text(); // "# HELP mailplane_http_requests_total …"
 */
export class PlatformMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<"method" | "route" | "status">;
  readonly #requestSeconds: Histogram<"method" | "route">;
  #store = false;
  #engine = false;

  constructor() {
    this.#requests = new Counter({
      name: "mailplane_http_requests_total",
      help: "HTTP API requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.#requestSeconds = new Histogram({
      name: "mailplane_http_request_duration_seconds",
      help: "Time from a request's arrival to its answer, by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** The media type of {@link text}: Prometheus's text exposition format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts one answered request; `route` is the matched pattern (`/v1/domains/:domain`), undefined when none matched. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const path = route ?? UNMATCHED;
    this.#requests.inc({ method, route: path, status: String(status) });
    this.#requestSeconds.observe({ method, route: path }, seconds);
  }

  /** Adds the store's gauges: whether it answers (within the health probe's second) and its revision. */
  attachStore(store: Store): void {
    if (this.#store) return;
    this.#store = true;
    // Both gauges ask the same probe: it runs once per scrape however many ask (see storeProbe).
    const probe = storeProbe(store);
    new Gauge({
      name: "mailplane_store_up",
      help: "1 when the store answered the probe within a second, else 0.",
      registers: [this.registry],
      async collect() {
        this.set((await probe()).ok ? 1 : 0);
      },
    });
    new Gauge({
      name: "mailplane_store_revision",
      help: "The store's revision: one more per write transaction (0 while the store does not answer).",
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!(await probe()).ok) return;
        try {
          this.set(await store.revision());
        } catch {
          // Down since the probe: left out of this scrape.
        }
      },
    });
  }

  /** Adds the engine's gauges and counts its transactions and deliveries from its events from now on. */
  attachEngine(engine: SmtpEngine): void {
    if (this.#engine) return;
    this.#engine = true;
    new Gauge({
      name: "mailplane_smtp_connections",
      help: "SMTP client connections open now, both listeners.",
      registers: [this.registry],
      collect() {
        this.set(engine.openConnections());
      },
    });
    new Gauge({
      name: "mailplane_smtp_queue_messages",
      help: "Messages in the delivery queue now (accepted, not yet delivered, bounced or quarantined).",
      registers: [this.registry],
      collect() {
        this.set(engine.queue.size);
      },
    });
    const transactions = new Counter({
      name: "mailplane_smtp_transactions_total",
      help: "SMTP transactions logged, by listener, what the client was told, and classification.",
      labelNames: ["listener", "action", "classification"],
      registers: [this.registry],
    });
    const deliveries = new Counter({
      name: "mailplane_smtp_deliveries_total",
      help: "Delivery attempts' outcomes per target (mailbox, forward or route): delivered, deferred (will retry) or failed (bounced).",
      labelNames: ["outcome"],
      registers: [this.registry],
    });
    const refused = new Counter({
      name: "mailplane_smtp_recipients_refused_total",
      help: "Recipients refused at RCPT TO, by reason (unknown-recipient, blocked, relay, policy, dmarc) and action (reject: 5xx, defer: 4xx).",
      labelNames: ["reason", "action"],
      registers: [this.registry],
    });
    engine.events.on("recipient-refused", (reason: string, action: string) =>
      refused.inc({ reason, action }),
    );
    for (const outcome of ["delivered", "deferred", "failed"] as const) {
      deliveries.inc({ outcome }, 0);
      engine.events.on(outcome, () => deliveries.inc({ outcome }));
    }
    engine.events.on("transaction", (fields: LogFields) =>
      transactions.inc({
        listener: fields.listener,
        action: fields.action,
        classification: fields.classification,
      }),
    );
  }

  /** The exposition text of every metric now, the process's included. */
  text(): Promise<string> {
    return Registry.merge([processRegistry(), this.registry]).metrics();
  }
}
