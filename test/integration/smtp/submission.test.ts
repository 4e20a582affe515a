/** Submission: STARTTLS then AUTH PLAIN/LOGIN, lockout per client IP (127.0.0.2 vs 127.0.0.1), disabled and expired users, relaying. */
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

const DAY = 86_400_000;

describe("submission listener with a 3-failures-in-10-minutes lockout and 30-day password expiry", () => {
  let t: TestEngine;
  let port: number;
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
            users: [
              { address: "alice@example.com" },
              { address: "bob@example.com" },
              { address: "gone@example.com", enabled: false },
              { address: "old@example.com" },
            ],
            passwordPolicies: [
              {
                scope: "example.com",
                expiry: { days: 30 },
                lockout: { failures: 3, windowMinutes: 10, durationMinutes: 10 },
              },
            ],
          },
        ],
      },
      {
        credentials: memoryCredentials({
          "alice@example.com": { password: "Alice-Secret-1" },
          "bob@example.com": { password: "Bob-Secret-2" },
          "gone@example.com": { password: "Gone-Secret-3" },
          "old@example.com": {
            password: "Old-Secret-4",
            setAt: new Date(Date.now() - 40 * DAY).toISOString(),
          },
        }),
        smarthost: { host: "127.0.0.1", port: smarthost.port, tls: "none" },
      },
    );
    port = t.engine.submissionPort;
  });
  afterAll(async () => {
    await t.close();
    await smarthost.stop();
  });

  it("does not know AUTH before STARTTLS: 500 5.5.2, as on the inbound listener (RFC 3207 §4.2)", async () => {
    const steps = await pythonSmtp({
      port,
      logins: [{ user: "alice@example.com", password: "Alice-Secret-1" }],
    });
    expect(stepLine(steps.find((s) => s.cmd === "AUTH"))).toMatch(/^500 5\.5\.2 /);
  });

  it("offers STARTTLS and, after it, AUTH PLAIN LOGIN only", async () => {
    const steps = await pythonSmtp({ port, starttls: true });
    const [before, after] = steps.filter((s) => s.cmd === "EHLO");
    expect(before!.text).toContain("STARTTLS");
    expect(before!.text).not.toContain("AUTH");
    expect(after!.text).toContain("AUTH PLAIN LOGIN");
  });

  it("requires authentication before MAIL with 530 5.7.0", async () => {
    const run = await swaks(port, ["--tls", "--to", "bob@example.com", "--from", "alice@example.com"]);
    expect(run.replyTo("MAIL")).toMatchObject({ code: 530, enhanced: "5.7.0" });
  });

  it("authenticates with AUTH PLAIN over STARTTLS (swaks) and relays to a remote domain through the smarthost", async () => {
    const run = await swaks(port, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      "alice@example.com",
      "--auth-password",
      "Alice-Secret-1",
      "--to",
      "friend@elsewhere.example",
      "--from",
      "alice@example.com",
      "--header",
      "Subject: submitted",
    ]);
    expect(run.replyTo("AUTH")).toMatchObject({ code: 235, enhanced: "2.7.0" });
    expect(run.replyTo(".")).toMatchObject({ code: 250, enhanced: "2.0.0" });
    await t.events.settled(run.queueId()!);
    const out = smarthost.messages().find((m) => m.includes("Subject: submitted"))!;
    expect(out).toContain("X-Rcpt-Args: <friend@elsewhere.example>");
    expect(out).toMatch(/with ESMTPSA id /);
    expect(run.output).not.toContain("Alice-Secret-1\r\n<-");
  });

  it("authenticates with AUTH LOGIN (Python) and refuses a sender the user does not own with 553 5.7.1", async () => {
    const steps = await pythonSmtp({
      port,
      starttls: true,
      logins: [{ user: "bob@example.com", password: "Bob-Secret-2", mechanism: "LOGIN" }],
      messages: [
        {
          from: "alice@example.com",
          to: ["friend@elsewhere.example"],
          data: rfc5322({
            from: "alice@example.com",
            to: "friend@elsewhere.example",
            subject: "x",
            body: "y",
          }),
        },
      ],
    });
    expect(stepLine(steps.find((s) => s.cmd === "AUTH"))).toMatch(/^235 2\.7\.0 /);
    expect(stepLine(steps.find((s) => s.cmd === "MAIL"))).toMatch(
      /^553 5\.7\.1 Sender address <alice@example\.com> not owned/,
    );
  });

  it("refuses a disabled user with 535 5.7.8", async () => {
    const steps = await pythonSmtp({
      port,
      source: "127.0.0.5",
      starttls: true,
      logins: [{ user: "gone@example.com", password: "Gone-Secret-3" }],
    });
    expect(stepLine(steps.find((s) => s.cmd === "AUTH"))).toBe("535 5.7.8 Account disabled");
  });

  it("refuses an expired password with 535 5.7.8", async () => {
    const steps = await pythonSmtp({
      port,
      source: "127.0.0.6",
      starttls: true,
      logins: [{ user: "old@example.com", password: "Old-Secret-4" }],
    });
    expect(stepLine(steps.find((s) => s.cmd === "AUTH"))).toBe(
      "535 5.7.8 Password expired, set a new one to log in again",
    );
  });

  it("locks out a brute-forcing IP (127.0.0.2) after 3 failures while another IP (127.0.0.1) still logs in", async () => {
    const attacker = await pythonSmtp({
      port,
      source: "127.0.0.2",
      starttls: true,
      logins: ["guess1", "guess2", "guess3", "Alice-Secret-1"].map((password) => ({
        user: "alice@example.com",
        password,
      })),
    });
    expect(attacker.filter((s) => s.cmd === "AUTH").map(stepLine)).toEqual([
      "535 5.7.8 Authentication credentials invalid",
      "535 5.7.8 Authentication credentials invalid",
      "535 5.7.8 Authentication credentials invalid",
      "454 4.7.0 Too many failed logins from your address, try again later",
    ]);
    const again = await swaks(port, [
      "--local-interface",
      "127.0.0.2",
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      "alice@example.com",
      "--auth-password",
      "Alice-Secret-1",
      "--quit-after",
      "AUTH",
    ]);
    expect(again.replyTo("AUTH")).toMatchObject({ code: 454, enhanced: "4.7.0" });
    const other = await pythonSmtp({
      port,
      source: "127.0.0.1",
      starttls: true,
      logins: [{ user: "alice@example.com", password: "Alice-Secret-1" }],
    });
    expect(stepLine(other.find((s) => s.cmd === "AUTH"))).toMatch(/^235 /);
  });

  it("never writes a password into the message log", async () => {
    const log = t.engine.log;
    const raw = JSON.stringify(await Promise.all(log.owners().map((owner) => log.search(owner, {}))));
    for (const secret of ["Alice-Secret-1", "Bob-Secret-2", "Gone-Secret-3", "Old-Secret-4", "guess1"])
      expect(raw).not.toContain(secret);
  });
});

describe("inbound listener", () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine({
      revision: 1,
      accounts: [{ id: "a", domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] }],
    });
  });
  afterAll(() => t.close());

  it("offers STARTTLS but no AUTH, and delivers over TLS with ESMTPS in the trace", async () => {
    const steps = await pythonSmtp({
      port: t.engine.inboundPort,
      starttls: true,
      messages: [
        {
          from: "s@outside.example",
          to: ["alice@example.com"],
          data: rfc5322({
            from: "s@outside.example",
            to: "alice@example.com",
            subject: "over tls",
            body: "x",
          }),
        },
      ],
    });
    expect(steps.filter((s) => s.cmd === "EHLO").every((s) => !s.text.includes("AUTH"))).toBe(true);
    const data = steps.find((s) => s.cmd === "DATA")!;
    await t.events.settled(data.text.split(" ").at(-1)!);
    expect(t.mailbox("alice@example.com").find((m) => m.includes("over tls"))).toMatch(/with ESMTPS id /);
  });

  it("does not know AUTH on the inbound listener: 500 5.5.2 (AUTH is a submission feature)", async () => {
    const steps = await pythonSmtp({
      port: t.engine.inboundPort,
      starttls: true,
      logins: [{ user: "alice@example.com", password: "x" }],
    });
    expect(stepLine(steps.find((s) => s.cmd === "AUTH"))).toBe("500 5.5.2 Error: command not recognized");
  });
});
