/** Relay to a domain's routes with Postfix's smtp-sink as the downstream: priority order, 4xx fallback, queue and retry, bounces. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  type Sink,
  startSink,
  startTestEngine,
  swaks,
  type TestEngine,
} from "./support/harness.ts";

const sinks: Sink[] = [];
async function sink(args: string[] = [], port?: number): Promise<Sink> {
  const s = await startSink(args, port);
  sinks.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.stop()));
});

describe("a routed domain whose first route answers RCPT with 4xx", () => {
  let t: TestEngine;
  let first: Sink;
  let second: Sink;
  beforeAll(async () => {
    first = await startSink(["-r", "RCPT"]);
    second = await startSink();
    t = await startTestEngine({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [{ name: "routed.example" }],
          routes: [
            { domain: "routed.example", host: "127.0.0.1", port: second.port, priority: 20, tls: "none" },
            { domain: "routed.example", host: "127.0.0.1", port: first.port, priority: 10, tls: "none" },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await t.close();
    await first.stop();
    await second.stop();
  });

  it("delivers through the second route", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "someone@routed.example",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: via the fallback route",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250, enhanced: "2.0.0" });
    const [, target, outcome] = await t.events.next("delivered", (meta) => meta.id === run.queueId());
    expect(target.key).toBe("relay:someone@routed.example");
    expect(outcome.remoteMta).toBe(`127.0.0.1:${second.port}`);
    expect(second.messages().filter((m) => m.includes("Subject: via the fallback route"))).toHaveLength(1);
    expect(first.messages()).toEqual([]);
  });
});

describe("a routed domain whose routes are all down, then come back", () => {
  let t: TestEngine;
  let ports: number[];
  beforeAll(async () => {
    ports = [await freePort(), await freePort()];
    t = await startTestEngine({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [{ name: "routed.example" }],
          routes: ports.map((port, i) => ({
            domain: "routed.example",
            host: "127.0.0.1",
            port,
            priority: 10 * (i + 1),
            tls: "none" as const,
          })),
        },
      ],
    });
  });
  afterAll(() => t.close());

  it("keeps the message queued with its error, retries with back-off and delivers once a route answers", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "someone@routed.example",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: patience",
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    const id = run.queueId()!;
    await t.events.next("deferred", (meta, target) => meta.id === id && target.attempts >= 2);
    const view = t.engine.queue.get(id)!;
    expect(view.state).toBe("deferred");
    expect(view.lastError).toContain(`127.0.0.1:${ports[1]}`);
    const back = await sink([], ports[1]);
    await t.events.settled(id);
    expect(back.messages().filter((m) => m.includes("Subject: patience"))).toHaveLength(1);
    expect(t.engine.queue.size).toBe(0);
  });
});

describe("a routed domain whose route refuses recipients permanently, with a local sender", () => {
  let t: TestEngine;
  let hard: Sink;
  beforeAll(async () => {
    hard = await startSink(["-f", "RCPT"]);
    t = await startTestEngine({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [
            { name: "routed.example", notificationFrom: "bounces@routed.example" },
            { name: "example.com" },
          ],
          users: [{ address: "alice@example.com" }],
          routes: [{ domain: "routed.example", host: "127.0.0.1", port: hard.port, tls: "none" }],
        },
      ],
    });
  });
  afterAll(async () => {
    await t.close();
    await hard.stop();
  });

  it("bounces with an RFC 3464 DSN from the domain's notificationFrom to the sender and does not retry", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "nobody@routed.example",
      "--from",
      "alice@example.com",
      "--header",
      "Subject: will bounce",
    ]);
    const id = run.queueId()!;
    const [, , outcome] = await t.events.next("failed", (meta) => meta.id === id);
    expect(outcome.status_code).toBe("5.3.0");
    const [dsn] = await t.events.next("injected", (meta) => meta.origin === "bounce");
    await t.events.settled(dsn.id);
    const report = t
      .mailbox("alice@example.com")
      .find((m) => m.includes("Undelivered Mail Returned to Sender"))!;
    expect(report).toContain("Content-Type: multipart/report; report-type=delivery-status");
    expect(report).toContain("Final-Recipient: rfc822; nobody@routed.example");
    expect(report).toContain("Action: failed");
    expect(report).toContain("Status: 5.3.0");
    expect(report).toContain(`Remote-MTA: dns; 127.0.0.1:${hard.port}`);
    expect(report).toContain("Subject: will bounce");
    expect(report).toMatch(/^Return-Path: <>/);
    // From: is the domain's notificationFrom.
    expect(report).toContain("From: Mail Delivery System <bounces@routed.example>");
    expect(t.events.all("deferred").filter(([meta]) => meta.id === id)).toEqual([]);
  });
});

describe("a routed domain with 1 maximum retry day and a clock the test moves", () => {
  let t: TestEngine;
  let offset = 0;
  let smarthost: Sink;
  beforeAll(async () => {
    smarthost = await startSink();
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          {
            id: "acme",
            domains: [{ name: "routed.example", maxRetryDays: 1 }],
            routes: [{ domain: "routed.example", host: "127.0.0.1", port: await freePort(), tls: "none" }],
          },
        ],
      },
      { now: () => Date.now() + offset, smarthost: { host: "127.0.0.1", port: smarthost.port, tls: "none" } },
    );
  });
  afterAll(async () => {
    await t.close();
    await smarthost.stop();
  });

  it("bounces (status 4.4.7) once the retry days ran out, to a remote sender through the smarthost", async () => {
    const run = await swaks(t.engine.inboundPort, [
      "--to",
      "x@routed.example",
      "--from",
      "sender@outside.example",
      "--header",
      "Subject: too late",
    ]);
    const id = run.queueId()!;
    await t.events.next("deferred", (meta) => meta.id === id);
    offset = 2 * 86_400_000;
    t.engine.operations.retryQueued(id);
    const [, , outcome] = await t.events.next("failed", (meta) => meta.id === id);
    expect(outcome.status_code).toBe("4.4.7");
    const [dsn] = await t.events.next("injected", (meta) => meta.origin === "bounce");
    await t.events.settled(dsn.id);
    const out = smarthost.messages().find((m) => m.includes("Undelivered Mail Returned to Sender"))!;
    expect(out).toContain("X-Mail-Args: <>");
    expect(out).toContain("X-Rcpt-Args: <sender@outside.example>");
    expect(out).toContain("Status: 4.4.7");
  });
});
