/** Runs probes: each SMTP transaction, then what the operations API shows of the messages, then the quarantine cleaned up. */
import type { MailplaneClient } from "../../sdk/src/client/client.ts";
import type { MessageLogEntry, QuarantineEntry } from "../../sdk/src/contract/operations.ts";
import { probeMessage } from "./message.ts";
import type { Probe } from "./probes.ts";
import { type SmtpReply, smtpTransaction, type TransactionResult } from "./smtp-client.ts";

/** A probe's verdict: `error` when the SMTP session failed, so nothing could be compared. */
export type ProbeStatus = "match" | "mismatch" | "error";

/** What one probe found. */
export interface ProbeOutcome {
  probe: Probe;
  status: ProbeStatus;
  /** In words, for the table: `550 Joe no longer works here`, `250, delivered`. */
  actual: string;
  smtp: {
    stage: TransactionResult["stage"];
    reply: string | null;
    code: number | null;
    queueId?: string;
    error?: string;
  };
  /** The message log's entry of a message probe; null when none was found in time. */
  log?: Pick<MessageLogEntry, "id" | "action" | "classification" | "delivery" | "deliveryDetail"> | null;
  /** The quarantine entry of a message probe; null when none was found in time. */
  quarantine?: { id: string; deleted: boolean } | null;
  /** Why something could not be checked, or what was left behind. */
  notes: string[];
}

/** Options of {@link runProbes}. Times in milliseconds. */
export interface RunOptions {
  /** The operations API (message log, quarantine) of the tenant. */
  client: MailplaneClient;
  /** The inbound (MX) listener the probes talk to. */
  smtp: { host: string; port: number };
  /** Our EHLO name; default `verify.mailplane.invalid`. */
  helo?: string;
  /** How long to wait for the log and the quarantine to show a message; default 30,000. */
  waitMs?: number;
  /** Per SMTP reply; default 30,000. */
  timeoutMs?: number;
  /** Delete quarantined probe messages afterwards; default true. */
  cleanup?: boolean;
  progress?: (line: string) => void;
  /** Clock of the Date header and the deadline (tests). */
  now?: () => number;
}

/** The reply as the table shows it: code and text, without the enhanced code. */
function words(reply: SmtpReply | null): string {
  return reply ? `${reply.code} ${reply.text}`.trim() : "(no reply)";
}

/** Compares the SMTP part of a probe's expectation with the transaction. */
function judgeSmtp(probe: Probe, result: TransactionResult): { ok: boolean; actual: string } {
  const expected = probe.expect.smtp;
  if (result.error) return { ok: false, actual: `no answer: ${result.error}` };
  const reply = result.reply;
  // An envelope the server took is summed up as such; any other answer is shown as sent.
  const actual =
    result.stage === "done" && probe.send === "envelope" && reply ? `${reply.code} (accepted)` : words(reply);
  if (expected.verdict === "accept") {
    return { ok: result.stage === "done" && reply !== null && reply.code >= 200 && reply.code < 300, actual };
  }
  const stageOk =
    expected.at === "data" ? result.stage === "data" : result.stage === "mail" || result.stage === "rcpt";
  const codeOk = reply !== null && reply.code === expected.code;
  const textOk = expected.text === undefined || reply?.text === expected.text;
  return { ok: stageOk && codeOk && textOk, actual };
}

/** A MailplaneError's code, or undefined. */
const codeOf = (err: unknown) => (err as { code?: unknown }).code;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends every probe (one connection each, in order), then waits until the message log or the
 * quarantine shows each message probe's fate, then deletes quarantined probe messages. Never throws
 * for a probe: SMTP failures are `error` outcomes, an operations API without an SMTP engine
 * (503 MP_UNAVAILABLE) leaves a note and the SMTP answer decides.
 * @example const outcomes = await runProbes(probes, { client, smtp: { host: "127.0.0.1", port: 2525 } });
 */
export async function runProbes(probes: readonly Probe[], opts: RunOptions): Promise<ProbeOutcome[]> {
  const now = opts.now ?? Date.now;
  const progress = opts.progress ?? (() => {});
  const outcomes: ProbeOutcome[] = [];
  for (const probe of probes) {
    const result = await smtpTransaction({
      host: opts.smtp.host,
      port: opts.smtp.port,
      helo: opts.helo ?? "verify.mailplane.invalid",
      from: probe.from,
      to: probe.to,
      ...(probe.send === "message" ? { message: probeMessage(probe, new Date(now())) } : {}),
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    });
    const judged = judgeSmtp(probe, result);
    const outcome: ProbeOutcome = {
      probe,
      status: result.error ? "error" : judged.ok ? "match" : "mismatch",
      actual: judged.actual,
      smtp: {
        stage: result.stage,
        reply: result.reply?.line ?? null,
        code: result.reply?.code ?? null,
        ...(result.queueId ? { queueId: result.queueId } : {}),
        ...(result.error ? { error: result.error } : {}),
      },
      notes: [],
    };
    outcomes.push(outcome);
    progress(`${probe.id} ${probe.checks}: ${outcome.actual}`);
  }

  // Only a message the server took in (accepted, or refused after the data) can have a fate to read.
  const watched = outcomes.filter(
    (o) =>
      o.probe.send === "message" && !o.smtp.error && (o.smtp.stage === "done" || o.smtp.stage === "data"),
  );
  const unreadable = new Map<string, string>();
  if (watched.length > 0) {
    progress(`reading the fate of ${watched.length} message${watched.length === 1 ? "" : "s"} from the API`);
    await observe(watched, opts.client, now() + (opts.waitMs ?? 30_000), now, unreadable);
  }
  for (const o of watched) {
    const why = unreadable.get(o.probe.domain);
    if (why) {
      o.notes.push(`${why}: only the SMTP answer was checked`);
      o.actual += ", fate not visible";
      if (o.probe.expect.after === "quarantined") {
        o.notes.push(
          `the probe message may stay in the quarantine of ${o.probe.domain} (subject contains ${o.probe.token})`,
        );
      }
    } else settle(o);
  }
  if (opts.cleanup !== false) await cleanUp(outcomes, opts.client, progress);
  return outcomes;
}

/**
 * Polls the log and the quarantine until every watched probe shows a final fate or the deadline
 * passes. Domains whose operations cannot be read go into `unreadable`, with the reason.
 */
async function observe(
  watched: ProbeOutcome[],
  client: MailplaneClient,
  deadline: number,
  now: () => number,
  unreadable: Map<string, string>,
): Promise<void> {
  let pause = 200;
  for (;;) {
    const open = watched.filter((o) => !final(o) && !unreadable.has(o.probe.domain));
    if (open.length === 0) return;
    for (const o of open) {
      // The closing bracket keeps p1 from matching p10's subject.
      const search = `${o.probe.token}]`;
      try {
        const log = await client.operations.searchLog(o.probe.domain, { subject: search, limit: 5 });
        const entry = log.items[0];
        o.log = entry
          ? {
              id: entry.id,
              action: entry.action,
              classification: entry.classification,
              delivery: entry.delivery,
              deliveryDetail: entry.deliveryDetail,
            }
          : null;
        if (o.probe.expect.after === "quarantined" && !o.quarantine) {
          const held = await client.operations.listQuarantine(o.probe.domain, { subject: search, limit: 5 });
          const first: QuarantineEntry | undefined = held.items[0];
          o.quarantine = first ? { id: first.id, deleted: false } : null;
        }
      } catch (err) {
        const code = codeOf(err);
        unreadable.set(
          o.probe.domain,
          code === "MP_UNAVAILABLE"
            ? // The control plane runs without an SMTP engine in its process (`mailplane smtp` apart).
              "the message log is not visible through this control plane (MP_UNAVAILABLE)"
            : `the message log could not be read (${typeof code === "string" ? `${code}: ` : ""}${(err as Error).message})`,
        );
      }
    }
    if (now() >= deadline) return;
    await sleep(pause);
    pause = Math.min(pause * 2, 1000);
  }
}

/** True once a message's fate will not change by waiting. */
function final(o: ProbeOutcome): boolean {
  if (o.quarantine) return true;
  const delivery = o.log?.delivery;
  if (delivery === undefined || delivery === null || delivery === "queued") return false;
  // The log says "quarantined" as the message is received, a moment before the quarantine holds it.
  return !(o.probe.expect.after === "quarantined" && delivery === "quarantined");
}

/** Folds what the API showed into the outcome's status and words. */
function settle(o: ProbeOutcome): void {
  const after = o.probe.expect.after;
  if (after === undefined) return;
  const reply = o.actual;
  let fate: string;
  let ok: boolean;
  if (after === "quarantined") {
    ok = o.quarantine !== null && o.quarantine !== undefined;
    fate = ok ? "quarantined" : o.log?.delivery ? o.log.delivery : "not in the quarantine";
  } else {
    ok = o.log?.delivery === "delivered";
    fate = o.log ? (o.log.delivery ?? o.log.action) : "not in the message log";
    if (o.log?.deliveryDetail) fate += ` (${o.log.deliveryDetail})`;
  }
  if (!ok && o.log === null && !o.quarantine) fate += " in time";
  // A matching reply is summed up by its code; a mismatch keeps the whole reply.
  o.actual = ok && o.status === "match" ? `${o.smtp.code}, ${fate}` : `${reply}, ${fate}`;
  if (!ok && o.status === "match") o.status = "mismatch";
}

/** Deletes probe messages from the quarantine; what cannot be deleted is noted. */
async function cleanUp(
  outcomes: ProbeOutcome[],
  client: MailplaneClient,
  progress: (line: string) => void,
): Promise<void> {
  for (const o of outcomes) {
    if (!o.quarantine) continue;
    try {
      await client.operations.deleteQuarantined(o.probe.domain, o.quarantine.id);
      o.quarantine.deleted = true;
    } catch (err) {
      if (codeOf(err) === "MP_NOT_FOUND") {
        o.quarantine.deleted = true;
        continue;
      }
      o.notes.push(
        `probe message ${o.quarantine.id} stays in the quarantine of ${o.probe.domain}: ${(err as Error).message}`,
      );
    }
  }
  const deleted = outcomes.filter((o) => o.quarantine?.deleted).length;
  if (deleted > 0)
    progress(`deleted ${deleted} probe message${deleted === 1 ? "" : "s"} from the quarantine`);
}
