/** Mail the engine writes itself (DSNs, auto-replies, notices): resolved like a recipient at RCPT, queued durably, logged for the views it concerns. */
import type { EventEmitter } from "node:events";
import type { Inject } from "./delivery/worker.ts";
import type { MessageLog } from "./message-log/entry.ts";
import { type MessageView, ownedBy, ownerOf } from "./owners.ts";
import { rcptTo } from "./phases/rcpt-to.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import { logEntry, newQueueId, receivedField } from "./receive.ts";
import { type ConnectionContext, newTransaction } from "./session.ts";
import type { Queue, QueuedMessage } from "./spool/queue.ts";

/** Internal mail (bounces, auto-replies) is addressed like an authenticated client: it may go anywhere. */
function internalContext(hostname: string): ConnectionContext {
  return {
    id: "internal",
    listener: "submission",
    remoteAddress: "127.0.0.1",
    helo: hostname,
    secure: true,
    user: { address: `mailer-daemon@${hostname}`, accountId: "", domain: hostname },
  };
}

/**
 * The engine's `inject`: one message it wrote to one recipient, refused (and logged) when the policy
 * refuses the recipient, else accepted into the queue like a client's message. `queue` is asked at
 * each call: the queue is opened after the delivery worker that needs `inject`.
 *
 * @example
 * const inject = createInject({ queue: () => queue, hostname, now: Date.now, snapshot, log, events });
 * await inject({ origin: "bounce", to: "ana@example.com", body, domain: "example.com", subject: "Undelivered" });
 */
export function createInject(deps: {
  queue: () => Queue;
  hostname: string;
  now: () => number;
  snapshot: () => PolicySnapshot;
  log: MessageLog;
  /** Emits `injected` with the queued message's meta. */
  events: EventEmitter;
}): Inject {
  const { hostname, now, snapshot, log, events } = deps;
  return async ({ origin, to, body, domain, subject, requireTls }) => {
    const q = deps.queue();
    const conn = internalContext(hostname);
    const current = snapshot();
    const verdict = rcptTo(current, conn, newTransaction("", null), to);
    const id = newQueueId(now());
    // The domain the notice is sent for sees it; a hosted recipient's domain sees it too.
    const views: MessageView[] = [];
    const own = domain ? current.domains.get(domain) : undefined;
    if (own) views.push({ owner: ownerOf(own), recipients: [to] });
    const target =
      verdict.action === "accept" && verdict.value.domain
        ? current.domains.get(verdict.value.domain)
        : undefined;
    if (target && !views.some((v) => ownedBy(v.owner, ownerOf(target)))) {
      views.push({ owner: ownerOf(target), recipients: [to] });
    }
    if (verdict.action !== "accept") {
      log.record(
        logEntry(conn, {
          id,
          sender: "",
          classification: "rejected",
          action: "rejected",
          reply: `${origin} not sent: ${verdict.message}`,
        }),
        views,
      );
      return;
    }
    const receivedAt = new Date(now());
    const meta: QueuedMessage = {
      id,
      receivedAt: receivedAt.toISOString(),
      sender: "",
      client: { ip: "127.0.0.1", helo: hostname, tls: true, user: null, listener: "internal" },
      domain,
      subject,
      messageId: null,
      size: body.length,
      disposition: "deliver",
      classification: "clean",
      reason: origin,
      score: 0,
      edits: {
        prepend: [receivedField({ ...conn, user: null }, hostname, id, [to], receivedAt)],
        subjectPrefix: null,
      },
      recipients: [
        { rcpt: verdict.value.rcpt, address: verdict.value.address, targets: verdict.value.targets },
      ],
      origin,
      views,
      ...(requireTls ? { requireTls: true as const } : {}),
    };
    await q.accept(meta, body);
    log.record(
      {
        ...logEntry(
          { ...conn, listener: "submission" },
          {
            id,
            sender: "",
            classification: "clean",
            action: "accepted",
            reply: `${origin} queued`,
            subject,
            size: body.length,
            delivery: "queued",
          },
        ),
        listener: "internal",
      },
      views,
    );
    events.emit("injected", meta);
    return id;
  };
}
