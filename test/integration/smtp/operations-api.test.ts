/** The operations API with the engine in the control plane's process: quarantine, queue, log search, statistics, tenancy scoping. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { type Harness, startHarness } from "../api/harness.ts";
import { EventLog, freePort, HOSTNAME, swaks } from "./support/harness.ts";

describe("operations API of `serve` with an SMTP engine (SQLite)", () => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  let deadPort: number;
  const as = (t: { id: string; token: string }) => ({ token: t.token });

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations });
    acme = await h.tenant("acme");
    other = await h.tenant("other");
    deadPort = await freePort();
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { ...as(acme), body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    await put("/v1/domains/ops.example", { name: "ops.example" });
    await put("/v1/domains/ops.example/users/alice@ops.example", {
      address: "alice@ops.example",
      password: "Correct-Horse-7",
    });
    await put("/v1/domains/routed-ops.example", { name: "routed-ops.example" });
    await put(`/v1/domains/routed-ops.example/routes/127.0.0.1:${deadPort}`, {
      domain: "routed-ops.example",
      host: "127.0.0.1",
      port: deadPort,
      tls: "none",
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
    });
    events = new EventLog(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await h.close();
  });

  it("lists, views, releases and deletes quarantined messages of the domain", async () => {
    const first = await swaks(engine!.inboundPort, [
      "--to",
      "alice@ops.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: held one",
      "--body",
      GTUBE,
    ]);
    const second = await swaks(engine!.inboundPort, [
      "--to",
      "alice@ops.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: held two",
      "--body",
      GTUBE,
    ]);
    expect(first.replyTo(".")).toMatchObject({ code: 550, enhanced: "5.7.1" });
    await events.next("quarantined", (m) => m.subject === "held one");
    await events.next("quarantined", (m) => m.subject === "held two");

    const list = await h.call("GET", "/v1/domains/ops.example/quarantine?subject=held", as(acme));
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { subject: string }) => e.subject).sort()).toEqual([
      "held one",
      "held two",
    ]);
    const one = list.body.items.find((e: { subject: string }) => e.subject === "held one");
    const two = list.body.items.find((e: { subject: string }) => e.subject === "held two");

    const view = await h.call("GET", `/v1/domains/ops.example/quarantine/${one.id}`, as(acme));
    expect(view.status).toBe(200);
    expect(view.body.raw).toContain("X-Recommended-Action: reject");
    expect(view.body.raw).toContain(GTUBE);

    const released = await h.call("POST", `/v1/domains/ops.example/quarantine/${one.id}/release`, as(acme));
    expect(released.status).toBe(200);
    await events.settled(released.body.queueId);
    const log = await h.call("GET", `/v1/domains/ops.example/message-log?subject=held%20one`, as(acme));
    expect(log.body.items[0]).toMatchObject({
      classification: "spam",
      action: "quarantined",
      delivery: "released",
    });

    expect((await h.call("DELETE", `/v1/domains/ops.example/quarantine/${two.id}`, as(acme))).status).toBe(
      204,
    );
    expect((await h.call("GET", `/v1/domains/ops.example/quarantine/${two.id}`, as(acme))).status).toBe(404);
    expect(second.replyTo(".")).toMatchObject({ code: 550 });
  });

  it("shows a deferred message in the delivery queue with its reason, retries it on demand and deletes it", async () => {
    const run = await swaks(engine!.inboundPort, [
      "--to",
      "x@routed-ops.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: stuck",
    ]);
    const id = run.queueId()!;
    await events.next("deferred", (meta) => meta.id === id);
    const queue = await h.call("GET", "/v1/domains/routed-ops.example/queue", as(acme));
    expect(queue.body.items).toMatchObject([
      { id, state: "deferred", attempts: 1, recipients: ["x@routed-ops.example"] },
    ]);
    expect(queue.body.items[0].lastError).toContain(`127.0.0.1:${deadPort}`);
    const detail = await h.call("GET", `/v1/domains/routed-ops.example/queue/${id}`, as(acme));
    expect(detail.body.raw).toContain("Subject: stuck");
    const retried = await h.call("POST", `/v1/domains/routed-ops.example/queue/${id}/retry`, as(acme));
    expect(retried.body).toEqual({ retried: 1 });
    await events.next("deferred", (meta, target) => meta.id === id && target.attempts === 2);
    expect((await h.call("DELETE", `/v1/domains/routed-ops.example/queue/${id}`, as(acme))).status).toBe(204);
    await events.settled(id);
    expect((await h.call("GET", "/v1/domains/routed-ops.example/queue", as(acme))).body.items).toEqual([]);
  });

  it("searches the message log by sender, recipient and classification, and counts per domain", async () => {
    const clean = await swaks(engine!.inboundPort, [
      "--to",
      "alice@ops.example",
      "--from",
      "friend@outside.example",
      "--header",
      "Subject: hello there",
    ]);
    await events.settled(clean.queueId()!);
    const bySender = await h.call(
      "GET",
      "/v1/domains/ops.example/message-log?sender=friend%40outside",
      as(acme),
    );
    expect(bySender.body.items).toMatchObject([
      {
        sender: "friend@outside.example",
        recipients: ["alice@ops.example"],
        classification: "clean",
        action: "accepted",
        delivery: "delivered",
      },
    ]);
    const spam = await h.call("GET", "/v1/domains/ops.example/message-log?classification=spam", as(acme));
    expect(spam.body.items.length).toBeGreaterThanOrEqual(2);
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const stats = await h.call(
      "GET",
      `/v1/domains/ops.example/statistics?since=${encodeURIComponent(since)}`,
      as(acme),
    );
    expect(stats.body).toMatchObject({ domain: "ops.example", clean: 1, spam: 2, quarantined: 2, total: 3 });
    expect(stats.body.spamRatio).toBeCloseTo(2 / 3, 3);
  });

  // After the statistics test: this one quarantines a message of its own.
  it("answers 409 MP_CONFLICT to a release none of whose recipients accepts mail now, and keeps it held", async () => {
    const put = (enabled: boolean) =>
      h.call("PUT", "/v1/domains/ops.example/users/bob@ops.example", {
        ...as(acme),
        body: { address: "bob@ops.example", password: "Correct-Horse-8", enabled },
      });
    const bobIs = async (enabled: boolean) => {
      // The engine follows the store's change feed; wait until it has seen the change.
      while (engine!.snapshot().domains.get("ops.example")?.users.get("bob")?.enabled !== enabled)
        await new Promise((r) => setTimeout(r, 20));
    };
    expect((await put(true)).status).toBeLessThan(300);
    await bobIs(true);
    await swaks(engine!.inboundPort, [
      "--to",
      "bob@ops.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: held for bob",
      "--body",
      GTUBE,
    ]);
    const [held] = await events.next("quarantined", (m) => m.subject === "held for bob");
    expect((await put(false)).status).toBeLessThan(300);
    await bobIs(false);
    const refused = await h.call("POST", `/v1/domains/ops.example/quarantine/${held.id}/release`, as(acme));
    expect(refused.status).toBe(409);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.body).toMatchObject({ code: "MP_CONFLICT" });
    expect(refused.body.detail).toContain("bob@ops.example");
    expect((await h.call("GET", `/v1/domains/ops.example/quarantine/${held.id}`, as(acme))).status).toBe(200);
  });

  it("answers 404 for another tenant's domain and for a message of another domain", async () => {
    expect((await h.call("GET", "/v1/domains/ops.example/quarantine", as(other))).status).toBe(404);
    const held = (await h.call("GET", "/v1/domains/ops.example/message-log?classification=spam", as(acme)))
      .body.items[0];
    expect(
      (await h.call("GET", `/v1/domains/routed-ops.example/quarantine/${held.id}`, as(acme))).status,
    ).toBe(404);
  });
});

describe("operations API of `serve` without an SMTP engine", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" });
  });
  afterAll(() => h.close());

  it("answers 503 MP_UNAVAILABLE", async () => {
    const t = await h.tenant("solo");
    await h.call("PUT", "/v1/domains/solo.example", { token: t.token, body: { name: "solo.example" } });
    const res = await h.call("GET", "/v1/domains/solo.example/queue", { token: t.token });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("MP_UNAVAILABLE");
  });
});
