/** HTTP/1.1 over a bare TCP socket, for requests no client library would send (bad methods, huge request lines). */
import { connect } from "node:net";

/** What came back on the socket: the status line's code, the headers (lower-case names) and the body. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything received, for asserting what must never be echoed. */
  raw: string;
}

/**
 * Writes `request` as is to `url`'s host and port and reads until the server closes the connection
 * (every error answer for an unparsable request carries `Connection: close`; send that header with a
 * parsable one).
 *
 * @example await rawHttp(cp.url, "FOO / HTTP/1.1\r\nHost: x\r\n\r\n") // { status: 501, … }
 */
export function rawHttp(url: string, request: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const split = raw.indexOf("\r\n\r\n");
      const head = split === -1 ? raw : raw.slice(0, split);
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers,
        body: split === -1 ? "" : raw.slice(split + 4),
        raw,
      });
    });
  });
}
