/** RCPT-time rules driven by swaks and Python smtplib: relay control, domain aliases, lists, users, aliases, catch-all. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { pythonSmtp, rfc5322, startTestEngine, stepLine, swaks, type TestEngine } from "./support/harness.ts";

describe("inbound listener of a domain with users, aliases, lists and a domain alias", () => {
  let t: TestEngine;
  let port: number;
  beforeAll(async () => {
    t = await startTestEngine({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [
            { name: "example.com", aliases: ["example.org"] },
            {
              name: "strict.example",
              localRecipientsOnly: true,
              localRecipients: ["listed"],
              catchAll: null,
            },
            { name: "catch.example", catchAll: "alice@example.com" },
          ],
          users: [
            { address: "alice@example.com" },
            { address: "bob@example.com" },
            { address: "gone@example.com", enabled: false },
            { address: "closed@example.com" },
            { address: "listed@strict.example" },
            { address: "nofilter@example.com" },
          ],
          aliases: [
            { address: "joe@example.com", action: { type: "reject", message: "Joe no longer works here" } },
            {
              address: "team@example.com",
              action: { type: "forward", to: ["alice@example.com", "bob@example.com"] },
            },
            { address: "ping@example.com", action: { type: "forward", to: ["pong@example.com"] } },
            { address: "pong@example.com", action: { type: "forward", to: ["ping@example.com"] } },
          ],
          senderLists: [
            {
              domain: "example.com",
              kind: "block",
              target: "sender",
              entries: ["*@spam.example", "eve@bad.example"],
            },
            { domain: "example.com", kind: "block", target: "recipient", entries: ["closed@example.com"] },
            { domain: "example.com", kind: "allow", target: "sender", entries: ["*@friend.example"] },
            { domain: "example.com", kind: "allow", target: "recipient", entries: ["nofilter@example.com"] },
          ],
        },
      ],
    });
    port = t.engine.inboundPort;
  });
  afterAll(() => t.close());

  it("rejects RCPT for unknown domain with 550 5.7.1 relay denied", async () => {
    const run = await swaks(port, ["--to", "someone@unknown.example", "--from", "bob@sender.example"]);
    expect(run.replyTo("RCPT")).toMatchObject({
      code: 550,
      enhanced: "5.7.1",
      text: "<someone@unknown.example>: Relay access denied",
    });
    expect(run.exitCode).toBe(24);
  });

  it("rewrites a domain alias to the main domain and delivers to the user's Maildir", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.org",
      "--from",
      "bob@sender.example",
      "--header",
      "Subject: via alias domain",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250, enhanced: "2.0.0" });
    await t.events.settled(run.queueId()!);
    const mail = t.mailbox("alice@example.com").find((m) => m.includes("Subject: via alias domain"));
    expect(mail).toContain("Delivered-To: alice@example.com");
  });

  it("rejects a local part that exists only under the alias domain's name with 550 5.1.1", async () => {
    const run = await swaks(port, ["--to", "nobody@example.org", "--from", "bob@sender.example"]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.1.1" });
  });

  it("rejects a blocked sender address with 550 5.7.1 and never queues it", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "eve@bad.example",
          to: ["alice@example.com"],
          data: rfc5322({ from: "eve@bad.example", to: "alice@example.com", subject: "hi", body: "x" }),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "RCPT"))).toBe(
      "550 5.7.1 Sender <eve@bad.example> is blocked by example.com",
    );
    expect(steps.some((s) => s.cmd === "DATA")).toBe(false);
  });

  it("rejects every sender of a blocked domain with 550 5.7.1, even a GTUBE message that would be quarantined", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "anyone@spam.example",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(t.engine.quarantine.list({ sender: "anyone@spam.example" })).toEqual([]);
  });

  it("rejects a blocked recipient with 550 5.7.1", async () => {
    const run = await swaks(port, ["--to", "closed@example.com", "--from", "bob@sender.example"]);
    expect(run.replyTo("RCPT")).toMatchObject({
      code: 550,
      enhanced: "5.7.1",
      text: "<closed@example.com>: Recipient address rejected by policy",
    });
  });

  it("refuses mail for a disabled user with 550 5.2.1", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [{ from: "bob@sender.example", to: ["gone@example.com"], data: "Subject: x\r\n\r\ny\r\n" }],
    });
    expect(stepLine(steps.find((s) => s.cmd === "RCPT"))).toBe(
      "550 5.2.1 <gone@example.com>: Mailbox disabled, not accepting messages",
    );
  });

  it("answers a reject alias with 550 and its configured text", async () => {
    const run = await swaks(port, ["--to", "joe@example.com", "--from", "bob@sender.example"]);
    expect(run.replyTo("RCPT")).toMatchObject({
      code: 550,
      enhanced: "5.7.1",
      text: "Joe no longer works here",
    });
  });

  it("expands a distribution list into every member's Maildir", async () => {
    const run = await swaks(port, [
      "--to",
      "team@example.com",
      "--from",
      "bob@sender.example",
      "--header",
      "Subject: team meeting",
    ]);
    await t.events.settled(run.queueId()!);
    for (const member of ["alice@example.com", "bob@example.com"]) {
      expect(t.mailbox(member).some((m) => m.includes("Subject: team meeting"))).toBe(true);
    }
  });

  it("cuts a forwarding loop: an alias pair forwarding to each other is refused with 550 5.4.6", async () => {
    const run = await swaks(port, ["--to", "ping@example.com", "--from", "bob@sender.example"]);
    expect(run.replyTo("RCPT")).toMatchObject({
      code: 550,
      enhanced: "5.4.6",
      text: "<ping@example.com>: Routing loop detected",
    });
  });

  it("in local-recipients-only mode accepts listed recipients and rejects others with 550 5.1.1", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "bob@sender.example",
          to: ["listed@strict.example", "other@strict.example"],
          data: rfc5322({
            from: "bob@sender.example",
            to: "listed@strict.example",
            subject: "strict",
            body: "x",
          }),
        },
      ],
    });
    const rcpts = steps.filter((s) => s.cmd === "RCPT").map(stepLine);
    expect(rcpts[0]).toMatch(/^250 /);
    expect(rcpts[1]).toBe("550 5.1.1 <other@strict.example>: Recipient address rejected: user unknown");
    expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toMatch(/^250 2\.0\.0 Ok: queued as /);
  });

  it("delivers mail for unknown local parts to the catch-all", async () => {
    const run = await swaks(port, [
      "--to",
      "whoever@catch.example",
      "--from",
      "bob@sender.example",
      "--header",
      "Subject: to the catch-all",
    ]);
    await t.events.settled(run.queueId()!);
    expect(t.mailbox("alice@example.com").some((m) => m.includes("Subject: to the catch-all"))).toBe(true);
  });

  it("delivers GTUBE from an allow-listed sender domain untouched (all filtering skipped)", async () => {
    const run = await swaks(port, [
      "--to",
      "bob@example.com",
      "--from",
      "pal@friend.example",
      "--header",
      "Subject: allowlisted gtube",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    const mail = t.mailbox("bob@example.com").find((m) => m.includes("Subject: allowlisted gtube"));
    expect(mail).toContain("X-Recommended-Action: accept");
  });

  it("delivers GTUBE to an allow-listed recipient untouched (all filtering skipped)", async () => {
    const run = await swaks(port, [
      "--to",
      "nofilter@example.com",
      "--from",
      "stranger@outside.example",
      "--header",
      "Subject: to the allow-listed recipient",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250, enhanced: "2.0.0" });
    await t.events.settled(run.queueId()!);
    const mail = t.mailbox("nofilter@example.com").find((m) => m.includes("to the allow-listed recipient"));
    expect(mail).toContain("X-Recommended-Action: accept");
  });

  it("asks for a second domain's recipients in another transaction with 452 4.5.3", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "bob@sender.example",
          to: ["alice@example.com", "listed@strict.example"],
          data: "Subject: two domains\r\n\r\nx\r\n",
        },
      ],
    });
    const rcpts = steps.filter((s) => s.cmd === "RCPT").map(stepLine);
    expect(rcpts[0]).toMatch(/^250 /);
    expect(rcpts[1]).toMatch(/^452 4\.5\.3 /);
  });
});
