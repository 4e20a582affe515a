/** SMTP caps with real clients: alias expansion (memoised, capped), recipients per message, connections in all and per IP, messages per authenticated user. */
import { type Socket, connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenancyInput } from "../../../platform/smtp/policy/snapshot.ts";
import {
  memoryCredentials,
  pythonSmtp,
  startTestEngine,
  stepLine,
  swaks,
  type TestEngine,
} from "./support/harness.ts";

const WIDE = 1_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Three nested 1,000-wide lists: `top` names a1…a1000, each forwarding to `mid`; `mid` names
 * b1…b1000, each forwarding to `leaf`; `leaf` names 1,000 users (or, for `dead`, 1,000 disabled
 * ones). Followed path by path that is 10⁹ targets; the domain holds about 5,000 forward entries.
 */
function nestedLists(domain: string, leafUsersEnabled: boolean): TenancyInput["accounts"][number] {
  const at = (local: string) => `${local}@${domain}`;
  const forward = (address: string, to: string[]) => ({ address, action: { type: "forward" as const, to } });
  return {
    id: `acme-${domain}`,
    domains: [{ name: domain }],
    users: range(WIDE).map((i) => ({ address: at(`u${i}`), enabled: leafUsersEnabled })),
    aliases: [
      forward(
        at("top"),
        range(WIDE).map((i) => at(`a${i}`)),
      ),
      ...range(WIDE).map((i) => forward(at(`a${i}`), [at("mid")])),
      forward(
        at("mid"),
        range(WIDE).map((i) => at(`b${i}`)),
      ),
      ...range(WIDE).map((i) => forward(at(`b${i}`), [at("leaf")])),
      forward(
        at("leaf"),
        range(WIDE).map((i) => at(`u${i}`)),
      ),
    ],
  };
}

describe("alias expansion and recipients per message (defaults: 1,000 targets, 100 recipients)", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine({
      revision: 1,
      accounts: [
        nestedLists("lists.example", true),
        nestedLists("dead.example", false),
        {
          id: "many",
          domains: [{ name: "many.example" }],
          users: range(101).map((i) => ({ address: `r${i}@many.example` })),
          aliases: [
            {
              address: "half@many.example",
              action: { type: "forward", to: range(60).map((i) => `r${i}@many.example`) },
            },
          ],
        },
      ],
    });
  });
  afterAll(async () => t?.close());

  it("refuses 3 × 1,000-wide nested lists at RCPT with 550 5.5.3 naming the alias, in about a thousand steps", async () => {
    const before = t.engine.expansion.steps;
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "top@lists.example",
      "--from",
      "a@outside.example",
    ]);
    const rcpt = run.replyTo("RCPT")!;
    expect(rcpt).toMatchObject({ code: 550, enhanced: "5.5.3" });
    expect(rcpt.text).toContain(
      "<top@lists.example>: alias expands to more than 1000 recipients per message",
    );
    // 10⁹ paths without the memo and the cap; the first list's second branch is where it stops.
    const steps = t.engine.expansion.steps - before;
    expect(steps).toBeGreaterThan(WIDE);
    expect(steps).toBeLessThan(WIDE + 10);
  });

  it("walks lists that yield nothing (1,000 × 1,000 × 1,000 disabled users) once each: about 5,000 steps", async () => {
    const before = t.engine.expansion.steps;
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "top@dead.example",
      "--from",
      "a@outside.example",
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.2.1" });
    // One step per forward entry (about 5,000); without the memo it would be 10⁹, cut at the 10,000-step cap.
    const steps = t.engine.expansion.steps - before;
    expect(steps).toBeLessThanOrEqual(5 * WIDE + 1);
  });

  it("accepts a 1,000-wide list whole, then counts the message's next recipients against the same 1,000", async () => {
    const steps = await pythonSmtp({
      port: t.engine.inboundPort,
      messages: [
        {
          from: "a@outside.example",
          to: ["leaf@lists.example", "u1@lists.example"],
          data: "Subject: budget\r\n\r\nx\r\n",
        },
      ],
    });
    const rcpts = steps.filter((s) => s.cmd === "RCPT");
    expect(stepLine(rcpts[0])).toMatch(/^250 /);
    expect(stepLine(rcpts[1])).toMatch(/^550 5\.5\.3 <u1@lists\.example>: alias expands to more than 1000/);
  });

  it("takes 100 recipients and answers the 101st with 452 4.5.3 (RFC 5321 §4.5.3.1.8)", async () => {
    const to = range(101).map((i) => `r${i}@many.example`);
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      to.join(","),
      "--from",
      "a@outside.example",
      // One To: line with 101 addresses would pass RFC 5322's 998-character line limit.
      "--header",
      "To: undisclosed-recipients:;",
    ]);
    const rcpts = run.replies.filter((r) => r.command.toUpperCase().startsWith("RCPT"));
    expect(rcpts).toHaveLength(101);
    expect(rcpts.slice(0, 100).every((r) => r.code === 250)).toBe(true);
    expect(rcpts[100]).toMatchObject({ code: 452, enhanced: "4.5.3" });
    expect(rcpts[100]!.text).toContain("Too many recipients (at most 100 per message)");
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    const [meta] = await t.events.next("settled", (m) => m.id === run.queueId());
    expect(meta.recipients).toHaveLength(100);
  });
});

describe("recipients and expansion caps set lower (maxRecipients 3, maxExpansion 50)", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "many",
            domains: [{ name: "many.example" }],
            users: range(60).map((i) => ({ address: `r${i}@many.example` })),
            aliases: [
              {
                address: "sixty@many.example",
                action: { type: "forward", to: range(60).map((i) => `r${i}@many.example`) },
              },
            ],
          },
        ],
      },
      { maxRecipients: 3, maxExpansion: 50 },
    );
  });
  afterAll(async () => t?.close());

  it("answers the fourth RCPT with 452 and a 60-member list with 550 5.5.3", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "r1@many.example,r2@many.example,r3@many.example,r4@many.example",
      "--from",
      "a@outside.example",
    ]);
    const rcpts = run.replies.filter((r) => r.command.toUpperCase().startsWith("RCPT"));
    expect(rcpts.map((r) => r.code)).toEqual([250, 250, 250, 452]);
    const list = await swaks(t.engine.inboundPort, [
      "--to",
      "sixty@many.example",
      "--from",
      "a@outside.example",
    ]);
    expect(list.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.5.3" });
    expect(list.replyTo("RCPT")!.text).toContain("more than 50 recipients per message");
  });
});

/** Opens `n` TCP connections from `source` and resolves with each one's first reply line. */
async function greetings(
  port: number,
  source: string,
  n: number,
): Promise<{ lines: string[]; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const lines = await Promise.all(
    range(n).map(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = tcpConnect({ host: "127.0.0.1", port, localAddress: source });
          sockets.push(socket);
          let buffer = "";
          socket.setEncoding("utf8");
          socket.on("data", (chunk: string) => {
            buffer += chunk;
            const end = buffer.indexOf("\r\n");
            if (end >= 0) resolve(buffer.slice(0, end));
          });
          socket.on("error", reject);
          socket.on("close", () => resolve(buffer.split("\r\n")[0] ?? ""));
        }),
    ),
  );
  return { lines, sockets };
}

function closeAll(sockets: Socket[]): Promise<void> {
  return Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once("close", () => resolve());
          s.destroy();
        }),
    ),
  ).then(() => undefined);
}

/** Waits until the engine counted every client close (it hears them asynchronously). */
async function untilClosed(t: TestEngine): Promise<void> {
  for (let i = 0; i < 100 && t.engine.openConnections() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(t.engine.openConnections()).toBe(0);
}

describe("connection caps (per IP 50, in all 60)", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          { id: "acme", domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] },
        ],
      },
      { maxConnectionsPerIp: 50, maxConnections: 60 },
    );
  });
  afterAll(async () => t?.close());

  it("answers 1,000 connections from 127.0.0.1 with 421 beyond the 50th while 127.0.0.2 is served (Python smtplib)", async () => {
    const held = await greetings(t.engine.inboundPort, "127.0.0.1", 1_000);
    try {
      const served = held.lines.filter((l) => l.startsWith("220 "));
      const refused = held.lines.filter((l) => l.startsWith("421 "));
      expect(served).toHaveLength(50);
      expect(refused).toHaveLength(950);
      expect(refused[0]).toContain("4.7.0 Too many connections from your address");
      const steps = await pythonSmtp({
        port: t.engine.inboundPort,
        source: "127.0.0.2",
        messages: [
          { from: "b@outside.example", to: ["alice@example.com"], data: "Subject: other IP\r\n\r\nx\r\n" },
        ],
      });
      expect(stepLine(steps[0])).toMatch(/^220 /);
      expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toMatch(/^250 /);
    } finally {
      await closeAll(held.sockets);
      await untilClosed(t);
    }
  });

  it("answers 421 to every IP once 60 connections are open in all, and serves again after they close", async () => {
    const first = await greetings(t.engine.inboundPort, "127.0.0.1", 50);
    const second = await greetings(t.engine.inboundPort, "127.0.0.2", 10);
    try {
      expect([...first.lines, ...second.lines].every((l) => l.startsWith("220 "))).toBe(true);
      const steps = await pythonSmtp({ port: t.engine.inboundPort, source: "127.0.0.3" });
      expect(stepLine(steps[0])).toBe("421 4.7.0 Too many connections, try again later");
    } finally {
      await closeAll([...first.sockets, ...second.sockets]);
      await untilClosed(t);
    }
    const steps = await pythonSmtp({ port: t.engine.inboundPort, source: "127.0.0.3" });
    expect(stepLine(steps[0])).toMatch(/^220 /);
  });
});

describe("messages per authenticated user (3 per hour)", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "example.com" }],
            users: [{ address: "alice@example.com" }, { address: "bob@example.com" }],
          },
        ],
      },
      {
        credentials: memoryCredentials({
          "alice@example.com": { password: "Alice-Secret-1" },
          "bob@example.com": { password: "Bob-Secret-2" },
        }),
        senderRate: { messages: 3, seconds: 3600 },
      },
    );
  });
  afterAll(async () => t?.close());

  const message = (from: string, n: number) => ({
    from,
    to: ["bob@example.com"],
    data: `From: ${from}\r\nSubject: message ${n}\r\n\r\nx\r\n`,
  });

  it("takes three messages from alice, answers the fourth MAIL FROM with 450 4.7.1, and still takes bob's", async () => {
    const alice = await pythonSmtp({
      port: t.engine.submissionPort,
      starttls: true,
      logins: [{ user: "alice@example.com", password: "Alice-Secret-1" }],
      messages: [1, 2, 3, 4].map((n) => message("alice@example.com", n)),
    });
    const mails = alice.filter((s) => s.cmd === "MAIL").map(stepLine);
    expect(mails.slice(0, 3).every((l) => l.startsWith("250 "))).toBe(true);
    expect(mails[3]).toMatch(
      /^450 4\.7\.1 Too many messages from alice@example\.com \(at most 3 per 3600 s\)/,
    );
    expect(alice.filter((s) => s.cmd === "DATA").map((s) => s.code)).toEqual([250, 250, 250]);
    const bob = await pythonSmtp({
      port: t.engine.submissionPort,
      starttls: true,
      logins: [{ user: "bob@example.com", password: "Bob-Secret-2" }],
      messages: [message("bob@example.com", 1)],
    });
    expect(stepLine(bob.find((s) => s.cmd === "DATA"))).toMatch(/^250 /);
  });
});
