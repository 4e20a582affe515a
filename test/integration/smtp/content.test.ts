/** DATA-time rules driven by swaks and Python smtplib: spam score, quarantine and its response, attachments, size, SPF, line length. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { tableResolver } from "../../../platform/smtp/content/spf.ts";
import { pythonSmtp, rfc5322, startTestEngine, stepLine, swaks, type TestEngine } from "./support/harness.ts";

/** SPF records the engine's injected resolver knows (mailauth asks for TXT, answered as node:dns does). */
const DNS = tableResolver({
  "TXT spf-pass.example": [["v=spf1 ip4:127.0.0.0/8 -all"]],
  "TXT spf-fail.example": [["v=spf1 ip4:192.0.2.1 -all"]],
  "TXT spf-soft.example": [["v=spf1 ip4:192.0.2.1 ~all"]],
  // The allow-listed From: domain: its SPF covers the client, so DMARC passes SPF-aligned.
  "TXT partner.example": [["v=spf1 ip4:127.0.0.0/8 -all"]],
  "TXT _dmarc.partner.example": [["v=DMARC1; p=none"]],
});
const timeoutDns = async (name: string, rrtype: string) => {
  if (name === "spf-timeout.example") throw Object.assign(new Error("timeout"), { code: "ETIMEOUT" });
  return DNS(name, rrtype);
};

function multipart(subject: string, attachment: string): string {
  return [
    "From: sender@outside.example",
    "To: alice@example.com",
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    "Message-ID: <att@client.mailplane.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain",
    "",
    "Please run the attached file.",
    "--b1",
    `Content-Type: application/octet-stream; name="${attachment}"`,
    `Content-Disposition: attachment; filename="${attachment}"`,
    "Content-Transfer-Encoding: base64",
    "",
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==",
    "--b1--",
    "",
  ].join("\r\n");
}

describe("content filtering with the default settings (quarantine on, quarantine response reject, 1 MiB limit)", () => {
  let t: TestEngine;
  let port: number;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "example.com" }],
            users: [{ address: "alice@example.com" }],
            filterSettings: [{ scope: "example.com", sizeLimitMb: 1 }],
            senderLists: [
              { domain: "example.com", kind: "allow", target: "sender", entries: ["boss@partner.example"] },
            ],
          },
        ],
      },
      { resolver: timeoutDns },
    );
    port = t.engine.inboundPort;
  });
  afterAll(() => t.close());

  it("delivers a clean message with X-Recommended-Action: accept and the evidence header", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: Lunch on Friday",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250, enhanced: "2.0.0" });
    await t.events.settled(run.queueId()!);
    const mail = t.mailbox("alice@example.com").find((m) => m.includes("Subject: Lunch on Friday"))!;
    expect(mail).toContain("X-Recommended-Action: accept");
    expect(mail).toContain("X-Mailplane-Evidence: Combined (0.00)");
  });

  it("quarantines GTUBE and answers 550 5.7.1 (quarantine response reject)", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: Test Quarantine",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo(".")).toMatchObject({
      code: 550,
      enhanced: "5.7.1",
      text: "Message rejected and quarantined: spam score 1.00",
    });
    const held = await t.events.next("quarantined", (meta) => meta.subject === "Test Quarantine");
    const entry = t.engine.quarantine.get(held[0].id)!;
    expect(entry).toMatchObject({
      classification: "spam",
      recipients: ["alice@example.com"],
      sender: "sender@outside.example",
    });
    expect(t.mailbox("alice@example.com").some((m) => m.includes("Subject: Test Quarantine"))).toBe(false);
  });

  it("tags the subject of an unsure message with the notation and delivers it", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "sender@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({
            from: "sender@outside.example",
            to: "alice@example.com",
            subject: "LIMITED OFFER ONLY TODAY",
            body: "buy",
          }),
        },
      ],
    });
    const data = steps.find((s) => s.cmd === "DATA")!;
    expect(stepLine(data)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await t.events.settled(data.text.split(" ").at(-1)!);
    const mail = t.mailbox("alice@example.com").find((m) => m.includes("LIMITED OFFER"))!;
    expect(mail).toContain("Subject: [SPAM?] LIMITED OFFER ONLY TODAY");
    expect(mail).toContain("X-Mailplane-Evidence: Combined (0.30); SUBJECT_ALL_CAPS=0.3");
  });

  it("quarantines a message with a blocked attachment extension (.exe) and answers 550 5.7.1", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "sender@outside.example",
          to: ["alice@example.com"],
          data: multipart("your invoice", "invoice.exe"),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toBe(
      "550 5.7.1 Message rejected and quarantined: blocked attachment type .exe",
    );
    const [meta] = await t.events.next("quarantined", (m) => m.subject === "your invoice");
    expect(t.engine.quarantine.get(meta.id)).toMatchObject({
      classification: "blocked-attachment",
      reason: "blocked attachment type .exe",
    });
  });

  it("delivers an attachment whose extension is not blocked", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "sender@outside.example",
          to: ["alice@example.com"],
          data: multipart("the report", "report.pdf"),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toMatch(/^250 /);
  });

  it("rejects a message above the domain's size limit with 552 5.3.4", async () => {
    const body = `${"x".repeat(76)}\r\n`.repeat(15_000);
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "sender@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({ from: "s@outside.example", to: "alice@example.com", subject: "big", body }),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toMatch(/^552 5\.3\.4 Message too big/);
  });

  it("rejects a line longer than 998 characters with 550 5.6.0", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--body",
      "y".repeat(1200),
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 550, enhanced: "5.6.0" });
  });

  it("rejects a sender whose SPF record fails the client IP with 550 5.7.23", async () => {
    const run = await swaks(port, ["--to", "alice@example.com", "--from", "someone@spf-fail.example"]);
    expect(run.replyTo(".")).toMatchObject({ code: 550, enhanced: "5.7.23" });
  });

  it("defers when SPF cannot be evaluated (DNS timeout) with 451 4.7.24", async () => {
    const run = await swaks(port, ["--to", "alice@example.com", "--from", "someone@spf-timeout.example"]);
    expect(run.replyTo(".")).toMatchObject({ code: 451, enhanced: "4.7.24" });
  });

  it("delivers SPF pass with a Received-SPF: pass field", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "someone@spf-pass.example",
      "--header",
      "Subject: spf passes",
    ]);
    await t.events.settled(run.queueId()!);
    expect(t.mailbox("alice@example.com").find((m) => m.includes("Subject: spf passes"))).toMatch(
      /^Received-SPF: pass /m,
    );
  });

  it("treats SPF softfail as a spam signal: the subject is tagged unsure", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "someone@spf-soft.example",
      "--header",
      "Subject: soft sender",
    ]);
    await t.events.settled(run.queueId()!);
    expect(t.mailbox("alice@example.com").find((m) => m.includes("soft sender"))).toContain(
      "Subject: [SPAM?] soft sender",
    );
  });

  it("skips all filtering when the From: header is allow-listed and DMARC passes aligned for it", async () => {
    // The envelope sender's domain is the From: domain's, and SPF passes: DMARC passes (RFC 7489
    // §3.1.2). Without that alignment the From: allow list does not apply (inbound-auth tests).
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "bounces@partner.example",
          to: ["alice@example.com"],
          data: rfc5322({
            from: "The Boss <boss@partner.example>",
            to: "alice@example.com",
            subject: "allowed via From",
            body: GTUBE,
          }),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toMatch(/^250 /);
  });
});

describe("content filtering with quarantine response accept, oversized mail quarantined, SPF exempt network, no line-length check", () => {
  let t: TestEngine;
  let port: number;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "example.com" }],
            users: [{ address: "alice@example.com" }],
            filterSettings: [
              {
                scope: "example.com",
                quarantineResponse: "accept",
                sizeLimitMb: 1,
                oversizedAction: "quarantine",
                spfExemptNetworks: ["127.0.0.0/8"],
                skipLineLengthCheck: true,
                unsureSubjectNotation: "[UNSURE]",
              },
            ],
          },
        ],
      },
      { resolver: DNS },
    );
    port = t.engine.inboundPort;
  });
  afterAll(() => t.close());

  it("quarantines GTUBE but answers 250 (quarantine response accept)", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: quiet quarantine",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250, enhanced: "2.0.0" });
    await t.events.settled(run.queueId()!);
    expect(t.engine.quarantine.get(run.queueId()!)).toMatchObject({ classification: "spam" });
    expect(t.mailbox("alice@example.com").some((m) => m.includes("quiet quarantine"))).toBe(false);
  });

  it("quarantines an oversized message instead of rejecting it", async () => {
    const body = `${"x".repeat(76)}\r\n`.repeat(15_000);
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "sender@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({ from: "s@outside.example", to: "alice@example.com", subject: "big one", body }),
        },
      ],
    });
    const data = steps.find((s) => s.cmd === "DATA")!;
    expect(stepLine(data)).toMatch(/^250 /);
    const id = data.text.split(" ").at(-1)!;
    await t.events.settled(id);
    expect(t.engine.quarantine.get(id)).toMatchObject({ classification: "oversized" });
  });

  it("ignores an SPF fail from an exempt network", async () => {
    const run = await swaks(port, ["--to", "alice@example.com", "--from", "someone@spf-fail.example"]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
  });

  it("accepts long lines when the line-length check is skipped, and uses the configured notation", async () => {
    const steps = await pythonSmtp({
      port,
      messages: [
        {
          from: "sender@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({
            from: "s@outside.example",
            to: "alice@example.com",
            subject: "WIDE SHOUTING HEADLINE",
            body: "z".repeat(2000),
          }),
        },
      ],
    });
    const data = steps.find((s) => s.cmd === "DATA")!;
    expect(stepLine(data)).toMatch(/^250 /);
    await t.events.settled(data.text.split(" ").at(-1)!);
    expect(t.mailbox("alice@example.com").find((m) => m.includes("WIDE SHOUTING"))).toContain(
      "Subject: [UNSURE] WIDE SHOUTING HEADLINE",
    );
  });

  it("releases a quarantined message to its recipient through the operations", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: release me",
      "--body",
      GTUBE,
    ]);
    await t.events.settled(run.queueId()!);
    const released = await t.engine.operations.releaseQuarantined(run.queueId()!);
    await t.events.settled(released!);
    expect(t.mailbox("alice@example.com").find((m) => m.includes("Subject: release me"))).toContain(
      "X-Recommended-Action: reject",
    );
    expect(t.engine.quarantine.get(run.queueId()!)).toBeUndefined();
  });

  it("delivers one copy when the same quarantined message is released twice at once", async () => {
    const run = await swaks(port, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: double click release",
      "--body",
      GTUBE,
    ]);
    await t.events.settled(run.queueId()!);
    const ops = t.engine.operations;
    // Two operators (or one double click) release at once, and a delete races them.
    const [first, second, deleted] = await Promise.all([
      ops.releaseQuarantined(run.queueId()!),
      ops.releaseQuarantined(run.queueId()!),
      ops.deleteQuarantined(run.queueId()!),
    ]);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(deleted).toBe(false);
    await t.events.settled(first!);
    expect(
      t.mailbox("alice@example.com").filter((m) => m.includes("Subject: double click release")),
    ).toHaveLength(1);
    expect(await ops.releaseQuarantined(run.queueId()!)).toBeUndefined();
  });
});

describe("content filtering with quarantine disabled and the SPF check skipped", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "a",
            domains: [{ name: "example.com" }],
            users: [{ address: "alice@example.com" }],
            filterSettings: [{ scope: "account", quarantineEnabled: false, skipSpf: true }],
          },
        ],
      },
      { resolver: DNS },
    );
  });
  afterAll(() => t.close());

  it("accepts a sender whose SPF record fails: the check is skipped (no Received-SPF field)", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "alice@example.com",
      "--from",
      "someone@spf-fail.example",
      "--header",
      "Subject: spf skipped",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    expect(t.mailbox("alice@example.com").find((m) => m.includes("spf skipped"))).not.toMatch(
      /^Received-SPF:/m,
    );
  });

  it("delivers spam with the notation and X-Recommended-Action: reject instead of quarantining it", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "alice@example.com",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: spam but delivered",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    const mail = t.mailbox("alice@example.com").find((m) => m.includes("spam but delivered"))!;
    expect(mail).toContain("Subject: [SPAM?] spam but delivered");
    expect(mail).toContain("X-Recommended-Action: reject");
  });
});

describe("engine with a 1 MiB hard size limit (smtp-server rejectOversized)", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          { id: "a", domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] },
        ],
      },
      { maxMessageBytes: 1024 * 1024 },
    );
  });
  afterAll(() => t.close());

  it("refuses a message over the hard limit with 552 5.3.4 and queues nothing", async () => {
    const body = `${"x".repeat(76)}\r\n`.repeat(20_000);
    const steps = await pythonSmtp({
      port: t.engine.inboundPort,
      messages: [
        {
          from: "s@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({ from: "s@outside.example", to: "alice@example.com", subject: "huge", body }),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "DATA"))).toMatch(/^552 5\.3\.4 /);
    expect(t.engine.queue.size).toBe(0);
  });

  it("advertises the limit with the SIZE extension (RFC 1870)", async () => {
    const steps = await pythonSmtp({ port: t.engine.inboundPort });
    expect(steps.find((s) => s.cmd === "EHLO")!.text).toContain(`SIZE ${1024 * 1024}`);
  });
});
