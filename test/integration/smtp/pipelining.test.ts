/** RFC 2920 pipelining over real sockets: whole transaction groups in one write, the engine beside stock smtp-server. */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  checkSmtpServer,
  installedSmtpServer,
  MailplaneSmtpServer,
} from "../../../platform/smtp/smtp-server-patches.ts";
import { startTestEngine, type TestEngine } from "./support/harness.ts";

const TENANCY = {
  revision: 1,
  accounts: [
    {
      id: "acme",
      domains: [{ name: "example.com", logInvalidRecipients: true }],
      users: [{ address: "alice@example.com" }],
      senderLists: [
        {
          domain: "example.com",
          kind: "block" as const,
          target: "recipient" as const,
          entries: ["closed@example.com"],
        },
      ],
    },
  ],
};

/**
 * `count` transactions to alice, then NOOP and QUIT. The messages have no dot-stuffed line: an
 * escape dot makes the DATA reader yield, which would hide a parser that loses its place when the
 * next transaction is read in the same call stack.
 */
function transactions(count: number): string {
  let s = "";
  for (let i = 0; i < count; i++) {
    s += "MAIL FROM:<sender@client.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n";
    s += `From: sender@client.example\r\nTo: alice@example.com\r\nSubject: pipelined ${i}\r\n\r\nbody ${i}\r\n.\r\n`;
  }
  return `${s}NOOP\r\nQUIT\r\n`;
}

/** The final line of every reply (multi-line replies count once), in order. */
const finalLines = (text: string) => text.split("\r\n").filter((l) => /^\d{3} /.test(l));

/**
 * Opens a connection, waits for the greeting, sends EHLO and then `commands` in ONE write, and
 * collects replies until the server closes the connection after QUIT. A server whose parser loses
 * its place never answers QUIT: after 10 s without a byte the session is cut, so the test fails on
 * the reply counts (which show where it stopped) instead of timing out.
 */
async function pipelined(port: number, commands: string): Promise<string[]> {
  // The greeting and the EHLO reply come before what was pipelined.
  return finalLines(await session(port, commands)).slice(2);
}

/** {@link pipelined}'s session: everything the server sent, as text. */
async function session(port: number, commands: string): Promise<string> {
  const socket = new Socket();
  socket.connect(port, "127.0.0.1");
  await once(socket, "connect");
  let text = "";
  let stall: NodeJS.Timeout | undefined;
  const quiet = () => {
    clearTimeout(stall);
    stall = setTimeout(() => socket.destroy(), 10_000);
  };
  const closed = once(socket, "close");
  socket.on("error", () => {});
  socket.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
    quiet();
  });
  quiet();
  while (!/^220 /m.test(text)) await once(socket, "data");
  socket.write(`EHLO client.example\r\n${commands}`);
  await closed;
  clearTimeout(stall);
  return text;
}

/** smtp-server as shipped, with default MAIL/RCPT hooks, accepting every message. */
async function startStockServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      stream.on("end", () => callback());
      stream.resume();
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** How many replies of each kind: what stock smtp-server and the engine are compared on. */
function tally(lines: string[]) {
  const counts: Record<string, number> = {};
  for (const l of lines) counts[l.slice(0, 3)] = (counts[l.slice(0, 3)] ?? 0) + 1;
  return { replies: lines.length, counts, last: lines.slice(-2).map((l) => l.slice(0, 3)) };
}

describe.each([
  { mode: "patched (the tested smtp-server release)", release: null },
  { mode: "unpatched (another smtp-server release: stock behaviour)", release: "3.999.0" },
])("inbound listener, $mode, with 1,000 pipelined transactions in one write", ({ release }) => {
  let t: TestEngine;
  let stock: Awaited<ReturnType<typeof startStockServer>>;
  const warnings: string[] = [];
  beforeAll(async () => {
    const facts = await installedSmtpServer();
    t = await startTestEngine(TENANCY, {
      burstHoldMs: 0,
      smtpServer: release ? { ...facts, version: release } : facts,
      onWarning: (message) => warnings.push(message),
    });
    stock = await startStockServer();
  });
  afterAll(async () => {
    await stock?.close();
    await t?.close();
  });

  it("uses smtp-server patched only on the tested release, and warns when it is not", () => {
    expect(t.engine.smtpServer.patched).toBe(release === null);
    expect(warnings).toEqual(
      release ? [expect.stringContaining(`smtp-server ${release} is not a tested release`)] : [],
    );
  });

  it("refuses a blocked recipient with one enhanced status code, and advertises them only when patched", async () => {
    const text = await session(
      t.engine.inboundPort,
      "MAIL FROM:<sender@client.example>\r\nRCPT TO:<closed@example.com>\r\nQUIT\r\n",
    );
    // RFC 2034: unpatched, smtp-server would put its generic code before the phases' own.
    expect(text.includes("250-ENHANCEDSTATUSCODES")).toBe(release === null);
    expect(finalLines(text)[3]).toMatch(/^550 5\.7\.1 [^\d]/);
  });

  it("answers three transactions and NOOP sent in one write (each MAIL, RCPT, DATA and message)", async () => {
    const lines = await pipelined(t.engine.inboundPort, transactions(3));
    expect(lines.map((l) => l.slice(0, 3))).toEqual([
      ...Array.from({ length: 3 }, () => ["250", "250", "354", "250"]).flat(),
      "250",
      "221",
    ]);
  });

  it("answers every one of 1,000 pipelined transactions, as many replies as stock smtp-server", {
    timeout: 120_000,
  }, async () => {
    const commands = transactions(1000);
    const expected = tally(await pipelined(stock.port, commands));
    const actual = tally(await pipelined(t.engine.inboundPort, commands));
    // EHLO aside: MAIL, RCPT, DATA, the message, per transaction, then NOOP and QUIT.
    expect(expected).toEqual({
      replies: 4002,
      counts: { "250": 3001, "354": 1000, "221": 1 },
      last: ["250", "221"],
    });
    expect(actual).toEqual(expected);
  });
});

describe("message log of recipients refused in a pipelined group", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(TENANCY);
  });
  afterAll(() => t.close());

  it("records each of 200 refused RCPTs of one transaction under its own ID", async () => {
    let commands = "MAIL FROM:<sender@client.example>\r\n";
    for (let i = 0; i < 100; i++) {
      commands += "RCPT TO:<closed@example.com>\r\n"; // blocked: 550 5.7.1
      commands += `RCPT TO:<nobody${i}@example.com>\r\n`; // unknown: 550 5.1.1, logged as asked
    }
    // Every entry handed to the log: entries are keyed by ID, so a repeated ID replaces an entry.
    const record = vi.spyOn(t.engine.log, "record");
    const lines = await pipelined(t.engine.inboundPort, `${commands}QUIT\r\n`);
    expect(lines.filter((l) => l.startsWith("550 ")).length).toBe(200);
    const entries = record.mock.calls.map(([entry]) => entry).filter((e) => e.action === "rejected");
    expect(entries.length).toBe(200);
    expect(new Set(entries.map((e) => e.id)).size).toBe(200);
    expect(entries.filter((e) => e.classification === "blocked").length).toBe(100);
    record.mockRestore();
  });
});

describe("MailplaneSmtpServer", () => {
  it.each([
    { release: null, fastReader: true },
    { release: "3.999.0", fastReader: false },
  ])(
    "reads DATA with the fast reader only on a tested release (other: $release)",
    async ({ release, fastReader }) => {
      const facts = await installedSmtpServer();
      const server = new MailplaneSmtpServer({ logger: false, authOptional: true });
      server.decision = checkSmtpServer(release ? { ...facts, version: release } : facts);
      server.listen(0, "127.0.0.1");
      await once(server.server, "listening");
      const socket = new Socket();
      socket.on("error", () => {});
      socket.connect((server.server.address() as AddressInfo).port, "127.0.0.1");
      await once(socket, "data");
      const [connection] = [...server.connections] as unknown as { _parser: Record<string, unknown> }[];
      const stock = connection!._parser._feedDataStream === SMTPStream.prototype._feedDataStream;
      expect({ fastReader: !stock }).toEqual({ fastReader });
      socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  );
});
