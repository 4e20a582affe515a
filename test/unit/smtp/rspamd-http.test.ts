/** The rspamd check request on its own connection: the bytes on the wire, answers by length, chunks or close, and its refusals. */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  parseAnswer,
  RSPAMD_MAX_ANSWER_BYTES,
  rspamdPost,
} from "../../../platform/smtp/content/rspamd-http.ts";

/** A TCP server on loopback that records what it was sent and answers with `reply(request, socket)`. */
async function server(reply: (request: string, socket: Socket) => void) {
  const seen: string[] = [];
  const connections = { count: 0 };
  const srv: Server = createServer((socket) => {
    connections.count++;
    let data = "";
    socket.on("data", (c: Buffer) => {
      data += c.toString("latin1");
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? 0);
      if (data.length < end + 4 + length) return;
      seen.push(data);
      reply(data, socket);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  servers.push(srv);
  return { url: new URL(`http://127.0.0.1:${port}`), seen, connections };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const ok = (body: string) =>
  `HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("rspamdPost", () => {
  it("sends the headers (one Rcpt line each), the body chunks in order and asks to close; reads the answer", async () => {
    const s = await server((_req, socket) => socket.end(ok('{"score":1}')));
    const answer = await rspamdPost(
      s.url,
      "/checkv2",
      { IP: "192.0.2.1", Rcpt: ["a@example.com", "b@example.com"], "Settings-ID": "mailplane-verified" },
      [Buffer.from("Subject: x\r\n\r\n"), Buffer.from("body\r\n")],
      5000,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('{"score":1}');
    const req = s.seen[0]!;
    expect(req.startsWith("POST /checkv2 HTTP/1.1\r\n")).toBe(true);
    expect(req).toContain("\r\nConnection: close\r\n");
    expect(req).toContain("\r\nContent-Length: 20\r\n");
    expect(req).toContain("\r\nRcpt: a@example.com\r\nRcpt: b@example.com\r\n");
    expect(req).toContain("\r\nSettings-ID: mailplane-verified\r\n");
    expect(req.endsWith("\r\n\r\nSubject: x\r\n\r\nbody\r\n")).toBe(true);
  });

  it("refuses a header value with a line break before connecting (no header can be smuggled in)", async () => {
    const s = await server((_req, socket) => socket.end(ok("{}")));
    await expect(
      rspamdPost(s.url, "/checkv2", { Helo: "mx.example\r\nPass: all" }, [Buffer.from("x")], 5000),
    ).rejects.toThrow(/Helo holds a line break/);
    expect(s.connections.count).toBe(0);
  });

  it("gives up on an answer larger than RSPAMD_MAX_ANSWER_BYTES", async () => {
    const big = "x".repeat(RSPAMD_MAX_ANSWER_BYTES + 1);
    const s = await server((_req, socket) => socket.end(ok(big)));
    await expect(rspamdPost(s.url, "/checkv2", {}, [Buffer.from("x")], 5000)).rejects.toThrow(/answer past/);
  });

  it("gives up when no answer comes within the timeout", async () => {
    const s = await server(() => {});
    await expect(rspamdPost(s.url, "/checkv2", {}, [Buffer.from("x")], 200)).rejects.toThrow(
      /no answer within 200 ms/,
    );
  });
});

describe("parseAnswer", () => {
  it("reads a body by Content-Length, by chunks, or to the end", () => {
    expect(parseAnswer(Buffer.from(ok("{}"))).body.toString()).toBe("{}");
    const chunked =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4;x=1\r\n":1}\r\n0\r\n\r\n';
    expect(parseAnswer(Buffer.from(chunked)).body.toString()).toBe('{"a":1}');
    expect(parseAnswer(Buffer.from("HTTP/1.0 500 Oops\r\n\r\nfailed")).status).toBe(500);
  });

  it("refuses what is not a whole HTTP/1.x answer", () => {
    expect(() => parseAnswer(Buffer.from("SSH-2.0-x\r\n\r\n"))).toThrow(/not an HTTP\/1.x answer/);
    expect(() => parseAnswer(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))).toThrow(
      /shorter than its Content-Length/,
    );
    expect(() =>
      parseAnswer(Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")),
    ).toThrow(/cut short/);
    expect(() => parseAnswer(Buffer.from("HTTP/1.1 200 OK\r\n"))).toThrow(/complete header/);
  });
});
