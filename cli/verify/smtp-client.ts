/**
 * A minimal SMTP client (RFC 5321) for probes: one transaction per connection, the reply of every
 * stage kept. It exists beside nodemailer because most probes must stop after RCPT TO — the answer
 * is what is checked and nothing may be delivered — and nodemailer's client has no envelope-only send.
 */
import { connect, type Socket } from "node:net";

/** One SMTP reply; `text` without the code and without the RFC 3463 enhanced code. */
export interface SmtpReply {
  code: number;
  /** RFC 3463 enhanced status code (`5.7.1`), when the server sent one. */
  enhanced: string | null;
  text: string;
  /** The reply as received, continuation lines joined with a space. */
  line: string;
}

/** Where a transaction ended. */
export type SmtpStage = "connect" | "ehlo" | "mail" | "rcpt" | "data" | "done";

/** What happened to one transaction. */
export interface TransactionResult {
  /** The stage whose reply decided: the refusing command's, or `done` when everything was accepted. */
  stage: SmtpStage;
  /** The deciding reply: the refusal, else RCPT TO's (envelope only) or the end of data's (a message). */
  reply: SmtpReply | null;
  /** Replies of MAIL FROM, RCPT TO and the end of data, as far as the transaction got. */
  replies: Partial<Record<"mail" | "rcpt" | "data", SmtpReply>>;
  /** A network failure or time-out (the transaction's outcome is then unknown). */
  error?: string;
  /** The queue ID from a `250 … queued as <id>` reply. */
  queueId?: string;
}

/** Options of {@link smtpTransaction}. Times in milliseconds. */
export interface TransactionOptions {
  host: string;
  port: number;
  /** Our name in EHLO. */
  helo: string;
  from: string;
  to: string;
  /** The message (RFC 5322 text); without it the transaction stops after RCPT TO with RSET. */
  message?: string;
  /** Per reply; default 30,000. */
  timeoutMs?: number;
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) /;

/** Parses a reply's lines (`250-…` continuations, then `250 …`). */
export function parseReply(lines: readonly string[]): SmtpReply {
  const code = Number(lines[0]!.slice(0, 3));
  const texts = lines.map((l) => l.slice(4));
  const enhanced = ENHANCED.exec(texts[0] ?? "")?.[1] ?? null;
  if (enhanced) texts[0] = texts[0]!.slice(enhanced.length + 1);
  return { code, enhanced, text: texts.join(" ").trim(), line: lines.join(" ") };
}

/** Reads replies from a socket, one at a time. */
class ReplyReader {
  #buffer = "";
  #lines: string[] = [];
  #ready: SmtpReply[] = [];
  #failure: Error | null = null;
  #waiter: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | null = null;

  constructor(socket: Socket, timeoutMs: number) {
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => {
      this.#fail(new Error(`no answer within ${timeoutMs} ms`));
      socket.destroy();
    });
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        this.#lines.push(line);
        // RFC 5321 §4.2.1: `ddd-` continues the reply, `ddd ` (or a bare code) ends it.
        if (!/^\d{3}-/.test(line)) {
          this.#ready.push(parseReply(this.#lines));
          this.#lines = [];
        }
      }
      this.#wake();
    });
    socket.on("error", (err) => this.#fail(err));
    socket.on("close", () => this.#fail(new Error("the server closed the connection")));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    const reply = this.#ready.shift();
    if (reply) {
      this.#waiter = null;
      waiter.resolve(reply);
    } else if (this.#failure) {
      this.#waiter = null;
      waiter.reject(this.#failure);
    }
  }

  next(): Promise<SmtpReply> {
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#wake();
    });
  }
}

/** CRLF line ends and RFC 5321 §4.5.2 dot-stuffing, then the end-of-data line. */
export function dataBlock(message: string): string {
  const lines = message.replace(/\r?\n/g, "\n").replace(/\n$/, "").split("\n");
  return `${lines.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n")}\r\n.\r\n`;
}

/**
 * Runs one transaction: greeting, EHLO (HELO if refused), MAIL FROM, RCPT TO, then either RSET (no
 * message: nothing is delivered) or DATA with the message; QUIT. Never throws: network failures come
 * back as `error`.
 * @example const r = await smtpTransaction({ host: "127.0.0.1", port: 2525, helo: "probe.invalid", from: "a@b.invalid", to: "joe@example.com" });
 */
export async function smtpTransaction(opts: TransactionOptions): Promise<TransactionResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const replies: TransactionResult["replies"] = {};
  let socket: Socket | undefined;
  let reader: ReplyReader | undefined;
  let stage: SmtpStage = "connect";
  try {
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`could not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const r = new ReplyReader(socket, timeoutMs);
    reader = r;
    const s = socket;
    const command = (line: string) => {
      s.write(`${line}\r\n`);
      return r.next();
    };
    const refused = (at: SmtpStage, reply: SmtpReply): TransactionResult => ({ stage: at, reply, replies });

    const greeting = await r.next();
    if (greeting.code !== 220) return refused("connect", greeting);
    stage = "ehlo";
    let hello = await command(`EHLO ${opts.helo}`);
    if (hello.code >= 500) hello = await command(`HELO ${opts.helo}`);
    if (hello.code !== 250) return refused("ehlo", hello);
    stage = "mail";
    replies.mail = await command(`MAIL FROM:<${opts.from}>`);
    if (replies.mail.code >= 300) return refused("mail", replies.mail);
    stage = "rcpt";
    replies.rcpt = await command(`RCPT TO:<${opts.to}>`);
    if (replies.rcpt.code >= 300) return refused("rcpt", replies.rcpt);
    if (opts.message === undefined) {
      // RFC 5321 §4.1.1.5: RSET abandons the transaction; nothing was accepted for delivery.
      await command("RSET");
      return { stage: "done", reply: replies.rcpt, replies };
    }
    stage = "data";
    const go = await command("DATA");
    if (go.code !== 354) return refused("data", go);
    s.write(dataBlock(opts.message));
    replies.data = await r.next();
    const queueId = /queued as (\S+)/i.exec(replies.data.text)?.[1];
    if (replies.data.code >= 300) return refused("data", replies.data);
    return { stage: "done", reply: replies.data, replies, ...(queueId ? { queueId } : {}) };
  } catch (err) {
    return { stage, reply: null, replies, error: (err as Error).message };
  } finally {
    if (socket && reader && !socket.destroyed) {
      // A polite QUIT (RFC 5321 §4.1.1.10); its answer does not matter, a closed socket is fine.
      socket.write("QUIT\r\n");
      await reader.next().catch(() => undefined);
    }
    socket?.destroy();
  }
}
