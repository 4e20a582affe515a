/** One HTTP/1.1 POST to rspamd's normal worker on its own connection: the check request without a general HTTP client's per-request cost. */
import { connect } from "node:net";

/** The status and body of an answer. */
export interface RspamdHttpAnswer {
  status: number;
  body: Buffer;
}

/** The largest answer read, 8 MiB (rspamd's JSON for a message with thousands of URLs stays far below). */
export const RSPAMD_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** A header value as sent: refused when it could end the header line (RFC 9110 §5.5: no CR, LF or NUL). */
function headerValue(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`rspamd request header ${name} holds a line break or NUL`);
  return value;
}

/**
 * Posts `body` to `path` of the plain-HTTP server at `url` (host and port of an `http:` URL; or
 * its Unix socket `socketPath`, with `url` naming only the Host header) with
 * `headers` (an array value: one header line each, as rspamd reads `Rcpt`), and resolves with the
 * status and body. rspamd's normal worker answers every request with `Connection: close` (it has
 * no keep-alive), so a pool gains nothing: each request opens its own connection, asks for its
 * closing too, and reads the answer to the end — no parser state survives a request.
 *
 * @example
 * const a = await rspamdPost(new URL("http://127.0.0.1:11333"), "/checkv2", { IP: "192.0.2.1" }, [raw], 15_000);
 * a.status // 200
 * @throws Error for a header value with CR/LF/NUL, a connection error, a timeout (no byte for
 *   `timeoutMs`), an answer past {@link RSPAMD_MAX_ANSWER_BYTES} or one that is not HTTP/1.x
 */
export function rspamdPost(
  url: URL,
  path: string,
  headers: Record<string, string | string[]>,
  body: Buffer[],
  timeoutMs: number,
  socketPath?: string,
): Promise<RspamdHttpAnswer> {
  return new Promise((resolve, reject) => {
    // Built inside the executor: a refused header value rejects before any connection is made.
    let length = 0;
    for (const chunk of body) length += chunk.length;
    let head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\nContent-Length: ${length}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${headerValue(name, v)}\r\n`;
    }
    head += "\r\n";
    const socket = socketPath
      ? connect({ path: socketPath })
      : connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 80) });
    const received: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > RSPAMD_MAX_ANSWER_BYTES)
        return fail(new Error(`answer past ${RSPAMD_MAX_ANSWER_BYTES} bytes`));
      received.push(chunk);
    });
    socket.once("end", () => {
      if (settled) return;
      try {
        const answer = parseAnswer(Buffer.concat(received, size));
        settled = true;
        socket.destroy();
        resolve(answer);
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.cork();
    socket.write(head, "utf8");
    for (const chunk of body) socket.write(chunk);
    socket.uncork();
  });
}

/**
 * Parses a whole HTTP/1.x answer (RFC 9112 §4, §6): status line, headers, then a body by
 * Content-Length, chunks, or to the end.
 * @example parseAnswer(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")).status // 200
 * @throws Error for an incomplete header, a status line that is not HTTP/1.x, or a body cut short
 */
export function parseAnswer(raw: Buffer): RspamdHttpAnswer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error("answer without a complete header");
  const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!status) throw new Error(`not an HTTP/1.x answer: ${JSON.stringify((lines[0] ?? "").slice(0, 40))}`);
  let contentLength: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") contentLength = Number(value);
    else if (name === "transfer-encoding") chunked = /chunked/i.test(value);
  }
  const rest = raw.subarray(end + 4);
  if (chunked) return { status: Number(status[1]), body: dechunk(rest) };
  if (contentLength !== undefined) {
    if (!Number.isSafeInteger(contentLength) || contentLength < 0 || contentLength > rest.length) {
      throw new Error(`answer shorter than its Content-Length (${rest.length} of ${contentLength} bytes)`);
    }
    return { status: Number(status[1]), body: rest.subarray(0, contentLength) };
  }
  return { status: Number(status[1]), body: rest };
}

/** The body of a chunked answer (RFC 9112 §7.1), extensions and trailers ignored. */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) throw new Error("chunked answer cut short");
    const size = Number.parseInt(raw.subarray(at, eol).toString("latin1").split(";")[0]!.trim(), 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error("chunked answer with a bad chunk size");
    if (size === 0) return Buffer.concat(parts);
    if (eol + 2 + size > raw.length) throw new Error("chunked answer cut short");
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
