/** When the queue retries a target and when it gives up: back-off, retry time expired (4.4.7), lost bytes (5.3.0). */
import type { SpoolFs } from "./fs.ts";
import type { DeliveryOutcome, TargetState } from "./queued-message.ts";

/** A target that failed for good, with the outcome its DSN reports. */
export interface FailedTarget {
  target: TargetState;
  outcome: DeliveryOutcome;
}

/**
 * A message whose bytes are gone for good (its body file missing, its record failing its checksum):
 * retrying cannot help, so the queue bounces it instead (see {@link lostBytesFailures}).
 */
export class UnreadableMessageError extends Error {
  readonly code = "MP_SPOOL_UNREADABLE";
}

/** Reads a file, turning "not there" into {@link UnreadableMessageError}; other errors (EIO, EMFILE) stay temporary. */
export async function readOrLost(fs: SpoolFs, path: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new UnreadableMessageError(`${what} is missing (${path})`);
    throw err;
  }
}

/**
 * Sorts one attempt's outcomes by pending target. Delivered targets are reported to `delivered` as
 * they are met; failed ones fail; the rest count an attempt and are deferred (`still` stays pending)
 * — or fail with 4.4.7 once the message is older (`age`, ms) than its domain's `maxRetryMs`. A target
 * without an outcome counts as deferred ("not attempted", 4.0.0).
 * @example
 * const { failed, deferred, still } = sortOutcomes(pending, outcomes, age, () => 4 * 86_400_000, log);
 */
export function sortOutcomes(
  pending: TargetState[],
  outcomes: DeliveryOutcome[],
  age: number,
  maxRetryMs: (domain: string | null) => number,
  delivered: (target: TargetState, outcome: DeliveryOutcome) => void,
): { failed: FailedTarget[]; deferred: [TargetState, DeliveryOutcome][]; still: TargetState[] } {
  const byKey = new Map(outcomes.map((o) => [o.key, o]));
  const failed: FailedTarget[] = [];
  const deferred: [TargetState, DeliveryOutcome][] = [];
  const still: TargetState[] = [];
  for (const t of pending) {
    const o = byKey.get(t.key) ?? {
      key: t.key,
      status: "deferred",
      detail: "not attempted",
      status_code: "4.0.0",
    };
    if (o.status === "delivered") {
      delivered(t, o);
      continue;
    }
    if (o.status === "failed") {
      failed.push({ target: t, outcome: o });
      continue;
    }
    t.attempts++;
    t.lastError = o.detail;
    const domain = "domain" in t.target ? t.target.domain : null;
    if (age >= maxRetryMs(domain)) {
      // RFC 3463 X.4.7: delivery time expired.
      failed.push({
        target: t,
        outcome: {
          ...o,
          status: "failed",
          status_code: "4.4.7",
          detail: `retry time expired; last error: ${o.detail}`,
        },
      });
    } else {
      still.push(t);
      deferred.push([t, o]);
    }
  }
  return { failed, deferred, still };
}

/**
 * The delay before a deferred message's next attempt, ms: `retryBaseMs` doubled per attempt its
 * most tried target made, at most `retryMaxMs`.
 * @example
 * retryDelay([{ ...target, attempts: 3 }], 60_000, 3_600_000); // 240,000 (4 minutes)
 */
export function retryDelay(pending: TargetState[], retryBaseMs: number, retryMaxMs: number): number {
  const attempts = Math.max(1, ...pending.map((t) => t.attempts));
  return Math.min(retryMaxMs, retryBaseMs * 2 ** (attempts - 1));
}

/**
 * Every pending target of a message whose bytes are lost, failed with 5.3.0 (the DSN carries no content).
 * @example
 * await bounce(meta, Buffer.alloc(0), lostBytesFailures(pending, err));
 */
export function lostBytesFailures(pending: TargetState[], err: Error): FailedTarget[] {
  return pending.map((target) => ({
    target,
    outcome: {
      key: target.key,
      status: "failed" as const,
      // RFC 3463 X.3.0: other or undefined mail system status (the spool lost the message's bytes).
      status_code: "5.3.0",
      detail: `the message could not be read from the spool: ${err.message}`,
    },
  }));
}
