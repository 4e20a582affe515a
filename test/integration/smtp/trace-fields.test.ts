/** RFC 5321 details of what the engine writes and relays: Received: address literals and dates, envelope case. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  memoryCredentials,
  pythonSmtp,
  rfc5322,
  type Sink,
  startSink,
  startTestEngine,
  stepLine,
  swaks,
  type TestEngine,
} from "./support/harness.ts";

describe("an engine listening on both IPv4 and IPv6 (::)", () => {
  let t: TestEngine;
  let smarthost: Sink;
  beforeAll(async () => {
    smarthost = await startSink();
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          { id: "acme", domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] },
        ],
      },
      {
        inbound: { host: "::", port: 0 },
        credentials: memoryCredentials({ "alice@example.com": { password: "Alice-Secret-1" } }),
        smarthost: { host: "127.0.0.1", port: smarthost.port, tls: "none" },
      },
    );
  });
  afterAll(async () => {
    await t.close();
    await smarthost.stop();
  });

  async function deliverFrom(host: string, subject: string): Promise<string> {
    const steps = await pythonSmtp({
      port: t.engine.inboundPort,
      host,
      source: host,
      messages: [
        {
          from: "carol@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({ from: "carol@outside.example", to: "alice@example.com", subject, body: "hi" }),
        },
      ],
    });
    const data = steps.find((s) => s.cmd === "DATA")!;
    expect(stepLine(data)).toMatch(/^250 /);
    await t.events.settled(data.text.split(" ").at(-1)!);
    const copy = t.mailbox("alice@example.com").find((m) => m.includes(`Subject: ${subject}`))!;
    // Our own trace field is the first Received: (RFC 5321 §4.4: prepended), unfolded here.
    return /^Received: [\s\S]*?;\s+[^\r\n]+/m.exec(copy)![0].replace(/\r?\n\t/g, " ");
  }

  it("writes an IPv6 client as an IPv6: address literal and the date with a numeric zone", async () => {
    const received = await deliverFrom("::1", "over ipv6");
    expect(received).toContain("([IPv6:::1])");
    expect(received).toMatch(/; \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  });

  it("writes an IPv4 client reaching the :: listener as a plain IPv4 literal", async () => {
    const received = await deliverFrom("127.0.0.1", "over ipv4");
    expect(received).toContain("([127.0.0.1])");
    expect(received).not.toContain("IPv6:");
  });

  it("relays the reverse path and a remote recipient with their local-parts' case as given (RFC 5321 §2.4)", async () => {
    const run = await swaks(t.engine.submissionPort, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      "alice@example.com",
      "--auth-password",
      "Alice-Secret-1",
      "--from",
      "Alice@Example.com",
      "--to",
      "Friend.Name@Elsewhere.example",
      "--header",
      "Subject: case kept",
    ]);
    expect(run.replyTo("MAIL")).toMatchObject({ code: 250 });
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    const out = smarthost.messages().find((m) => m.includes("Subject: case kept"))!;
    expect(out).toContain("X-Mail-Args: <Alice@Example.com>");
    expect(out).toContain("X-Rcpt-Args: <Friend.Name@Elsewhere.example>");
    // The message log keeps the case too, and its searches still ignore it.
    const log = t.engine.log;
    const found = (
      await Promise.all(log.owners().map((owner) => log.search(owner, { sender: "alice@example.com" })))
    ).flat();
    expect(found.map((e) => e.sender)).toContain("Alice@Example.com");
    const byRecipient = (
      await Promise.all(log.owners().map((owner) => log.search(owner, { recipient: "friend.name@" })))
    ).flat();
    expect(byRecipient).toHaveLength(1);
  });
});
