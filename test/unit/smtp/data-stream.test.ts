/** The DATA payload reader: byte for byte what smtp-server's own reader does, whatever the chunking, pipelining or smuggling attempt. */
import { once } from "node:events";
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";
import { describe, expect, it } from "vitest";
import { useFastDataReader } from "../../../platform/smtp/data-stream.ts";

/**
 * Feeds `input` in `chunks` sizes (repeated) through a parser and records every command and DATA
 * payload (text, byte count, size exceeded). Commands are answered after the current call stack, as
 * the engine's MAIL and RCPT hooks do (listener.ts `answerLater`), so every pipelined command is read.
 */
async function parse(input: Buffer, chunks: number[], fast: boolean, maxBytes = 64): Promise<string[]> {
  const parser = new SMTPStream();
  if (fast) useFastDataReader(parser);
  const events: string[] = [];
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
      });
    }
    if (next) queueMicrotask(next);
  };
  let at = 0;
  for (let i = 0; at < input.length; i++) {
    const size = chunks[i % chunks.length]!;
    if (!parser.write(input.subarray(at, at + size))) await once(parser, "drain");
    at += size;
  }
  parser.end();
  // "finish" comes once every chunk was handled, escapes continued (setImmediate) and what was
  // pipelined after the last payload was read. A parser that loses its place never finishes: the
  // session is then cut short and says so, instead of timing the whole test out.
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<"stalled">((resolve) => {
    timer = setTimeout(() => resolve("stalled"), 2_000);
  });
  if ((await Promise.race([once(parser, "finish"), stalled])) === "stalled") events.push("stalled");
  clearTimeout(timer);
  await new Promise((resolve) => setImmediate(resolve));
  return events;
}

/** Both readers on the same input and chunking; fails with the difference when they disagree. */
async function sameAsSmtpServer(input: Buffer, chunks: number[], maxBytes = 64): Promise<string[]> {
  const expected = await parse(input, chunks, false, maxBytes);
  const actual = await parse(input, chunks, true, maxBytes);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    expect({ input: input.toString("latin1"), chunks, actual }).toEqual({
      input: input.toString("latin1"),
      chunks,
      actual: expected,
    });
  }
  return actual;
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
 * The pieces payloads are made of: dots, CR, LF, and every line ending a lenient receiver might
 * take for the end of DATA (SMTP smuggling: bare LF or CR around a dot), plus command lines that
 * must stay content.
 */
const PIECES = [
  ".",
  ".",
  "\r",
  "\n",
  "\r\n",
  "\r\n.",
  "\r\n..",
  "\n.\n",
  "\r.\r",
  "\n.\r\n",
  "\r\n.\n",
  "\r\n.\r",
  "\n..\n",
  "a",
  "b",
  "MAIL FROM:<evil@example.net>\r\n",
  "DATA\r\n",
];

function pieces(next: () => number, length: number): string {
  let s = "";
  while (s.length < length) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

/** Dot-stuffs a payload as a client does (RFC 5321 §4.5.2): a line starting with "." gets another. */
const stuff = (payload: string) => payload.replace(/(^|\r\n)\./g, "$1..");

/** Random chunk sizes, often tiny so terminators and escapes straddle chunks. */
const chunking = (next: () => number) =>
  Array.from({ length: 5 }, () => 1 + Math.floor(next() * (next() < 0.3 ? 3 : 40)));

describe("useFastDataReader", () => {
  it("reads the same payloads, sizes and following commands as smtp-server in 3,000 random pipelined sessions", {
    timeout: 120_000,
  }, async () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      const count = 1 + Math.floor(next() * 4);
      let input = "";
      for (let t = 0; t < count; t++) {
        const body = stuff(pieces(next, Math.floor(next() * 120)));
        input += `MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n${body}\r\n.\r\n`;
      }
      input += "NOOP\r\nQUIT\r\n";
      const events = await sameAsSmtpServer(Buffer.from(input, "latin1"), chunking(next));
      // Every transaction ends at its own terminator: none more, none less, nothing smuggled out of a
      // payload into a command, and the commands pipelined after the last one are read.
      const commands = events.filter((e) => e.startsWith("command ")).map((e) => JSON.parse(e.slice(8)));
      expect({ seed, commands }).toEqual({
        seed,
        commands: [
          ...Array.from({ length: count }, () => ["MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA"]).flat(),
          "NOOP",
          "QUIT",
        ],
      });
    }
  });

  it("agrees with smtp-server on 3,000 random undisciplined sessions (no dot-stuffing, smuggled commands)", {
    timeout: 120_000,
  }, async () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(100_000 + seed);
      const body = pieces(next, Math.floor(next() * 160));
      const input = Buffer.from(`DATA\r\n${body}\r\n.\r\nNOOP\r\nQUIT\r\n`, "latin1");
      const events = await sameAsSmtpServer(input, chunking(next));
      expect({ seed, stalled: events.includes("stalled") }).toEqual({ seed, stalled: false });
    }
  });

  /**
   * Each sequence is sent inside a payload, followed by a smuggled transaction and then the real
   * end. RFC 5321 §4.1.1.4: the payload ends only at CRLF "." CRLF; §2.3.8: a bare CR or LF is no
   * line ending, so a dot between them is content. Dot-stuffing (§4.5.2) removes one leading dot.
   */
  const SMUGGLED = "MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nsmuggled\r\n";
  const cases: { name: string; payload: string; expected: string[] }[] = [
    ...["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r", "\r.\r\n", "\n.\r"].map((seq) => ({
      name: JSON.stringify(seq),
      payload: `hello${seq}${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`hello${seq}${SMUGGLED}`)}`, "QUIT"],
    })),
    {
      name: "a bare LF before the dot at the very start",
      payload: `\n.\n${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`\n.\n${SMUGGLED}`)}`, "QUIT"],
    },
    {
      name: '"." LF at the very start',
      payload: `.\n${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`.\n${SMUGGLED}`)}`, "QUIT"],
    },
    {
      name: 'a stuffed lone dot line ("..")',
      payload: `hello\r\n..\r\n${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`hello\r\n.\r\n${SMUGGLED}`)}`, "QUIT"],
    },
    {
      name: 'a stuffed lone dot as the first line (".." CRLF)',
      payload: `..\r\n${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`.\r\n${SMUGGLED}`)}`, "QUIT"],
    },
    {
      name: "a stuffed line of two dots",
      payload: `hello\r\n...\r\n${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`hello\r\n..\r\n${SMUGGLED}`)}`, "QUIT"],
    },
    {
      // smtp-server unstuffs after any LF (not only CRLF) past the first two payload bytes.
      name: "a doubled dot after a bare LF",
      payload: `hello\n..x\r\n${SMUGGLED}`,
      expected: [`data ${JSON.stringify(`hello\n.x\r\n${SMUGGLED}`)}`, "QUIT"],
    },
    {
      name: "the real terminator: what follows is the next transaction",
      payload: `hello\r\n.\r\n${SMUGGLED}`,
      expected: [
        'data "hello\\r\\n"',
        "MAIL FROM:<evil@example.net>",
        "RCPT TO:<victim@example.com>",
        "DATA",
        'data "smuggled\\r\\n"',
        "QUIT",
      ],
    },
    {
      name: "an empty message (the terminator right at the start)",
      payload: `.\r\n${SMUGGLED}`,
      expected: [
        'data ""',
        "MAIL FROM:<evil@example.net>",
        "RCPT TO:<victim@example.com>",
        "DATA",
        'data "smuggled\\r\\n"',
        "QUIT",
      ],
    },
  ];

  /** Commands as their text, payloads without the byte count: what a case's `expected` lists. */
  const outline = (events: string[]) =>
    events
      .slice(1)
      .map((e) => (e.startsWith("command ") ? JSON.parse(e.slice(8)) : e.replace(/ \d+ (true|false)$/, "")));

  it.each(cases)(
    "ends DATA where smtp-server does for $name, whichever bytes the chunks split",
    {
      timeout: 120_000,
    },
    async ({ payload, expected }) => {
      const input = Buffer.from(`DATA\r\n${payload}.\r\nQUIT\r\n`, "latin1");
      const splits: number[][] = [[input.length], [1], [2], [3], [4], [5]];
      // One cut anywhere, and two cuts anywhere around the sequence: every terminator and escape byte
      // lands at the end of a chunk, at the start of one, and alone in one.
      for (let a = 1; a < input.length; a++) splits.push([a, input.length]);
      const from = "DATA\r\n".length;
      const to = Math.min(input.length - 1, from + payload.indexOf("MAIL") + 4);
      for (let a = from - 1; a < to; a++) {
        for (let b = a + 1; b <= to; b++) splits.push([a, b - a, input.length]);
      }
      for (const chunks of splits) {
        const events = await sameAsSmtpServer(input, chunks, 1 << 20);
        expect({ chunks, events: outline(events) }).toEqual({ chunks, events: expected });
      }
    },
  );

  it("reads a large payload arriving in large chunks like smtp-server", async () => {
    const line = `${"x".repeat(70)}\r\n`;
    const big = `${line.repeat(1500)}..dot\r\n${line.repeat(10)}`;
    const input = Buffer.from(`DATA\r\n${big}\r\n.\r\nQUIT\r\n`, "latin1");
    for (const size of [65_536, 16_384, 1_000]) {
      const events = await sameAsSmtpServer(input, [size], 1 << 20);
      expect(events.at(-1)).toBe('command "QUIT"');
    }
  });
});
