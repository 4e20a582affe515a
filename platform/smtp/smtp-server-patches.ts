/** The engine's changes to smtp-server's private members, made only on a release they were tested with; stock behaviour otherwise. */
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { useFastDataReader } from "./data-stream.ts";

/**
 * smtp-server releases whose private members the patches below were written and tested against
 * (test/unit/smtp/data-stream.test.ts, test/integration/smtp/pipelining.test.ts). Any other
 * release, newer ones included, runs stock: a private member may keep its name and change its
 * meaning (an upstream fix in its DATA reader would be silently replaced by ours).
 */
export const TESTED_SMTP_SERVER_VERSIONS: readonly string[] = ["3.21.6"];

/** What the version check looks at: the installed release and the private parts the patches use. */
export interface SmtpServerFacts {
  /** `version` of smtp-server's package.json. */
  version: string;
  /** `SMTPConnection` of `smtp-server/lib/smtp-connection.js`; null when it could not be loaded. */
  connectionClass: (abstract new (...args: never[]) => object) | null;
  /** A fresh `SMTPStream` of `smtp-server/lib/smtp-stream.js` (the command and DATA parser); null when it could not be loaded. */
  parser: object | null;
}

/** The outcome of {@link checkSmtpServer}: patch, or run the library as it ships and say why. */
export type PatchDecision =
  | { patched: true; version: string; connectionClass: new (...args: any[]) => any }
  | { patched: false; version: string; reason: string };

/** Private members used, by owner; each must exist with this type (see {@link MailplaneSmtpServer}). */
const REQUIRED = {
  // connect(): the library's own connect() with init() replaced (greeting delay).
  "SMTPServer.prototype": ["connect", "_onError", "_onClientConnect"],
  // init()'s body without its timer: _setListeners(ready) then connectionReady(); send() for corking.
  "SMTPConnection.prototype": ["init", "_setListeners", "connectionReady", "send"],
  // The fast DATA reader (data-stream.ts) works on the parser's data-mode state.
  "SMTPStream methods": ["_feedDataStream", "_endDataMode", "_countDataBytes", "startDataMode", "continue"],
} as const;
const PARSER_FIELDS = ["_lastBytes", "_atDataStart", "_dataStream", "_dataMode"] as const;

/**
 * Reads the installed smtp-server's version and loads the modules the patches reach into. A module
 * that is gone (a reorganised release) shows as null, which the check turns into stock behaviour.
 *
 * @example const decision = checkSmtpServer(await installedSmtpServer());
 */
export async function installedSmtpServer(): Promise<SmtpServerFacts> {
  let version = "unknown";
  try {
    version = String(createRequire(import.meta.url)("smtp-server/package.json").version);
  } catch {
    // An unreadable package.json is an unknown release: stock behaviour.
  }
  const load = async <T>(get: () => Promise<T>): Promise<T | null> => {
    try {
      return await get();
    } catch {
      return null;
    }
  };
  const connectionClass = await load(
    async () => (await import("smtp-server/lib/smtp-connection.js")).SMTPConnection,
  );
  const parser = await load(async () => new (await import("smtp-server/lib/smtp-stream.js")).SMTPStream());
  return { version, connectionClass: connectionClass ?? null, parser: parser ?? null };
}

/**
 * Decides whether the engine may patch smtp-server: only a release listed in
 * {@link TESTED_SMTP_SERVER_VERSIONS} whose private members are all present with the expected
 * types. Otherwise the reason names the release or the first missing member.
 *
 * @example
 * checkSmtpServer({ ...facts, version: "3.22.0" })
 * // { patched: false, version: "3.22.0", reason: "smtp-server 3.22.0 is not a tested release (tested: 3.21.6)" }
 */
export function checkSmtpServer(facts: SmtpServerFacts): PatchDecision {
  const { version } = facts;
  const refuse = (why: string): PatchDecision => ({ patched: false, version, reason: why });
  if (!TESTED_SMTP_SERVER_VERSIONS.includes(version)) {
    return refuse(
      `smtp-server ${version} is not a tested release (tested: ${TESTED_SMTP_SERVER_VERSIONS.join(", ")})`,
    );
  }
  const connection = facts.connectionClass?.prototype as Record<string, unknown> | undefined;
  const parser = facts.parser as Record<string, unknown> | null;
  if (!connection) return refuse("smtp-server/lib/smtp-connection.js did not load");
  if (!parser) return refuse("smtp-server/lib/smtp-stream.js did not load");
  const owners: Record<keyof typeof REQUIRED, Record<string, unknown>> = {
    "SMTPServer.prototype": SMTPServer.prototype as unknown as Record<string, unknown>,
    "SMTPConnection.prototype": connection,
    "SMTPStream methods": parser,
  };
  for (const [owner, members] of Object.entries(REQUIRED) as [keyof typeof REQUIRED, readonly string[]][]) {
    for (const member of members) {
      if (typeof owners[owner][member] !== "function") return refuse(`${owner}.${member} is not a function`);
    }
  }
  for (const field of PARSER_FIELDS) {
    if (!(field in parser)) return refuse(`SMTPStream has no ${field}`);
  }
  return { patched: true, version, connectionClass: facts.connectionClass as never };
}

/** The text of the warning an engine logs when it runs smtp-server unpatched. */
export function fallbackWarning(decision: PatchDecision & { patched: false }): string {
  return `${decision.reason}: the SMTP engine runs it unpatched (stock DATA reader, stock 100 ms greeting delay, no ENHANCEDSTATUSCODES on the library's own replies)`;
}

/** A reply text that starts with its own RFC 3463 code, as every refusal of the phases does. */
const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * smtp-server, patched where connections are created when {@link checkSmtpServer} allows it:
 * - the greeting is sent after `greetingDelayMs` instead of the library's fixed 100 ms, which caps
 *   a client that opens one connection per message at 10 messages/s per session;
 * - DATA payloads are read by {@link useFastDataReader} (the same bytes, less CPU per message);
 * - replies whose text already starts with an RFC 3463 code keep it, instead of getting the
 *   library's generic code per reply class in front of ours (smtp-server sends a hook error's text
 *   with no context, so with ENHANCEDSTATUSCODES on, "5.7.1 Relay access denied" would go out
 *   as "550 5.1.1 5.7.1 Relay access denied");
 * - replies to pipelined commands (RFC 2920) leave in one write per tick.
 * Unpatched (`decision.patched` false), it is smtp-server as shipped; the listener then hides
 * ENHANCEDSTATUSCODES so the phases' own codes are the only ones on a line (see listener.ts).
 *
 * @example
 * const server = new MailplaneSmtpServer(options);
 * server.decision = checkSmtpServer(await installedSmtpServer());
 */
export class MailplaneSmtpServer extends SMTPServer {
  /** Set before listening; default unpatched (smtp-server as shipped). */
  decision: PatchDecision = { patched: false, version: "unknown", reason: "no patch decision was made" };
  /** Wait before the 220 greeting when patched, in ms; default 0. */
  greetingDelayMs = 0;

  override connect(socket: Socket | TLSSocket, socketOptions?: unknown): void {
    if (!this.decision.patched) {
      super.connect(socket, socketOptions as never);
      return;
    }
    // SMTPServer.connect() of the tested release, with init() replaced below.
    const connection = new this.decision.connectionClass(this, socket, socketOptions) as Record<string, any>;
    this.connections.add(connection as never);
    if (connection._parser) useFastDataReader(connection._parser);
    connection.on("error", (err: Error) => this._onError(err));
    connection.on("connect", (data: Parameters<SMTPServer["_onClientConnect"]>[0]) =>
      this._onClientConnect(data),
    );
    const send = connection.send.bind(connection);
    let corked: Socket | null = null;
    connection.send = (code: number, data?: unknown, context?: unknown) => {
      // The socket stays corked until the end of the tick, so the replies to a pipelined group go
      // out in one write. Not around the TLS switch and closing replies, which must go out alone.
      const socket = connection._socket as Socket | undefined;
      if (!corked && socket && !socket.destroyed && code !== 220 && code !== 221 && code !== 421) {
        corked = socket;
        socket.cork();
        process.nextTick(() => {
          corked?.uncork();
          corked = null;
        });
      }
      return typeof data === "string" && ENHANCED_PREFIX.test(data) && data[0] === String(code)[0]
        ? send(code, data, false)
        : send(code, data, context);
    };
    const delay = this.greetingDelayMs;
    // The body of SMTPConnection.init() without its hard-coded 100 ms timer.
    connection._setListeners(() => {
      const max = (this.options as SMTPServerOptions).maxClients;
      if (max && this.connections.size > max) {
        return connection.send(
          421,
          `${connection.name} Too many connected clients, try again in a moment`,
          false,
        );
      }
      if (delay > 0) setTimeout(() => connection.connectionReady(), delay).unref();
      else connection.connectionReady();
    });
  }
}
