/** A queued message for the spool's tests: a clean message from bob@example.net to local mailboxes of example.com. */
import type { QueuedMessage } from "../../platform/smtp/spool/queued-message.ts";

/**
 * The queue's record of a message `id` to the mailboxes `locals` (local parts of example.com),
 * with `extra` fields replacing the defaults.
 * @example queuedMessage("m1", ["alice", "carol"], { classification: "spam" })
 */
export function queuedMessage(
  id: string,
  locals: readonly string[] = ["alice"],
  extra: Partial<QueuedMessage> = {},
): QueuedMessage {
  return {
    id,
    receivedAt: new Date().toISOString(),
    sender: "bob@example.net",
    client: { ip: "127.0.0.1", helo: "client.test", tls: false, user: null, listener: "inbound" },
    domain: "example.com",
    subject: "hello",
    messageId: null,
    size: 5,
    disposition: "deliver",
    classification: "clean",
    reason: "clean",
    score: 0,
    edits: { prepend: [], subjectPrefix: null },
    recipients: locals.map((local) => ({
      rcpt: `${local}@example.com`,
      address: `${local}@example.com`,
      targets: [{ kind: "mailbox" as const, address: `${local}@example.com`, domain: "example.com" }],
    })),
    origin: "smtp",
    ...extra,
  };
}
