/** The SMTP listeners: smtp-server wired to the phases, with every phase result turned into a reply here. */
import type { SMTPServer, SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import { calloutRoutes, type RecipientCallout } from "./delivery/callout.ts";
import type { LoginLockout } from "./lockout.ts";
import type { MessageLog } from "./message-log/entry.ts";
import { ownerOf } from "./owners.ts";
import { AUTH_MECHANISMS, authenticate, type CredentialSource } from "./phases/auth.ts";
import { type ConnectionGate, connect } from "./phases/connect.ts";
import { mailFrom } from "./phases/mail-from.ts";
import {
  groupKeyOf,
  type OperatorPostmaster,
  type RcptLimits,
  rcptTo,
  rcptToPostmaster,
} from "./phases/rcpt-to.ts";
import { type Refusal, reject, replyLine } from "./phases/result.ts";
import { type SenderRateLimit, senderRate } from "./phases/sender-rate.ts";
import { splitMailbox } from "./policy/matchers.ts";
import type { PolicySnapshot } from "./policy/snapshot.ts";
import { logEntry, newQueueId, type ReceiveDeps, receiveMessage } from "./receive.ts";
import { type ConnectionContext, type ListenerKind, newTransaction, type Transaction } from "./session.ts";
import { MailplaneSmtpServer, type PatchDecision } from "./smtp-server-patches.ts";
import type { TlsMaterial } from "./tls.ts";

/** Options of one listener. */
export interface ListenerOptions {
  kind: ListenerKind;
  hostname: string;
  tls: TlsMaterial;
  /** Hard size limit in bytes, advertised with SIZE (RFC 1870) and enforced by smtp-server (rejectOversized). */
  maxMessageBytes: number;
  /**
   * Wait before the 220 greeting, in ms. smtp-server always waits 100 ms (to catch clients that
   * talk before the greeting); that delay caps a client that opens one connection per message at
   * 10 messages/s per session, so the engine replaces it with this value (only when `smtpServer`
   * allows patching; otherwise the library's 100 ms stays). Default 0.
   */
  greetingDelayMs: number;
  /**
   * Whether smtp-server may be patched (greeting delay, fast DATA reader, reply codes): see
   * smtp-server-patches.ts. Unpatched, the listener hides ENHANCEDSTATUSCODES.
   */
  smtpServer: PatchDecision;
  /** Idle timeout per connection (RFC 5321 §4.5.3.2 asks for at least 5 minutes). Default 300,000. */
  socketTimeoutMs?: number;
  snapshot: () => PolicySnapshot;
  gate: ConnectionGate;
  /** Recipients per message and alias expansion per message; default {@link DEFAULT_RCPT_LIMITS}. */
  rcptLimits?: RcptLimits;
  /** Where `RCPT TO:<Postmaster>` without a domain goes (RFC 5321 §4.1.1.3). */
  postmaster: OperatorPostmaster;
  /** Verifies recipients of routed domains with their routes (RCPT 550 5.1.1 on a 5xx); none: not verified. */
  callout?: RecipientCallout;
  /** Messages per authenticated user; none when absent. */
  senderRate?: SenderRateLimit;
  lockout: LoginLockout;
  credentials: CredentialSource;
  log: MessageLog;
  /** Told of every recipient refused at RCPT, whether or not the message log records it. */
  onRecipientRefused?: (refusal: Refusal) => void;
  receive: ReceiveDeps;
  /**
   * Looks up a client's verified host name (content/client-name.ts), started at connect so it is
   * ready by the end of DATA; undefined when the client is not looked up. None: never looked up.
   */
  clientName?: (address: string) => Promise<string | null> | undefined;
  now?: () => number;
}

/** The reply error smtp-server sends for a refusal: `<code> <enhanced> <text>`, enhanced code ours. */
export function refusalError(result: Refusal): Error & { responseCode: number } {
  const err = new Error(`${result.enhanced} ${result.message}`) as Error & { responseCode: number };
  err.responseCode = result.code;
  return err;
}

/**
 * Answers a MAIL or RCPT hook once the current call stack is done. smtp-server's parser loses its
 * place when the commands pipelined after a message (RFC 2920) run synchronously, inside
 * SMTPStream.continue(), up to the end of the next message's DATA: continue() clears the
 * continuation that the next message just registered, and the connection hangs with the rest of
 * the pipeline unanswered. Every DATA follows a RCPT, so one deferred answer per RCPT (and MAIL)
 * breaks that chain; smtp-server's own default hooks answer with setImmediate.
 */
function answerLater(answer: (err?: Error | null) => void): (err?: Error | null) => void {
  return (err) => queueMicrotask(() => answer(err));
}

/**
 * Creates a listener (not yet listening). The inbound listener takes MX traffic: STARTTLS offered,
 * no AUTH. The submission listener requires AUTH (PLAIN/LOGIN) after STARTTLS (RFC 3207, RFC 4954),
 * then relays for the user.
 *
 * @example
 * const server = createListener({ kind: "inbound", … });
 * server.listen(2525, "127.0.0.1");
 */
export function createListener(opts: ListenerOptions): SMTPServer {
  const conns = new WeakMap<
    SMTPServerSession,
    { ctx: ConnectionContext; tx: Transaction | null; admitted: boolean }
  >();
  const now = opts.now ?? Date.now;
  const state = (session: SMTPServerSession) => {
    let s = conns.get(session);
    if (!s) {
      s = {
        ctx: {
          id: session.id,
          listener: opts.kind,
          remoteAddress: session.remoteAddress,
          helo: "",
          secure: session.secure,
          user: null,
        },
        tx: null,
        admitted: false,
      };
      conns.set(session, s);
    }
    // STARTTLS and EHLO change these during the connection.
    s.ctx.secure = session.secure;
    s.ctx.helo = session.hostNameAppearsAs ? String(session.hostNameAppearsAs) : "";
    return s;
  };
  const submission = opts.kind === "submission";
  const server = new MailplaneSmtpServer({
    name: opts.hostname,
    banner: "mailplane",
    key: opts.tls.key,
    cert: opts.tls.cert,
    size: opts.maxMessageBytes,
    rejectOversized: true,
    // RFC 4954 §4: PLAIN and LOGIN send the password in the clear, so only after STARTTLS.
    authMethods: [...AUTH_MECHANISMS],
    allowInsecureAuth: false,
    authOptional: !submission,
    authRequiredMessage: "5.7.0 Authentication required",
    disabledCommands: submission ? [] : ["AUTH"],
    disableReverseLookup: true,
    hideDSN: true,
    // RFC 8689: advertised (after STARTTLS only, §4); the relay honours it (delivery/relay.ts).
    hideREQUIRETLS: false,
    // RFC 2034: advertise ENHANCEDSTATUSCODES so every reply, the library's own too, carries one.
    // Unpatched, smtp-server would put its generic code before the phases' own ("550 5.1.1 5.7.1 …"):
    // then it is not advertised and only the phases' replies carry one.
    hideENHANCEDSTATUSCODES: !opts.smtpServer.patched,
    logger: false,
    socketTimeout: opts.socketTimeoutMs ?? 300_000,
    // On shutdown, clients still connected after 2 s get 421 (RFC 5321 §3.8) instead of 30 s of waiting.
    closeTimeout: 2_000,
    onConnect(session, callback) {
      // RFC 3207 §4.2 / RFC 4954 §4: before STARTTLS, AUTH is neither advertised nor accepted, so no
      // client is invited to send a password in the clear (smtp-server would advertise it).
      if (submission && !session.secure) session.disabledCommands = ["AUTH"];
      const s = state(session);
      const verdict = connect(opts.gate, session.remoteAddress);
      if (verdict.action !== "accept") return callback(refusalError(verdict));
      s.admitted = true;
      const clientName = opts.clientName?.(session.remoteAddress);
      if (clientName) s.ctx.clientName = clientName.catch(() => null);
      callback();
    },
    onSecure(_socket, session, callback) {
      if (submission) session.disabledCommands = [];
      callback();
    },
    onClose(session) {
      const s = conns.get(session);
      if (s?.admitted) opts.gate.release(session.remoteAddress);
    },
    onAuth(auth, session, callback) {
      const s = state(session);
      authenticate(
        { snapshot: opts.snapshot(), lockout: opts.lockout, credentials: opts.credentials, now: now() },
        s.ctx,
        { method: auth.method, username: auth.username ?? "", password: auth.password ?? "" },
      ).then(
        (verdict) => {
          if (verdict.action !== "accept") return callback(refusalError(verdict));
          s.ctx.user = verdict.value;
          callback(null, { user: verdict.value.address });
        },
        // Never echo the error: it could carry the attempted credentials.
        () =>
          callback(
            refusalError({
              action: "defer",
              code: 454,
              enhanced: "4.7.0",
              message: "Temporary authentication failure",
            }),
          ),
      );
    },
    onMailFrom(address: SMTPServerAddress, session, answer) {
      const callback = answerLater(answer);
      const s = state(session);
      s.tx = null;
      const verdict = mailFrom(opts.snapshot(), s.ctx, address.address);
      if (verdict.action !== "accept") return callback(refusalError(verdict));
      if (s.ctx.user && opts.senderRate) {
        const rate = senderRate(opts.senderRate, s.ctx.user.address);
        if (rate.action !== "accept") return callback(refusalError(rate));
      }
      const size = Number(
        address.args && typeof address.args === "object"
          ? (address.args as Record<string, unknown>).SIZE
          : NaN,
      );
      s.tx = newTransaction(verdict.value, Number.isFinite(size) ? size : null);
      // smtp-server answers REQUIRETLS without TLS (530) or with a value (501) itself.
      if (address.args && (address.args as Record<string, unknown>).REQUIRETLS === true)
        s.tx.requireTls = true;
      callback();
    },
    onRcptTo(address: SMTPServerAddress, session, answer) {
      const callback = answerLater(answer);
      const s = state(session);
      if (!s.tx)
        return callback(
          refusalError({ action: "reject", code: 503, enhanced: "5.5.1", message: "need MAIL command" }),
        );
      const snapshot = opts.snapshot();
      // smtp-server lets the domainless postmaster through its syntax check (RFC 5321 §4.1.1.3).
      const verdict =
        address.address.trim().toLowerCase() === "postmaster"
          ? rcptToPostmaster(snapshot, s.ctx, s.tx, opts.postmaster, opts.rcptLimits)
          : rcptTo(snapshot, s.ctx, s.tx, address.address, opts.rcptLimits);
      if (verdict.action !== "accept") {
        logRefusedRecipient(opts, snapshot, s.ctx, s.tx, address.address, verdict);
        return callback(refusalError(verdict));
      }
      const tx = s.tx;
      const admit = () => {
        // The session changes only after acceptance (STYLE §13).
        tx.groupKey ??= groupKeyOf(s.ctx, verdict.value);
        tx.recipients = tx.recipients.filter((r) => r.rcpt !== verdict.value.rcpt);
        tx.recipients.push(verdict.value);
        callback();
      };
      const routes = opts.callout ? calloutRoutes(snapshot, verdict.value) : undefined;
      if (!opts.callout || !routes) return admit();
      opts.callout.verify(verdict.value.domain!, routes, verdict.value.address).then(
        (checked) => {
          if (checked.outcome !== "rejected") return admit();
          const refusal = reject(
            550,
            "5.1.1",
            // The route's own words stay out: its host is the tenant's business, not the sender's.
            `<${verdict.value.rcpt}>: Recipient address rejected: user unknown (${checked.cached ? "cached " : ""}recipient callout)`,
            "unknown-recipient",
          );
          logRefusedRecipient(opts, snapshot, s.ctx, tx, address.address, refusal);
          callback(refusalError(refusal));
        },
        // Fail open: a callout that breaks must not refuse mail the routes may take.
        () => admit(),
      );
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const s = state(session);
      const tx = s.tx;
      s.tx = null;
      if (!tx || tx.recipients.length === 0) {
        stream.resume();
        return callback(
          refusalError({ action: "reject", code: 503, enhanced: "5.5.1", message: "need RCPT command" }),
        );
      }
      receiveMessage(opts.receive, s.ctx, tx, stream).then(
        (result) => {
          if (result.action === "accept") return callback(null, `2.0.0 Ok: queued as ${result.id}`);
          callback(refusalError(result));
        },
        () =>
          callback(
            refusalError({
              action: "defer",
              code: 451,
              enhanced: "4.3.0",
              message: "Temporary local problem, try again later",
            }),
          ),
      );
    },
  });
  server.decision = opts.smtpServer;
  server.greetingDelayMs = opts.greetingDelayMs;
  // Socket errors of single clients (resets, TLS failures) are theirs, not the server's.
  server.on("error", () => {});
  return server;
}

/**
 * SpamPanel logs connections once RCPT TO was given: policy refusals (blocked senders and
 * recipients) always, unknown recipients when the domain asks for it (`logInvalidRecipients`).
 */
function logRefusedRecipient(
  opts: ListenerOptions,
  snapshot: PolicySnapshot,
  ctx: ConnectionContext,
  tx: Transaction,
  rcpt: string,
  verdict: Refusal,
): void {
  opts.onRecipientRefused?.(verdict);
  const domain = snapshot.domains.get(splitMailbox(rcpt)?.domain ?? "");
  if (!domain) return;
  if (verdict.tag === "unknown-recipient" && !domain.logInvalidRecipients) return;
  if (verdict.action === "defer") return;
  opts.log.record(
    logEntry(ctx, {
      // A queue ID: unique per refusal, however many arrive pipelined in one millisecond.
      id: newQueueId(),
      sender: tx.mailFrom,
      classification: verdict.tag === "blocked" ? "blocked" : "rejected",
      action: "rejected",
      reply: replyLine(verdict),
    }),
    // The refused recipient's domain only: the refusal is its policy's, and its business.
    [{ owner: ownerOf(domain), recipients: [rcpt.toLowerCase()] }],
  );
}
