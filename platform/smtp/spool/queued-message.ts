/** A queued message and its targets: what the queue keeps, what a delivery attempt reports, the callbacks that deliver, quarantine and bounce. */
import type { ArcSealInput } from "../content/auth.ts";
import type { MessageView } from "../owners.ts";
import type { HeaderEdits, MessageClass } from "../phases/data.ts";
import type { DeliveryTarget, ListenerKind } from "../session.ts";

/** Everything the queue keeps about an accepted message besides its bytes (the journal record's meta). */
export interface QueuedMessage {
  id: string;
  receivedAt: string;
  /** Envelope sender; "" for the null sender (bounces, auto-replies). */
  sender: string;
  client: {
    ip: string;
    helo: string;
    tls: boolean;
    user: string | null;
    listener: ListenerKind | "internal";
  };
  /** The transaction's main domain (inbound), the sender's domain (submission), or null. */
  domain: string | null;
  subject: string;
  messageId: string | null;
  size: number;
  disposition: "deliver" | "quarantine";
  classification: MessageClass;
  reason: string;
  score: number;
  edits: HeaderEdits;
  recipients: { rcpt: string; address: string; targets: DeliveryTarget[] }[];
  /**
   * How the message entered: a client, a bounce (DSN), an auto-reply, a quarantine release, or a
   * notice the platform writes to a person (login alert, password expiry, digest, report, reset link).
   */
  origin: "smtp" | "bounce" | "autoreply" | "release" | "notice";
  /** Header facts the auto-responder needs (RFC 3834 §2), read once at DATA. */
  facts?: { autoSubmitted: string | null; precedence: string | null; list: boolean };
  /** Large bodies live in their own file beside the journal (name inside the spool's bodies/ folder). */
  bodyFile?: string;
  /**
   * Each account's view of the message (see owners.ts): whose queue, log and quarantine it is in and
   * which recipients each may see. Absent on messages queued before views existed (owned by `domain`).
   */
  views?: MessageView[];
  /** RFC 8689: the client asked for REQUIRETLS (MAIL FROM … REQUIRETLS); relayed only over verified TLS. */
  requireTls?: true;
  /** Inbound mail authenticated here: what a forward's ARC set records (RFC 8617 §5.1). Absent: never sealed. */
  arc?: ArcSealInput;
}

/** True for mail the engine writes itself (bounces, auto-replies, notices): signed as ours, never bounced. */
export function writtenByEngine(origin: QueuedMessage["origin"]): boolean {
  return origin === "bounce" || origin === "autoreply" || origin === "notice";
}

/** One target still to deliver, with its retry bookkeeping. */
export interface TargetState {
  key: string;
  recipient: string;
  target: DeliveryTarget;
  attempts: number;
  lastError: string | null;
}

/** What a delivery attempt reports per target. */
export interface DeliveryOutcome {
  key: string;
  status: "delivered" | "deferred" | "failed";
  /** The remote reply or local error, for logs, the queue view and DSNs. */
  detail: string;
  /** RFC 3463 status for DSNs, e.g. 5.1.1. */
  status_code: string;
  /** `dns; mx.example.net` style remote MTA for DSNs, when there was one. */
  remoteMta?: string;
  /**
   * For a delivered copy that is written but not yet synced (Maildir group commit): resolves once
   * it is on disk. The queue keeps the message in the journal until then; a rejection turns the
   * target back into a deferred one.
   */
  durable?: Promise<void>;
}

/** Delivers the pending targets of one message; never throws (failures are outcomes). */
export type Deliver = (
  message: QueuedMessage,
  body: Buffer,
  targets: TargetState[],
) => Promise<DeliveryOutcome[]>;

/** Handles a message whose disposition is quarantine (stores it for review). */
export type Quarantine = (message: QueuedMessage, body: Buffer) => Promise<void>;

/** Sends a DSN for targets that failed permanently (or ran out of retries). */
export type Bounce = (
  message: QueuedMessage,
  body: Buffer,
  failed: { target: TargetState; outcome: DeliveryOutcome }[],
) => Promise<void>;

/** A message waiting in the queue, as the operations API lists it. */
export interface QueueView {
  id: string;
  receivedAt: string;
  sender: string;
  recipients: string[];
  size: number;
  subject: string;
  domain: string | null;
  state: "active" | "deferred";
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
}

/** Every target of every recipient, keyed so outcomes and retries can name them. */
export function initialTargets(meta: QueuedMessage): TargetState[] {
  const out: TargetState[] = [];
  for (const r of meta.recipients) {
    for (const target of r.targets) {
      const key =
        target.kind === "autoreply" ? `autoreply:${target.alias}` : `${target.kind}:${target.address}`;
      if (out.some((t) => t.key === key)) continue;
      out.push({ key, recipient: r.address, target, attempts: 0, lastError: null });
    }
  }
  return out;
}

/** True for a message the queue may deliver before the reply (Queue.acceptDelivering): local mailboxes only, body in memory. */
export function deliversToMailboxesOnly(meta: QueuedMessage): boolean {
  return (
    meta.disposition === "deliver" &&
    meta.origin === "smtp" &&
    !meta.bodyFile &&
    meta.recipients.length > 0 &&
    meta.recipients.every((r) => r.targets.length > 0 && r.targets.every((t) => t.kind === "mailbox"))
  );
}
