/** Running the engine against the control plane's store: one engine per data directory, policy and logins from the store. */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/store.ts";
import { startSmtpEngine } from "./engine.ts";
import type { ListenAddress, SmtpEngine, SmtpEngineOptions } from "./engine-contract.ts";
import { EXPIRY_SCAN_INTERVAL_MS, queueExpiryWarnings } from "./expiry-warnings.ts";
import { storeLoginLockout } from "./lockout.ts";
import { type NoticeOutbox, startNoticeOutbox } from "./notice-outbox.ts";
import {
  type StorePolicy,
  type StorePolicyOptions,
  storeCredentials,
  storePolicy,
} from "./policy/from-store.ts";

/** The lock file that keeps a second engine off a data directory's spool. */
export const ENGINE_LOCK = "engine.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The pid of another running process that holds `<dir>/engine.lock`, or undefined: no lock, an
 * unreadable one, this process's own, or one left by a process that no longer runs.
 * @example engineLockHolder(".data/smtp") // 4242 while `mailplane serve` runs its engine there
 */
export function engineLockHolder(dir: string): number | undefined {
  let holder: number;
  try {
    holder = Number(readFileSync(join(dir, ENGINE_LOCK), "utf8"));
  } catch {
    return undefined;
  }
  return Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)
    ? holder
    : undefined;
}

/**
 * Takes `<dir>/engine.lock` for this process. Two engines on one spool would recover each other's
 * in-flight messages and deliver them twice; a lock left by a process that no longer runs (a crash,
 * kill -9) is taken over. Returns the release function.
 * @throws Error when a running process holds the lock.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, ENGINE_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8") === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = engineLockHolder(dir);
      if (holder !== undefined) throw new Error(`another SMTP engine (pid ${holder}) uses ${dir}`);
      unlinkSync(path);
    }
  }
  throw new Error(`could not lock ${dir}`);
}

/**
 * Parses `host:port` (`[v6]:port`); `off` (or empty) means no listener.
 * @example parseListenAddress("127.0.0.1:2525") // { host: "127.0.0.1", port: 2525 }
 */
export function parseListenAddress(
  value: string | undefined,
  fallback: ListenAddress | false,
): ListenAddress | false {
  if (value === undefined) return fallback;
  if (value === "" || value === "off") return false;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65_535) throw new Error(`expected host:port or off, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** Options of {@link startSmtpEngineOnStore}: the engine's, without policy, credentials and lockout, plus the store. */
export interface EngineOnStoreOptions extends Omit<SmtpEngineOptions, "policy" | "credentials" | "lockout"> {
  store: Store;
  policy?: StorePolicyOptions;
  /** How often the store's notice outbox is looked at (ms); default 2,000. */
  noticeIntervalMs?: number;
}

/** A running engine with the store-fed policy it enforces. */
export interface EngineOnStore extends SmtpEngine {
  policy: StorePolicy;
  /** The store's notice outbox as this engine sends it (login alerts, expiry warnings). */
  notices: NoticeOutbox;
}

/**
 * Starts the engine on a store: the policy follows the store's change feed, SMTP AUTH checks the
 * store's password hashes and counts failed logins in the store (shared by every engine on it), and
 * the data directory is locked for this process.
 *
 * @example
 * const engine = await startSmtpEngineOnStore({ store, dataDir: ".data/smtp", inbound: { host: "127.0.0.1", port: 2525 } });
 */
export async function startSmtpEngineOnStore(opts: EngineOnStoreOptions): Promise<EngineOnStore> {
  const release = lockDataDir(opts.dataDir);
  try {
    const policy = await storePolicy(opts.store, opts.policy);
    const engine = await startSmtpEngine({
      ...opts,
      policy,
      credentials: storeCredentials(opts.store),
      lockout: storeLoginLockout(opts.store),
    });
    const close = engine.close.bind(engine);
    const clock = opts.now ?? Date.now;
    let lastExpiryScan = Number.NEGATIVE_INFINITY;
    const notices = startNoticeOutbox({
      store: opts.store,
      operations: engine.operations,
      snapshot: () => policy.current(),
      // Expiry warnings are queued by the engines (any of them; the outbox keeps them once each).
      async beforeRound() {
        const now = clock();
        if (now - lastExpiryScan < EXPIRY_SCAN_INTERVAL_MS) return;
        await queueExpiryWarnings(opts.store, policy.current(), now);
        lastExpiryScan = now;
      },
      ...(opts.noticeIntervalMs !== undefined ? { intervalMs: opts.noticeIntervalMs } : {}),
      onError: (e) =>
        opts.onError?.(new Error(`notice outbox: ${e instanceof Error ? e.message : String(e)}`)),
    });
    return Object.assign(engine, {
      policy,
      notices,
      async close() {
        await notices.stop();
        await close();
        release();
      },
    });
  } catch (err) {
    release();
    throw err;
  }
}
