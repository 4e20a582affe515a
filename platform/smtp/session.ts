/** Per-connection and per-transaction state the phases read and the server updates after acceptance. */

/** Which listener a connection came in on: MX traffic (port 25 role) or authenticated submission (587 role). */
export type ListenerKind = "inbound" | "submission";

/** A client that passed SMTP AUTH (RFC 4954). */
export interface AuthenticatedUser {
  address: string;
  accountId: string;
  domain: string;
}

/** What the phases know about the connection. */
export interface ConnectionContext {
  id: string;
  listener: ListenerKind;
  remoteAddress: string;
  /** The EHLO/HELO argument, "" before the client sent one. */
  helo: string;
  secure: boolean;
  user: AuthenticatedUser | null;
  /**
   * The client's verified host name (forward-confirmed reverse DNS), looked up from the connect on;
   * absent when not looked up (loopback and private clients, internal mail).
   */
  clientName?: Promise<string | null>;
}

/**
 * Where one accepted recipient's copy goes.
 * - `mailbox`: the Maildir of a local user;
 * - `relay`: the recipient's domain routes (a downstream server that owns the mailbox);
 * - `remote`: outside the platform (forwards to other domains, authenticated submission, bounces);
 * - `autoreply`: answer the sender (RFC 3834), the message itself is not stored for this target.
 */
export type DeliveryTarget =
  | { kind: "mailbox"; address: string; domain: string }
  | { kind: "relay"; address: string; domain: string }
  | { kind: "remote"; address: string }
  | { kind: "autoreply"; alias: string; domain: string; subject: string; body: string; periodDays: number };

/** A recipient accepted at RCPT, with its resolved targets. */
export interface AcceptedRecipient {
  /** The address as the client gave it, lower-cased. */
  rcpt: string;
  /** After rewriting a domain alias to its main domain. */
  address: string;
  /** The main domain when the platform hosts it, else null (authenticated relaying). */
  domain: string | null;
  /** False when a recipient or sender allow list (or authentication) skips filtering. */
  filtered: boolean;
  targets: DeliveryTarget[];
}

/** One mail transaction (MAIL … DATA). */
export interface Transaction {
  /** The envelope sender, lower-cased; "" for the null reverse-path `<>`. */
  mailFrom: string;
  /** The SIZE the client declared (RFC 1870), if any. */
  declaredSize: number | null;
  recipients: AcceptedRecipient[];
  /**
   * Recipients of one inbound transaction share one domain and one filtering mode, so the DATA
   * verdict is one honest reply; others get 452 and arrive in the client's next transaction.
   */
  groupKey: string | null;
  /** RFC 8689: MAIL FROM carried REQUIRETLS (only possible over TLS); relayed only over verified TLS. */
  requireTls?: true;
}

/** A fresh transaction after MAIL FROM was accepted. */
export function newTransaction(mailFrom: string, declaredSize: number | null): Transaction {
  return { mailFrom, declaredSize, recipients: [], groupKey: null };
}
