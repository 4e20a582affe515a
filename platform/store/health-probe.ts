/** The store's health probe, shared by `/healthz` and the metrics: one bounded read, never two at once. */
import { HEALTH_STORE_TIMEOUT_MS } from "../../sdk/src/index.ts";
import { isStoreError } from "./contract/store-error.ts";
import type { Store } from "./store.ts";

/** The store's answer to a health probe: its latency, or why it did not answer. */
export type StoreHealth = { ok: true; latencyMs: number } | { ok: false; error: string };

/**
 * Probes the store with a one-row read and never waits longer than `timeoutMs`. At most one probe
 * runs at a time: while one is outstanding (a hung database) later calls wait on it rather than
 * start another, so health checks cannot use up the connection pool.
 *
 * @example const health = storeProbe(store); await health() // { ok: true, latencyMs: 1 }
 */
export function storeProbe(store: Store, timeoutMs = HEALTH_STORE_TIMEOUT_MS): () => Promise<StoreHealth> {
  let inFlight: Promise<number> | undefined;
  return async () => {
    if (!inFlight) {
      const started = performance.now();
      const probe = store.revision().then(() => performance.now() - started);
      const clear = () => {
        if (inFlight === probe) inFlight = undefined;
      };
      probe.then(clear, clear);
      inFlight = probe;
    }
    const probe = inFlight;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const outcome = await Promise.race([probe, timeout]);
      if (outcome === "timeout") return { ok: false, error: `no answer within ${timeoutMs} ms` };
      return { ok: true, latencyMs: Math.round(outcome) };
    } catch (error) {
      // Only the classified reason: never a driver message (it may hold SQL or a host name).
      return { ok: false, error: isStoreError(error, "unavailable") ? error.message : "the store failed" };
    } finally {
      clearTimeout(timer);
    }
  };
}
