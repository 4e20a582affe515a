/** The control plane when its store fails: 503 MP_UNAVAILABLE with Retry-After (PostgreSQL stopped, SQLite locked), /healthz bounded while PostgreSQL hangs, recovery once it is back. */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SQLITE_FILE } from "../../../platform/store/index.ts";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";
import { type Answer, type Harness, startHarness, uniqueDomain } from "./harness.ts";

const PROBLEM = "application/problem+json";

/** Asserts the answer every store outage gets: 503 problem+json, Retry-After, and no driver detail. */
function expectUnavailable(res: Answer, secrets: string[]) {
  expect(res).toMatchObject({
    status: 503,
    headers: { "content-type": expect.stringContaining(PROBLEM), "retry-after": "2" },
    body: {
      code: "MP_UNAVAILABLE",
      status: 503,
      detail: expect.stringMatching(/^the database is unavailable/),
    },
  });
  for (const secret of secrets) expect(res.text).not.toContain(secret);
}

/** Calls `attempt` every 100 ms until it returns true; fails the test (does not hang) after `ms`. */
async function eventually(attempt: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("control plane while its PostgreSQL server is stopped or hung", () => {
  let server: PostgresServer;
  let h: Harness;
  let t: { id: string; token: string };
  let port: string;

  beforeAll(async () => {
    server = await startPostgres();
    port = new URL(server.url).port;
    h = await startHarness(
      { name: "postgres" },
      { databaseUrl: server.url, databaseSchema: "public", rateLimit: false },
    );
    t = await h.tenant();
  });
  afterEach(async () => {
    server.thaw();
  });
  afterAll(async () => {
    server?.thaw();
    await h?.close();
    server?.stop();
  });

  it("answers reads, writes and /healthz with 503 MP_UNAVAILABLE and Retry-After while stopped, and 200 again once back", async () => {
    const d = uniqueDomain();
    await server.halt();
    try {
      const secrets = [port, server.url, "ECONNREFUSED", "select", "SELECT"];
      expectUnavailable(await h.call("GET", "/v1/domains", { token: t.token }), secrets);
      expectUnavailable(
        await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } }),
        secrets,
      );
      const health = await h.call("GET", "/healthz");
      expect(health).toMatchObject({
        status: 503,
        headers: { "content-type": expect.stringContaining(PROBLEM), "retry-after": "2" },
        body: { code: "MP_UNAVAILABLE", detail: expect.stringContaining("the store is not answering") },
      });
      for (const secret of secrets) expect(health.text).not.toContain(secret);
    } finally {
      await server.start();
    }
    // The pool dropped the broken connections, so it recovers without a restart of the control plane.
    await eventually(
      async () =>
        (await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } })).status === 201,
      20_000,
      "the write did not succeed after the server came back",
    );
    expect(await h.call("GET", "/healthz")).toMatchObject({
      status: 200,
      body: { status: "ok", store: { ok: true, latencyMs: expect.any(Number) } },
    });
  });

  it("answers /healthz with 503 from its own 1 s timeout while the server hangs, one probe for concurrent checks", async () => {
    expect((await h.call("GET", "/healthz")).status).toBe(200);
    // Count the probe's reads: concurrent checks must share one rather than pile up on the pool.
    const store = h.cp.store;
    const revision = store.revision.bind(store);
    let reads = 0;
    store.revision = () => {
      reads++;
      return revision();
    };
    server.freeze();
    // A bound on the client so that, without the probe's timeout, the test fails instead of hanging.
    const probes = await Promise.all(
      [1, 2, 3].map(() => request(`${h.url}/healthz`, { headersTimeout: 8_000, bodyTimeout: 8_000 })),
    );
    for (const res of probes) {
      expect(res.statusCode).toBe(503);
      expect(res.headers["content-type"]).toContain(PROBLEM);
      expect(res.headers["retry-after"]).toBe("2");
      expect(await res.body.json()).toMatchObject({
        code: "MP_UNAVAILABLE",
        detail: expect.stringContaining("no answer within 1000 ms"),
      });
    }
    expect(reads).toBe(1);
    server.thaw();
    await eventually(
      async () => (await h.call("GET", "/healthz")).status === 200,
      20_000,
      "/healthz did not recover after the server resumed",
    );
  });
});

describe("control plane while another process holds SQLite's write lock", () => {
  let h: Harness;
  let t: { id: string; token: string };
  let locker: DatabaseSync | undefined;

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" }, { rateLimit: false });
    t = await h.tenant();
  });
  afterEach(() => {
    locker?.close();
    locker = undefined;
  });
  afterAll(async () => h?.close());

  it("answers a write that cannot get the lock with 503 MP_UNAVAILABLE and Retry-After, and applies it once the lock is released", async () => {
    const d = uniqueDomain();
    locker = new DatabaseSync(join(h.dataDir, SQLITE_FILE));
    locker.exec("BEGIN EXCLUSIVE");
    // busy_timeout (5 s) passes first: the answer is a 503, not a 500 nor a hung request.
    expectUnavailable(await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } }), [
      "SQLITE",
      "database is locked",
    ]);
    locker.exec("ROLLBACK");
    expect(await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } })).toMatchObject({
      status: 201,
    });
  });
});
