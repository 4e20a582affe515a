/** MailplaneClient against nock: retries and Retry-After, the budget, typed problems, headers, paths, timeouts. */
import { once } from "node:events";
import { readdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MailplaneClient } from "../../../../sdk/src/client/client.ts";
import type { Clock } from "../../../../sdk/src/client/options.ts";
import { endpoints } from "../../../../sdk/src/contract/index.ts";
import { isMailplaneError, type MailplaneError } from "../../../../sdk/src/errors.ts";
import type { AliasSpecInput } from "../../../../sdk/src/models/alias.ts";

const BASE = "http://mailplane.test";
const PROBLEM = { "content-type": "application/problem+json" };

/** A clock whose sleeps return at once and advance `now`, recording each wait. */
function fakeClock(start = Date.parse("2025-01-01T00:00:00Z")): Clock & { waits: number[] } {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
}

function client(options: Partial<ConstructorParameters<typeof MailplaneClient>[0]> = {}) {
  return new MailplaneClient({ endpoint: BASE, token: "tok-secret", retry: { jitter: false }, ...options });
}

/** Runs `fn`, which must throw; returns the error. */
async function failure(fn: () => Promise<unknown>): Promise<MailplaneError> {
  try {
    await fn();
  } catch (err) {
    return err as MailplaneError;
  }
  throw new Error("expected a failure");
}

const domain = { name: "example.com", id: "example.com", etag: '"1"' };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe("retries", () => {
  it("retries a 429 after the Retry-After seconds", async () => {
    const clock = fakeClock();
    const scope = nock(BASE)
      .get("/v1/domains/example.com")
      .reply(429, { code: "MP_RATE_LIMITED", status: 429 }, { ...PROBLEM, "retry-after": "3" })
      .get("/v1/domains/example.com")
      .reply(200, domain);
    await expect(client({ clock }).domains.get("example.com")).resolves.toEqual(domain);
    expect(clock.waits).toEqual([3000]);
    expect(scope.isDone()).toBe(true);
  });

  it("honours a Retry-After HTTP date", async () => {
    const clock = fakeClock(Date.parse("2025-01-01T00:00:00Z"));
    nock(BASE)
      .get("/v1/domains/example.com")
      .reply(503, { code: "MP_UNAVAILABLE" }, { ...PROBLEM, "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" })
      .get("/v1/domains/example.com")
      .reply(200, domain);
    await client({ clock }).domains.get("example.com");
    expect(clock.waits).toEqual([5000]);
  });

  it("backs off exponentially without Retry-After and gives up after maxRetries", async () => {
    const clock = fakeClock();
    const scope = nock(BASE).get("/v1/domains").times(3).reply(429, { code: "MP_RATE_LIMITED" }, PROBLEM);
    const err = await failure(() =>
      client({ clock, retry: { maxRetries: 2, jitter: false } }).domains.list(),
    );
    expect(err.code).toBe("MP_RATE_LIMITED");
    expect(clock.waits).toEqual([500, 1000]);
    expect(scope.isDone()).toBe(true);
  });

  it("gives up when the next wait would overrun the retry budget", async () => {
    const clock = fakeClock();
    const scope = nock(BASE)
      .get("/v1/domains")
      .times(3)
      .reply(503, { code: "MP_UNAVAILABLE" }, { ...PROBLEM, "retry-after": "4" });
    const err = await failure(() => client({ clock, retry: { budgetMs: 10_000 } }).domains.list());
    expect(err.code).toBe("MP_UNAVAILABLE");
    expect(err.retryAfterSeconds).toBe(4);
    expect(clock.waits).toEqual([4000, 4000]);
    expect(scope.isDone()).toBe(true);
  });

  it("retries a PATCH answered 503 (the server did not act)", async () => {
    const clock = fakeClock();
    nock(BASE)
      .patch("/v1/domains/example.com")
      .reply(503, { code: "MP_UNAVAILABLE" }, PROBLEM)
      .patch("/v1/domains/example.com")
      .reply(200, domain);
    await expect(client({ clock }).domains.patch("example.com", { maxRetryDays: 2 })).resolves.toEqual(
      domain,
    );
  });

  it("does not retry a 412 or a 500", async () => {
    const clock = fakeClock();
    nock(BASE).delete("/v1/domains/example.com").reply(412, { code: "MP_PRECONDITION_FAILED" }, PROBLEM);
    const err = await failure(() => client({ clock }).domains.delete("example.com", { ifMatch: '"0"' }));
    expect(err.code).toBe("MP_PRECONDITION_FAILED");
    nock(BASE).get("/v1/domains").reply(500, { code: "MP_INTERNAL" }, PROBLEM);
    expect((await failure(() => client({ clock }).domains.list())).code).toBe("MP_INTERNAL");
    expect(clock.waits).toEqual([]);
  });

  it("rides out a 12 s outage answered 503 with Retry-After: 2 under the default policy", async () => {
    const clock = fakeClock();
    const start = clock.now();
    let attempts = 0;
    nock(BASE)
      .get("/v1/domains/example.com")
      .times(20)
      .reply(() => {
        attempts++;
        return clock.now() - start < 12_000
          ? [503, { code: "MP_UNAVAILABLE", status: 503 }, { ...PROBLEM, "retry-after": "2" }]
          : [200, domain];
      });
    const c = new MailplaneClient({ endpoint: BASE, clock });
    await expect(c.domains.get("example.com")).resolves.toEqual(domain);
    // Retry-After is a floor: once the back-off grows past 2 s it is used instead.
    expect(clock.waits.every((ms) => ms >= 2000)).toBe(true);
    expect(clock.waits.at(-1)).toBeGreaterThan(2000);
    expect(attempts).toBe(clock.waits.length + 1);
  });

  it("tells onRetry about each retry before its wait, with the failure and the budget", async () => {
    const clock = fakeClock();
    nock(BASE)
      .put("/v1/domains/example.com")
      .reply(503, { code: "MP_UNAVAILABLE", status: 503 }, { ...PROBLEM, "retry-after": "3" })
      .put("/v1/domains/example.com")
      .reply(429, { code: "MP_RATE_LIMITED", status: 429 }, PROBLEM)
      .put("/v1/domains/example.com")
      .reply(200, domain);
    const events: unknown[] = [];
    const c = client({
      clock,
      onRetry: (e) => {
        events.push({ ...e, error: e.error.code, waitedSoFar: clock.waits.length });
        throw new Error("a failing progress callback does not stop the retry");
      },
    });
    await expect(c.domains.put({ name: "example.com" })).resolves.toEqual(domain);
    expect(events).toEqual([
      {
        method: "PUT",
        path: "/v1/domains/example.com",
        error: "MP_UNAVAILABLE",
        retry: 1,
        delayMs: 3000,
        elapsedMs: 0,
        budgetMs: 60_000,
        waitedSoFar: 0,
      },
      {
        method: "PUT",
        path: "/v1/domains/example.com",
        error: "MP_RATE_LIMITED",
        retry: 2,
        delayMs: 1000,
        elapsedMs: 3000,
        budgetMs: 60_000,
        waitedSoFar: 1,
      },
    ]);
  });

  it("lets one call override the retry policy", async () => {
    const clock = fakeClock();
    nock(BASE).get("/v1/domains").reply(429, { code: "MP_RATE_LIMITED" }, PROBLEM);
    const err = await failure(() => client({ clock }).domains.list({}, { retry: { maxRetries: 0 } }));
    expect(err.code).toBe("MP_RATE_LIMITED");
    expect(clock.waits).toEqual([]);
  });
});

describe("problem+json becomes MailplaneError", () => {
  it("keeps code, status, detail and field errors with array paths", async () => {
    nock(BASE)
      .put("/v1/domains/example.com/filter-settings")
      .reply(
        422,
        {
          type: "https://mailplane.dev/problems/validation-failed",
          title: "invalid",
          status: 422,
          detail: "tagThreshold: must be below quarantineThreshold (0.9)",
          code: "MP_VALIDATION_FAILED",
          errors: [{ path: ["tagThreshold"], code: "custom", message: "must be below", in: "body" }],
          requestId: "req-7",
        },
        PROBLEM,
      );
    const err = await failure(() => client().filterSettings.put({ scope: "example.com", tagThreshold: 0.5 }));
    expect(isMailplaneError(err)).toBe(true);
    expect(err.code).toBe("MP_VALIDATION_FAILED");
    expect(err.status).toBe(422);
    expect(err.message).toBe("tagThreshold: must be below quarantineThreshold (0.9)");
    expect(err.errors).toEqual([
      { path: ["tagThreshold"], code: "custom", message: "must be below", in: "body" },
    ]);
    expect(err.problem.requestId).toBe("req-7");
  });

  it("maps an unknown code by its status", async () => {
    nock(BASE)
      .get("/v1/domains/example.com")
      .reply(409, { code: "MP_FROM_THE_FUTURE", detail: "new" }, PROBLEM);
    const err = await failure(() => client().domains.get("example.com"));
    expect(err.code).toBe("MP_CONFLICT");
    expect(err.status).toBe(409);
  });

  it("calls a non-problem error body an unexpected response", async () => {
    nock(BASE)
      .get("/v1/domains/example.com")
      .reply(404, "<html>not here</html>", { "content-type": "text/html" });
    const err = await failure(() => client().domains.get("example.com"));
    expect(err.code).toBe("MP_UNEXPECTED_RESPONSE");
    expect(err.status).toBe(404);
  });

  it("still retries a proxy's 502 page for an idempotent request", async () => {
    const clock = fakeClock();
    nock(BASE)
      .get("/v1/domains/example.com")
      .reply(502, "<html>bad gateway</html>", { "content-type": "text/html" })
      .get("/v1/domains/example.com")
      .reply(200, domain);
    await expect(client({ clock }).domains.get("example.com")).resolves.toEqual(domain);
  });
});

describe("headers", () => {
  it("sends the token, the account, If-Match and a JSON body", async () => {
    const scope = nock(BASE, {
      reqheaders: {
        authorization: "Bearer tok-secret",
        "mailplane-account": "acme",
        "if-match": '"3"',
        "content-type": "application/json",
      },
    })
      .put("/v1/domains/example.com/users/alice@example.com", (body) => body.address === "alice@example.com")
      .reply(200, {});
    await client({ account: "acme" }).users.put({ address: "Alice@Example.com" }, { ifMatch: '"3"' });
    expect(scope.isDone()).toBe(true);
  });

  it("sends If-Match on PATCH and DELETE", async () => {
    const scope = nock(BASE, { reqheaders: { "if-match": '"9"' } })
      .patch("/v1/domains/example.com/users/alice@example.com", { enabled: false })
      .reply(200, {})
      .delete("/v1/domains/example.com/users/alice@example.com")
      .reply(204);
    const c = client();
    await c.users.disable("alice@example.com", { ifMatch: '"9"' });
    await expect(c.users.delete("alice@example.com", { ifMatch: '"9"' })).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it("generates one Idempotency-Key per create and repeats it on a retry", async () => {
    const keys: string[] = [];
    const record = (value: string | null) => keys.push(String(value)) > 0;
    nock(BASE)
      .post("/v1/tokens")
      .matchHeader("idempotency-key", record)
      .reply(503, { code: "MP_UNAVAILABLE" }, PROBLEM)
      .post("/v1/tokens")
      .matchHeader("idempotency-key", record)
      .reply(201, { id: "tok_1", token: "secret" });
    const created = await client({ clock: fakeClock() }).tokens.create({ role: "read-only" });
    expect(created.token).toBe("secret");
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it("sends If-None-Match: * for a create-only PUT, with one Idempotency-Key for every attempt", async () => {
    const keys: string[] = [];
    const record = (value: string | null) => keys.push(String(value)) > 0;
    nock(BASE, { reqheaders: { "if-none-match": "*" } })
      .put("/v1/domains/example.com")
      .matchHeader("idempotency-key", record)
      .reply(503, { code: "MP_UNAVAILABLE" }, PROBLEM)
      .put("/v1/domains/example.com")
      .matchHeader("idempotency-key", record)
      .reply(201, domain);
    await client({ clock: fakeClock() }).domains.put({ name: "example.com" }, { ifNoneMatch: "*" });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it("sends no If-None-Match or Idempotency-Key on a plain PUT", async () => {
    const scope = nock(BASE, { badheaders: ["if-none-match", "idempotency-key"] })
      .put("/v1/domains/example.com")
      .reply(200, domain);
    await client().domains.put({ name: "example.com" });
    expect(scope.isDone()).toBe(true);
  });

  it("surfaces a create-only PUT of an existing object as MP_PRECONDITION_FAILED, without retrying", async () => {
    const scope = nock(BASE)
      .put("/v1/domains/example.com")
      .reply(
        412,
        { code: "MP_PRECONDITION_FAILED", status: 412, detail: "Domain example.com already exists" },
        PROBLEM,
      );
    const err = await failure(() => client().domains.put({ name: "example.com" }, { ifNoneMatch: "*" }));
    expect(err).toMatchObject({ code: "MP_PRECONDITION_FAILED", status: 412 });
    expect(scope.isDone()).toBe(true);
  });

  it("uses the Idempotency-Key given", async () => {
    const scope = nock(BASE, { reqheaders: { "idempotency-key": "ci-run-42" } })
      .post("/v1/tokens")
      .reply(201, { id: "tok_1" });
    await client().tokens.create({ role: "read-only" }, { idempotencyKey: "ci-run-42" });
    expect(scope.isDone()).toBe(true);
  });
});

describe("paths and local validation", () => {
  it("normalises the spec and derives the path from its key", async () => {
    const scope = nock(BASE)
      .put(
        "/v1/domains/example.com/routes/mx1.xn--bcher-kva.de:2525",
        (body) => body.host === "mx1.xn--bcher-kva.de",
      )
      .reply(201, {});
    await client().routes.put({ domain: "Example.com", host: "MX1.Bücher.de", port: 2525 });
    expect(scope.isDone()).toBe(true);
  });

  it("sends singletons of the account to the account path", async () => {
    const scope = nock(BASE)
      .delete("/v1/filter-settings")
      .reply(200, { scope: "account" })
      .get("/v1/domains/example.com/password-policy")
      .reply(200, { scope: "example.com" });
    await client().filterSettings.reset("account");
    await client().passwordPolicies.get("example.com");
    expect(scope.isDone()).toBe(true);
  });

  it("passes list queries", async () => {
    const scope = nock(BASE)
      .get("/v1/audit")
      .query({ kind: "User", limit: "10" })
      .reply(200, { items: [], nextCursor: null });
    await expect(client().audit.list({ kind: "User", limit: 10 })).resolves.toEqual({
      items: [],
      nextCursor: null,
    });
    expect(scope.isDone()).toBe(true);
  });

  it("sends report=spam with a queued message's delete (delete and report as spam), and nothing without it", async () => {
    const scope = nock(BASE)
      .delete("/v1/domains/example.com/queue/q1")
      .query({ report: "spam" })
      .reply(204)
      .delete("/v1/domains/example.com/queue/q2")
      .query({})
      .reply(204);
    await client().operations.deleteQueued("example.com", "q1", { report: "spam" });
    await client().operations.deleteQueued("example.com", "q2");
    expect(scope.isDone()).toBe(true);
  });

  it("sends report=ham with an operator's release and report=spam with an operator's delete of a held message, and nothing without", async () => {
    const scope = nock(BASE)
      .post("/v1/domains/example.com/quarantine/h1/release")
      .query({ report: "ham" })
      .reply(200, { id: "h1", queueId: "q1" })
      .delete("/v1/domains/example.com/quarantine/h2")
      .query({ report: "spam" })
      .reply(204)
      .delete("/v1/domains/example.com/quarantine/h3")
      .query({})
      .reply(204);
    await client().operations.release("example.com", "h1", { report: "ham" });
    await client().operations.deleteQuarantined("example.com", "h2", { report: "spam" });
    await client().operations.deleteQuarantined("example.com", "h3");
    expect(scope.isDone()).toBe(true);
  });

  it("sends report=ham with a user's release and report=spam with a user's delete of their held copy, and nothing without", async () => {
    const scope = nock(BASE)
      .post("/v1/me/quarantine/h1/release")
      .query({ report: "ham" })
      .reply(200, { id: "h1", queueId: "q1" })
      .delete("/v1/me/quarantine/h2")
      .query({ report: "spam" })
      .reply(204)
      .post("/v1/me/quarantine/h3/release")
      .query({})
      .reply(200, { id: "h3", queueId: "q3" })
      .delete("/v1/me/quarantine/h4")
      .query({})
      .reply(204);
    await expect(client().me.release("h1", { report: "ham" })).resolves.toEqual({ id: "h1", queueId: "q1" });
    await client().me.deleteQuarantined("h2", { report: "spam" });
    await client().me.release("h3");
    await client().me.deleteQuarantined("h4");
    expect(scope.isDone()).toBe(true);
  });

  it("rejects an invalid spec locally, with its path, before any request", async () => {
    const err = await failure(() => client().routes.put({ domain: "example.com", host: "mx", port: 0 }));
    expect(err.code).toBe("MP_VALIDATION_FAILED");
    expect(err.errors[0]).toMatchObject({ path: ["port"], in: "body" });
  });

  it("reaches every endpoint of the contract through a typed method", async () => {
    const seen = new Set<string>();
    const templates = endpoints.map((e) => ({
      id: e.operationId,
      method: e.method,
      pattern: new RegExp(`^${e.path.replace(/:[A-Za-z]+/g, "[^/]+")}$`),
    }));
    for (const method of ["GET", "PUT", "PATCH", "DELETE", "POST"]) {
      nock(BASE)
        .persist()
        .intercept(() => true, method)
        .reply((request: string) => {
          // nock hands a fetch Request (typed as its URI) to reply functions of function-matched paths.
          const url = typeof request === "string" ? request : (request as unknown as Request).url;
          const path = new URL(url, BASE).pathname;
          const match = templates.find((t) => t.method === method && t.pattern.test(path));
          if (match) seen.add(match.id);
          return [200, {}];
        });
    }
    const c = client();
    const alias: AliasSpecInput = {
      address: "info@example.com",
      action: { type: "forward", to: ["a@example.com"] },
    };
    const list = { domain: "example.com", kind: "block", target: "sender" } as const;
    await Promise.all([
      c.health(),
      c.openApi(),
      c.whoAmI(),
      c.accounts.list(),
      c.accounts.get("acme"),
      c.accounts.put({ id: "acme", name: "ACME" }),
      c.accounts.delete("acme"),
      c.tokens.list(),
      c.tokens.create({ role: "read-only" }),
      c.tokens.get("tok_1"),
      c.tokens.revoke("tok_1"),
      c.audit.list(),
      c.audit.logins("example.com", { user: "alice@example.com", result: "failure" }),
      c.lockouts.list({ locked: "true" }),
      c.lockouts.lift("2001:db8::/64"),
      c.domains.list(),
      c.domains.get("example.com"),
      c.domains.put({ name: "example.com" }),
      c.domains.patch("example.com", {}),
      c.domains.delete("example.com"),
      c.domains.rotateDkim("example.com"),
      c.domains.activateDkim("example.com", "mp20261203a1b2c3"),
      c.routes.list("example.com"),
      c.routes.get("example.com", "mx:25"),
      c.routes.put({ domain: "example.com", host: "mx" }),
      c.routes.patch("example.com", "mx:25", {}),
      c.routes.delete("example.com", "mx:25"),
      c.aliases.list("example.com"),
      c.aliases.get(alias.address),
      c.aliases.put(alias),
      c.aliases.patch(alias.address, {}),
      c.aliases.delete(alias.address),
      c.groups.list("example.com"),
      c.groups.get("team@example.com"),
      c.groups.put({ address: "team@example.com", members: ["a@example.com"] }),
      c.groups.patch("team@example.com", {}),
      c.groups.delete("team@example.com"),
      c.accessRules.list(),
      c.accessRules.get("example.com", "api"),
      c.accessRules.put({ scope: "alice@example.com", service: "smtp-submission", deny: ["192.0.2.0/24"] }),
      c.accessRules.patch("account", "api", { allow: ["2001:db8::/32"] }),
      c.accessRules.delete("example.com", "api"),
      c.senderLists.list("example.com"),
      c.senderLists.get("example.com", "block-sender"),
      c.senderLists.put(list),
      c.senderLists.patch("example.com", "block-sender", {}),
      c.senderLists.delete("example.com", "block-sender"),
      ...(["account", "example.com"] as const).flatMap((scope) => [
        c.filterSettings.get(scope),
        c.filterSettings.put({ scope }),
        c.filterSettings.patch(scope, {}),
        c.filterSettings.reset(scope),
        c.passwordPolicies.get(scope),
        c.passwordPolicies.put({ scope }),
        c.passwordPolicies.patch(scope, {}),
        c.passwordPolicies.reset(scope),
        c.reportSettings.get(scope),
        c.reportSettings.put({ scope }),
        c.reportSettings.patch(scope, {}),
        c.reportSettings.reset(scope),
      ]),
      c.users.list("example.com"),
      c.users.get("alice@example.com"),
      c.users.put({ address: "alice@example.com" }),
      c.users.enable("alice@example.com"),
      c.users.delete("alice@example.com"),
      c.operations.listQuarantine("example.com"),
      c.operations.getQuarantined("example.com", "q1"),
      c.operations.release("example.com", "q1"),
      c.operations.deleteQuarantined("example.com", "q1"),
      c.operations.purgeQuarantine("example.com"),
      c.operations.listQueue("example.com"),
      c.operations.getQueued("example.com", "q1"),
      c.operations.retry("example.com", "q1"),
      c.operations.retryAll("example.com"),
      c.operations.deleteQueued("example.com", "q1"),
      c.operations.searchLog("example.com", { sender: "bob" }),
      c.operations.statistics("example.com"),
      c.operations.clearCalloutCache("example.com"),
      c.operations.report("example.com", "spam", Buffer.from("Subject: x\r\n\r\nx\r\n")),
      c.operations.report("example.com", "ham", Buffer.from("Subject: x\r\n\r\nx\r\n")),
      c.domains.verify("example.com"),
      c.tenancies.get("example.com"),
      c.tenancies.plan({ domains: [{ name: "example.com" }] }),
      c.tenancies.apply({ domains: [{ name: "example.com" }] }, { ifMatch: "t-1" }),
      c.tenancies.delete("example.com"),
      c.sessions.create({ address: "alice@example.com", password: "x" }),
      c.sessions.secondFactor("123456"),
      c.sessions.delete(),
      c.sessions.lostPassword("alice@example.com"),
      c.passwordResets.request("alice@example.com"),
      c.passwordResets.complete("mpr_x.y", "New-Horse-8"),
      c.me.get(),
      c.me.changePassword("old", "new"),
      c.me.enrolTotp(),
      c.me.confirmTotp("123456"),
      c.me.removeTotp("123456"),
      c.me.listAppPasswords(),
      c.me.createAppPassword({ name: "phone", scopes: ["smtp"] }),
      c.me.revokeAppPassword("app_1"),
      c.me.listQuarantine(),
      c.me.getQuarantined("q1"),
      c.me.release("q1"),
      c.me.deleteQuarantined("q1"),
      c.me.searchLog(),
      c.me.loginAudit({ service: "smtp-submission" }),
    ]);
    expect([...seen].sort()).toEqual(endpoints.map((e) => e.operationId).sort());
  });
});

describe("public surface", () => {
  it("shows the endpoint and the API groups as its own properties, and keeps the contract caller private", () => {
    expect(Object.keys(client())).toEqual([
      "endpoint",
      "accounts",
      "tokens",
      "audit",
      "lockouts",
      "tenancies",
      "domains",
      "routes",
      "aliases",
      "groups",
      "accessRules",
      "senderLists",
      "filterSettings",
      "reportSettings",
      "passwordPolicies",
      "users",
      "operations",
      "sessions",
      "passwordResets",
      "me",
    ]);
  });

  it("exports nothing of client/areas/ from mailplane/sdk", async () => {
    const sdk = await import("../../../../sdk/src/index.ts");
    const areas = new URL("../../../../sdk/src/client/areas/", import.meta.url);
    const internal: string[] = [];
    for (const file of await readdir(areas)) {
      internal.push(...Object.keys(await import(new URL(file, areas).href)));
    }
    expect(internal).toContain("contractCaller");
    expect(internal).toContain("routesApi");
    expect(Object.keys(sdk).filter((name) => internal.includes(name))).toEqual([]);
  });
});

describe("a real server on 127.0.0.1:0 (timeouts and broken connections)", () => {
  /** What the server does with each request, in order: answer 200, drop the connection, or never answer. */
  type Action = "ok" | "drop" | "hang";
  let script: Action[] = [];
  let hits = 0;
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      const action = script.shift() ?? "hang";
      if (action === "ok") res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      if (action === "drop") req.socket.destroy();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  async function run(actions: Action[], call: (c: MailplaneClient) => Promise<unknown>, retry = {}) {
    script = actions;
    hits = 0;
    const c = new MailplaneClient({
      endpoint,
      token: "t",
      timeoutMs: 150,
      retry: { minDelayMs: 1, ...retry },
    });
    try {
      return await call(c);
    } finally {
      await c.close();
    }
  }

  it("fails with MP_TIMEOUT and retries an idempotent request within maxRetries", async () => {
    const err = await failure(() =>
      run(["hang", "hang"], (c) => c.domains.get("example.com"), { maxRetries: 1 }),
    );
    expect(err.code).toBe("MP_TIMEOUT");
    expect(err.retryable).toBe(true);
    expect(hits).toBe(2);
  });

  it("does not retry a timed-out PATCH (its effect is unknown)", async () => {
    const err = await failure(() => run(["hang"], (c) => c.users.disable("alice@example.com")));
    expect(err.code).toBe("MP_TIMEOUT");
    expect(hits).toBe(1);
  });

  it("retries a GET whose connection was dropped", async () => {
    await expect(run(["drop", "ok"], (c) => c.domains.get("example.com"))).resolves.toEqual({ ok: true });
    expect(hits).toBe(2);
  });

  it("does not retry a PATCH whose connection was dropped", async () => {
    const err = await failure(() =>
      run(["drop", "ok"], (c) => c.domains.patch("example.com", { maxRetryDays: 2 })),
    );
    expect(err.code).toBe("MP_NETWORK");
    expect(hits).toBe(1);
  });

  it("retries a POST carrying an Idempotency-Key whose connection was dropped", async () => {
    await expect(run(["drop", "ok"], (c) => c.tokens.create({ role: "read-only" }))).resolves.toEqual({
      ok: true,
    });
    expect(hits).toBe(2);
  });

  it("reports a refused connection as MP_NETWORK", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");
    const c = new MailplaneClient({ endpoint: `http://127.0.0.1:${port}`, retry: { maxRetries: 0 } });
    const err = await failure(() => c.health());
    await c.close();
    expect(err.code).toBe("MP_NETWORK");
  });
});
