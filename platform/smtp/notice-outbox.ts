/** The engine's side of the store's notice outbox: claims notices any process queued (login alerts, expiry warnings) and sends them through the engine's own queue; also queues password expiry warnings. */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Store } from "../store/store.ts";
import type { SmtpOperations } from "./operations.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";

/** Notices claimed per round at most. */
const CLAIM_BATCH = 20;

/** How long a claim holds (ms): another engine takes over a notice whose engine stopped before sending. */
const CLAIM_MS = 60_000;

/** Options of {@link startNoticeOutbox}. */
export interface NoticeOutboxOptions {
  store: Store;
  operations: SmtpOperations;
  /** The policy in force: which domains are hosted here (a notice for one that is not is dropped). */
  snapshot: () => PolicySnapshot;
  /** How often the outbox is looked at (ms). Default 2,000. */
  intervalMs?: number;
  /** Extra work of each round before sending (the expiry warning scan). */
  beforeRound?: () => Promise<void>;
  /** Told about a failed round (the next round retries). */
  onError?: (error: unknown) => void;
}

/** A running outbox loop. */
export interface NoticeOutbox {
  /** Runs one round now (claims and sends); resolves to how many notices were sent or dropped. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts sending the outbox's notices: every `intervalMs`, claims up to 20 unsent ones for a minute
 * (engines sharing the store never hold the same one at once) and queues each with
 * {@link SmtpOperations.sendNotice}, then marks it sent. A notice for a domain not hosted any more,
 * or to a recipient the domain refuses, is marked dropped. An engine that stops between queueing a
 * notice and marking it leaves it claimed; another engine sends it again once the claim ends (at
 * least once, never lost).
 *
 * @example const outbox = startNoticeOutbox({ store, operations: engine.operations, snapshot: () => engine.policy.current() });
 */
export function startNoticeOutbox(opts: NoticeOutboxOptions): NoticeOutbox {
  const claimant = `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
  const intervalMs = opts.intervalMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<number> = Promise.resolve(0);

  const round = async (): Promise<number> => {
    await opts.beforeRound?.();
    const claimed = await opts.store.claimNotices({ claimant, forMs: CLAIM_MS, limit: CLAIM_BATCH });
    let done = 0;
    for (const notice of claimed) {
      if (stopped) break;
      let queueId: string | null = null;
      if (opts.snapshot().domains.has(notice.domain)) {
        queueId =
          (await opts.operations.sendNotice({
            domain: notice.domain,
            to: notice.to,
            subject: notice.subject,
            text: notice.text,
          })) ?? null;
      }
      await opts.store.markNoticeSent({ key: notice.key, claimant, queueId });
      done++;
    }
    return done;
  };
  const drain = (): Promise<number> => {
    // One round at a time in this process.
    running = running.then(round, round);
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      drain()
        .catch((err: unknown) => opts.onError?.(err))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    drain,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => 0);
    },
  };
}
