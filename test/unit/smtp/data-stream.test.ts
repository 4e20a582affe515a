/** The DATA payload reader: byte for byte what smtp-server's own reader does, whatever the chunking. */
import { once } from "node:events";
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";
import { describe, expect, it } from "vitest";
import { useFastDataReader } from "../../../platform/smtp/data-stream.ts";

/** Feeds `input` in `chunks` sizes through a parser and records commands and DATA payloads. */
async function parse(
  input: Buffer,
  chunks: number[],
  fast: boolean,
  maxBytes = 64,
  payloads = 1,
): Promise<string[]> {
  const parser = new SMTPStream();
  if (fast) useFastDataReader(parser);
  const events: string[] = [];
  // The session is over at "finish", or once the last payload was read: when the input ends in
  // a pipelined command, smtp-server's parser may never finish, with either reader.
  let lastPayloadRead = () => {};
  const allPayloadsRead = new Promise<void>((resolve) => {
    lastPayloadRead = resolve;
  });
  parser.oncommand = (command: Buffer, next?: () => void) => {
    const line = command.toString("latin1");
    events.push(`command ${JSON.stringify(line)}`);
    if (line === "DATA") {
      const data = parser.startDataMode(maxBytes);
      const parts: Buffer[] = [];
      data.on("data", (c: Buffer) => parts.push(c));
      data.on("end", () => {
        const payload = Buffer.concat(parts).toString("latin1");
        events.push(`data ${JSON.stringify(payload)} ${parser.dataBytes} ${data.sizeExceeded}`);
        parser.continue();
        if (events.filter((event) => event.startsWith("data ")).length === payloads) lastPayloadRead();
      });
    }
    next?.();
  };
  let at = 0;
  for (let i = 0; at < input.length; i++) {
    const size = chunks[i % chunks.length]!;
    if (!parser.write(input.subarray(at, at + size))) await once(parser, "drain");
    at += size;
  }
  parser.end();
  // Only after every chunk was handled, escapes continued (setImmediate) and the payloads read,
  // and what was pipelined after the last one had its turn.
  await Promise.race([once(parser, "finish"), allPayloadsRead]);
  await new Promise((resolve) => setImmediate(resolve));
  return events;
}

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Payload bytes drawn mostly from the characters that matter here: dots, CR, LF — dot-stuffed as
 * a client sends them (RFC 5321 §4.5.2), so every session ends at its own terminator and QUIT.
 */
function payload(next: () => number, length: number): string {
  const alphabet = [".", ".", "\r", "\n", "\r\n", "\r\n.", "\r\n..", "a", "b"];
  let s = "";
  while (s.length < length) s += alphabet[Math.floor(next() * alphabet.length)];
  return s.replace(/(^|\r\n)\./g, "$1..");
}

describe("useFastDataReader", () => {
  it("reads the same payloads, sizes and following commands as smtp-server in 3,000 random sessions", {
    timeout: 60_000,
  }, async () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      const body = payload(next, Math.floor(next() * 120));
      const second = payload(next, Math.floor(next() * 40));
      const input = Buffer.from(
        `MAIL FROM:<a@b>\r\nDATA\r\n${body}\r\n.\r\nDATA\r\n${second}\r\n.\r\nQUIT\r\n`,
        "latin1",
      );
      const chunks = Array.from({ length: 5 }, () => 1 + Math.floor(next() * (next() < 0.3 ? 3 : 40)));
      const expected = await parse(input, chunks, false, 64, 2);
      const actual = await parse(input, chunks, true, 64, 2);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        expect({ seed, chunks, actual }).toEqual({ seed, chunks, actual: expected });
      }
    }
  });

  it("ends the message only at CRLF . CRLF, keeps a bare-LF dot line, and unstuffs a leading dot", async () => {
    const input = Buffer.from("DATA\r\nline\n.\nstill data\r\n..leading dot\r\n.\r\nNOOP\r\n", "latin1");
    for (const size of [1, 2, 3, 4, 5, 7, 64]) {
      expect(await parse(input, [size], false)).toEqual(await parse(input, [size], true));
      expect(await parse(input, [size], true)).toEqual([
        'command "DATA"',
        'data "line\\n.\\nstill data\\r\\n.leading dot\\r\\n" 33 false',
        'command "NOOP"',
      ]);
    }
  });

  it("reads a large payload arriving in large chunks like smtp-server", async () => {
    const line = `${"x".repeat(70)}\r\n`;
    const big = `${line.repeat(1500)}..dot\r\n${line.repeat(10)}`;
    const input = Buffer.from(`DATA\r\n${big}\r\n.\r\nQUIT\r\n`, "latin1");
    for (const size of [65_536, 16_384, 1_000]) {
      expect(await parse(input, [size], true, 1 << 20)).toEqual(await parse(input, [size], false, 1 << 20));
    }
  });
});
