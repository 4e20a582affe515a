/** Auto-replies (RFC 3834) and forwards out of the platform, observed at a smtp-sink smarthost. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  pythonSmtp,
  rfc5322,
  type Sink,
  startSink,
  startTestEngine,
  stepLine,
  swaks,
  type TestEngine,
} from "./support/harness.ts";

describe("an auto-reply alias (once per sender per day, copy to a user) and a forward to another domain, with a smarthost", () => {
  let t: TestEngine;
  let smarthost: Sink;
  beforeAll(async () => {
    smarthost = await startSink();
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "example.com" }],
            users: [{ address: "alice@example.com" }],
            aliases: [
              {
                address: "away@example.com",
                action: {
                  type: "autoReply",
                  subject: "Out of office",
                  body: "Back on Monday.",
                  copyTo: ["alice@example.com"],
                  periodDays: 1,
                },
              },
              {
                address: "outside@example.com",
                action: { type: "forward", to: ["alice@example.com", "alice.private@elsewhere.example"] },
              },
            ],
          },
        ],
      },
      { smarthost: { host: "127.0.0.1", port: smarthost.port, tls: "none" } },
    );
  });
  afterAll(async () => {
    await t.close();
    await smarthost.stop();
  });

  /** Auto-replies queued for `to`: decided before the original message settles, so this is exact once it has. */
  const queuedReplies = (to: string) =>
    t.events
      .all("injected")
      .filter(([meta]) => meta.origin === "autoreply" && meta.recipients[0].address === to);
  const replies = (to: string) =>
    smarthost
      .messages()
      .filter((m) => m.includes("Subject: Out of office") && m.includes(`X-Rcpt-Args: <${to}>`));

  async function send(from: string, subject: string, headers: string[] = []): Promise<string> {
    const steps = await pythonSmtp({
      port: t.engine.inboundPort,
      messages: [
        {
          from,
          to: ["away@example.com"],
          data: rfc5322({ from, to: "away@example.com", subject, body: "hello", headers }),
        },
      ],
    });
    const data = steps.find((s) => s.cmd === "DATA")!;
    expect(stepLine(data)).toMatch(/^250 /);
    const id = data.text.split(" ").at(-1)!;
    await t.events.settled(id);
    return id;
  }

  it("answers a sender once from the null sender, marked Auto-Submitted: auto-replied, and copies the message", async () => {
    await send("carol@outside.example", "question one");
    const [reply] = await t.events.next("injected", (meta) => meta.origin === "autoreply");
    await t.events.settled(reply.id);
    const out = replies("carol@outside.example");
    expect(out).toHaveLength(1);
    expect(out[0]).toContain("X-Mail-Args: <>");
    expect(out[0]).toContain("Auto-Submitted: auto-replied");
    expect(out[0]).toContain("Back on Monday.");
    expect(t.mailbox("alice@example.com").some((m) => m.includes("Subject: question one"))).toBe(true);
  });

  it("does not answer the same sender again within the period", async () => {
    await send("carol@outside.example", "question two");
    expect(queuedReplies("carol@outside.example")).toHaveLength(1);
    expect(t.mailbox("alice@example.com").some((m) => m.includes("Subject: question two"))).toBe(true);
  });

  it("never answers automatic or bulk mail (Auto-Submitted, Precedence: bulk, List-Id) nor the null sender", async () => {
    await send("robot@outside.example", "notification", ["Auto-Submitted: auto-generated"]);
    await send("news@outside.example", "newsletter", ["Precedence: bulk"]);
    await send("list@outside.example", "list post", ["List-Id: <talk.lists.outside.example>"]);
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "away@example.com",
      "--from",
      "<>",
      "--header",
      "Subject: from null sender",
    ]);
    await t.events.settled(run.queueId()!);
    for (const sender of ["robot@outside.example", "news@outside.example", "list@outside.example"]) {
      expect(queuedReplies(sender)).toEqual([]);
    }
    expect(t.events.all("injected").filter(([meta]) => meta.recipients[0].address === "")).toEqual([]);
  });

  it("forwards to an address outside the platform through the smarthost and to the local member's Maildir", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "outside@example.com",
      "--from",
      "dave@outside.example",
      "--header",
      "Subject: forward me",
    ]);
    await t.events.settled(run.queueId()!);
    expect(
      smarthost
        .messages()
        .filter(
          (m) =>
            m.includes("Subject: forward me") && m.includes("X-Rcpt-Args: <alice.private@elsewhere.example>"),
        ),
    ).toHaveLength(1);
    expect(t.mailbox("alice@example.com").some((m) => m.includes("Subject: forward me"))).toBe(true);
  });
});
