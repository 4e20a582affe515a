/** The report scheduler: sends each domain's due quarantine digests (and domain reports) once per period, at the domain's timezone, once across every engine on the store. */
import { randomBytes } from "node:crypto";
import { readFile, rename } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { defaultReportSettings, type ReportSettingsSpec } from "../../sdk/src/models/report-settings.ts";
import { hasCatchAll } from "../api/routes/report-settings.ts";
import type { SmtpOperations } from "../smtp/operations.ts";
import { ownerOf } from "../smtp/owners.ts";
import type { DomainPolicy, PolicySnapshot } from "../smtp/policy/snapshot.ts";
import type { QuarantineEntry } from "../smtp/quarantine/store.ts";
import type { Store } from "../store/store.ts";
import { composeDigest } from "./digest.ts";
import { composeDomainReport } from "./domain-report.ts";
import { periodOf } from "./periods.ts";
import { releaseKey, signReleaseToken } from "./release-token.ts";

/** Default time between two checks for due reports: one minute. */
export const DEFAULT_REPORT_CHECK_MS = 60_000;

/**
 * How long an engine's claim on a send holds (ms): five minutes. An engine that stopped between the
 * claim and the send leaves it to any engine (itself restarted, or another) after that.
 */
export const REPORT_CLAIM_MS = 300_000;

/** The path of a release link under the control plane's public URL. */
export const RELEASE_PATH = "/release/";

/** What the scheduler needs. */
export interface ReportSchedulerOptions {
  store: Store;
  /** The engine: its policy (hosted domains, users, catch-alls) and operations (quarantine, notices, statistics). */
  engine: { operations: SmtpOperations; policy: { current(): PolicySnapshot } };
  /** Signs release links (a key derived from it; see release-token.ts). */
  masterKey: Buffer;
  /** The control plane as users reach it, e.g. `https://mail.example.com`: release links point there. */
  publicUrl: string;
  /**
   * The engine's data directory: a `reports-sent.log` there (the record of sends of earlier versions,
   * kept per engine) is imported into the store once and renamed `reports-sent.log.imported`. Default none.
   */
  dataDir?: string;
  /** The clock, in ms; default Date.now. Tests move it instead of waiting. */
  now?: () => number;
  /** Failures of one domain's sends (the others go on); default none. */
  onError?: (error: Error) => void;
}

/** One send the scheduler made. */
export interface ReportSend {
  kind: "digest" | "domain-report";
  domain: string;
  to: string;
  period: string;
  /** The notice's queue ID; undefined when the recipient refused it. */
  queueId: string | undefined;
}

/** The settings in force for a domain: its own, else the account's, else the defaults (nothing sent). */
async function settingsOf(store: Store, d: DomainPolicy): Promise<ReportSettingsSpec> {
  const own = await store.getObject(d.accountId, "ReportSettings", `${d.name}/report-settings`);
  const account = own ?? (await store.getObject(d.accountId, "ReportSettings", "account/report-settings"));
  return (account?.spec as ReportSettingsSpec | undefined) ?? defaultReportSettings(d.name);
}

/** True when `address` is a user of the domain (by its address or one of its extra addresses). */
function isUser(d: DomainPolicy, address: string): boolean {
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at);
  return address.slice(at + 1) === d.name && (d.users.has(local) || d.userAddresses.has(local));
}

/**
 * Sends due digests and domain reports. Every check walks the hosted domains; for each one whose
 * settings ask for reports it works out the current period in the domain's timezone (its day, or
 * its ISO week from Monday) and sends what has not been sent for that period. The record of sends
 * is in the store (report-sends.ts): each send is claimed there before it is queued, so every engine
 * on the store may run a scheduler and each digest or report goes out once, across restarts. Digests go to the listed users and, with auto-activation (never while
 * the domain has a catch-all), to every user of the domain with held mail; a user with nothing held
 * gets none.
 *
 * @example
 * const scheduler = await ReportScheduler.open({ store, engine, masterKey, publicUrl: "https://mail.example.com", dataDir: ".data/smtp" });
 * scheduler.start();
 */
export class ReportScheduler {
  readonly #opts: ReportSchedulerOptions;
  readonly #key: Buffer;
  /** Who claims sends in the store: this scheduler only (a restart is another claimant). */
  readonly #claimant = `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReportSend[]> | undefined;

  private constructor(opts: ReportSchedulerOptions) {
    this.#opts = opts;
    this.#key = releaseKey(opts.masterKey);
  }

  /** Imports the record of sends of an earlier version from `dataDir`, when there is one. */
  static async open(opts: ReportSchedulerOptions): Promise<ReportScheduler> {
    if (opts.dataDir) await importLegacyRecord(opts.store, join(opts.dataDir, "reports-sent.log"));
    return new ReportScheduler(opts);
  }

  /** Checks every `intervalMs` (default one minute) until {@link close}. */
  start(intervalMs = DEFAULT_REPORT_CHECK_MS): void {
    this.#timer ??= setInterval(() => {
      this.runOnce().catch((e: Error) => this.#opts.onError?.(e));
    }, intervalMs);
    this.#timer.unref();
  }

  /** One check: sends everything due now; resolves to what it sent. Checks never overlap. */
  runOnce(): Promise<ReportSend[]> {
    const running = this.#running ?? this.#check().finally(() => (this.#running = undefined));
    this.#running = running;
    return running;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #check(): Promise<ReportSend[]> {
    const sent: ReportSend[] = [];
    for (const d of this.#opts.engine.policy.current().domains.values()) {
      try {
        const settings = await settingsOf(this.#opts.store, d);
        if (!settings.userReport && !settings.domainReport) continue;
        const period = periodOf(this.#now(), d.timezone, settings.frequency);
        if (settings.userReport) sent.push(...(await this.#digests(d, settings, period)));
        if (settings.domainReport) sent.push(...(await this.#domainReports(d, settings, period)));
      } catch (error) {
        this.#opts.onError?.(error as Error);
      }
    }
    return sent;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  /** Sends a notice when this scheduler wins the claim on `key` in the store, then marks it sent; null when not. */
  async #once(key: string, send: () => Promise<string | undefined>): Promise<string | undefined | null> {
    const store = this.#opts.store;
    if (!(await store.claimReportSend({ key, claimant: this.#claimant, forMs: REPORT_CLAIM_MS })))
      return null;
    // A failed send keeps the claim until it runs out; then a later check (here or elsewhere) retries.
    const queueId = await send();
    // Marked once the notice is durable in the queue: a crash between the two sends it again once
    // the claim runs out, rather than never.
    await store.markReportSent({ key, claimant: this.#claimant, queueId: queueId ?? null });
    return queueId;
  }

  async #digests(d: DomainPolicy, settings: ReportSettingsSpec, period: string): Promise<ReportSend[]> {
    const ops = this.#opts.engine.operations;
    const owner = ownerOf(d);
    const held = ops.listQuarantine({ owner });
    if (held.length === 0) return [];
    const listed = new Set(settings.userReportRecipients.filter((a) => a.endsWith(`@${d.name}`)));
    // The seeds' rule, enforced again here: with a catch-all every made-up address is a recipient.
    const auto =
      settings.userReportAutoActivate &&
      !hasCatchAll({ name: d.name, catchAll: d.catchAll }, d.catchAllAlias ? [`*@${d.name}`] : []);
    const byRecipient = new Map<string, QuarantineEntry[]>();
    for (const e of held) {
      for (const r of e.recipients) {
        const rcpt = r.toLowerCase();
        if (!listed.has(rcpt) && !(auto && isUser(d, rcpt))) continue;
        byRecipient.set(rcpt, [...(byRecipient.get(rcpt) ?? []), e]);
      }
    }
    const sent: ReportSend[] = [];
    const base = this.#opts.publicUrl.replace(/\/+$/, "");
    for (const [recipient, entries] of [...byRecipient].sort(([a], [b]) => a.localeCompare(b))) {
      const key = ["digest", d.accountId, d.name, d.generation, recipient, period].join("|");
      const digest = () =>
        composeDigest({
          domain: d.name,
          recipient,
          entries,
          timezone: d.timezone,
          frequency: settings.frequency,
          language: settings.language,
          link: (e) =>
            `${base}${RELEASE_PATH}${signReleaseToken(this.#key, {
              message: e.id,
              recipient,
              accountId: d.accountId,
              domain: d.name,
              generation: d.generation,
              // Never past the message's purge: the link dies with what it releases.
              expiresAt: Math.floor(Date.parse(e.expiresAt) / 1000),
            })}${settings.language === "en" ? "" : `?lang=${settings.language}`}`,
        });
      const queueId = await this.#once(key, () => ops.sendNotice(digest()));
      if (queueId !== null) sent.push({ kind: "digest", domain: d.name, to: recipient, period, queueId });
    }
    return sent;
  }

  async #domainReports(d: DomainPolicy, settings: ReportSettingsSpec, period: string): Promise<ReportSend[]> {
    const ops = this.#opts.engine.operations;
    const keyFor = (to: string) => ["domain-report", d.accountId, d.name, d.generation, to, period].join("|");
    // Built (statistics, log search, PDF) only while a recipient still waits for this period's.
    const sent = await this.#opts.store.sentReportSends(settings.domainReportRecipients.map(keyFor));
    const pending = settings.domainReportRecipients.filter((to) => !sent.has(keyFor(to)));
    if (pending.length === 0) return [];
    const report = await composeDomainReport({
      operations: ops,
      owner: ownerOf(d),
      timezone: d.timezone,
      settings,
      now: this.#now(),
    });
    if (report.quarantined === 0 && !settings.sendWhenEmpty) return [];
    const sends: ReportSend[] = [];
    for (const to of pending) {
      const queueId = await this.#once(keyFor(to), () => ops.sendNotice({ ...report.notice, to }));
      if (queueId !== null) sends.push({ kind: "domain-report", domain: d.name, to, period, queueId });
    }
    return sends;
  }
}

/**
 * Moves an engine's `reports-sent.log` of an earlier version into the store: its keys count as sent
 * (a restart after the upgrade sends nothing twice), then the file is renamed. A crash before the
 * rename imports it again, which changes nothing.
 */
async function importLegacyRecord(store: Store, path: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  // Only whole lines count: the last one may have been cut by a crash mid-write.
  const keys = text
    .split("\n")
    .slice(0, -1)
    .filter((l) => l !== "");
  await store.importReportSends(keys);
  await rename(path, `${path}.imported`);
}
