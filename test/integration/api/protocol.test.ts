/** HTTP semantics over real HTTP on both stores: If-Match/412, If-None-Match: *, Idempotency-Key, problem+json for protocol and parser errors. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";
import { rawHttp } from "./raw-http.ts";

describe.each(BACKENDS)("control plane protocol on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(async () => h?.close());

  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    h.call(method, path, {
      token: t.token,
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });

  describe("If-Match", () => {
    it("answers 412 on a stale ETag for PUT, PATCH and DELETE, and changes nothing", async () => {
      const d = uniqueDomain();
      const v1 = await call("PUT", `/v1/domains/${d}`, { name: d });
      const stale = v1.headers.etag as string;
      const v2 = await call("PATCH", `/v1/domains/${d}`, { maxRetryDays: 2 }, { "if-match": stale });
      expect(v2.status).toBe(200);
      for (const [method, body] of [
        ["PUT", { name: d, maxRetryDays: 3 }],
        ["PATCH", { maxRetryDays: 3 }],
        ["DELETE", undefined],
      ] as const) {
        const res = await call(method, `/v1/domains/${d}`, body, { "if-match": stale });
        expect(res).toMatchObject({
          status: 412,
          headers: { "content-type": expect.stringContaining("application/problem+json") },
          body: {
            code: "MP_PRECONDITION_FAILED",
            status: 412,
            type: expect.stringContaining("precondition-failed"),
          },
        });
      }
      const now = await call("GET", `/v1/domains/${d}`);
      expect(now.body).toMatchObject({ maxRetryDays: 2, etag: v2.body.etag });
      expect(
        (await call("DELETE", `/v1/domains/${d}`, undefined, { "if-match": now.headers.etag as string }))
          .status,
      ).toBe(204);
    });

    it("accepts the current ETag quoted, unquoted, in a list, or *", async () => {
      const d = uniqueDomain();
      const v1 = await call("PUT", `/v1/domains/${d}`, { name: d });
      const v2 = await call("PATCH", `/v1/domains/${d}`, { maxRetryDays: 2 }, { "if-match": v1.body.etag });
      const v3 = await call(
        "PATCH",
        `/v1/domains/${d}`,
        { maxRetryDays: 3 },
        { "if-match": `"x", ${v2.headers.etag}` },
      );
      expect(v3.status).toBe(200);
      expect((await call("PATCH", `/v1/domains/${d}`, { maxRetryDays: 4 }, { "if-match": "*" })).status).toBe(
        200,
      );
      // A weak tag never satisfies If-Match (RFC 9110 §13.1.1 uses the strong comparison).
      const weak = await call(
        "PATCH",
        `/v1/domains/${d}`,
        { maxRetryDays: 5 },
        { "if-match": `W/"${v3.body.etag}"` },
      );
      expect(weak.status).toBe(412);
    });

    it("answers 412 for If-Match on an object that does not exist", async () => {
      const d = uniqueDomain();
      const res = await call("PUT", `/v1/domains/${d}`, { name: d }, { "if-match": '"whatever"' });
      expect(res).toMatchObject({ status: 412, body: { code: "MP_PRECONDITION_FAILED" } });
    });

    it('guards singletons at their defaults with the etag "defaults"', async () => {
      const set = await call(
        "PUT",
        "/v1/filter-settings",
        { scope: "account", skipSpf: true },
        { "if-match": '"defaults"' },
      );
      expect(set.status).toBe(200);
      const again = await call(
        "PUT",
        "/v1/filter-settings",
        { scope: "account" },
        { "if-match": '"defaults"' },
      );
      expect(again).toMatchObject({ status: 412, body: { code: "MP_PRECONDITION_FAILED" } });
      const reset = await call("DELETE", "/v1/filter-settings", undefined, {
        "if-match": set.headers.etag as string,
      });
      expect(reset.body.etag).toBe("defaults");
      const staleReset = await call("DELETE", "/v1/filter-settings", undefined, {
        "if-match": set.headers.etag as string,
      });
      expect(staleReset.status).toBe(412);
    });
  });

  describe("If-None-Match: * (create only)", () => {
    const createOnly = { "if-none-match": "*" };

    it("creates with 201, then answers 412 and leaves the existing object as it is", async () => {
      const d = uniqueDomain();
      const created = await call("PUT", `/v1/domains/${d}`, { name: d, maxRetryDays: 2 }, createOnly);
      expect(created).toMatchObject({ status: 201, body: { name: d, maxRetryDays: 2 } });
      const again = await call("PUT", `/v1/domains/${d}`, { name: d, maxRetryDays: 3 }, createOnly);
      expect(again).toMatchObject({
        status: 412,
        headers: { "content-type": expect.stringContaining("application/problem+json") },
        body: { code: "MP_PRECONDITION_FAILED", status: 412, detail: `Domain ${d} already exists` },
      });
      const now = await call("GET", `/v1/domains/${d}`);
      expect(now.body).toMatchObject({ maxRetryDays: 2, etag: created.body.etag });
      // Without the header, PUT still replaces.
      expect((await call("PUT", `/v1/domains/${d}`, { name: d, maxRetryDays: 3 })).status).toBe(200);
    });

    it("guards objects under a domain and users too (a refused user keeps its password)", async () => {
      const d = uniqueDomain();
      await call("PUT", `/v1/domains/${d}`, { name: d });
      const alias = { address: `info@${d}`, action: { type: "forward", to: [`ken@${d}`] } };
      expect((await call("PUT", `/v1/domains/${d}/aliases/info@${d}`, alias, createOnly)).status).toBe(201);
      expect((await call("PUT", `/v1/domains/${d}/aliases/info@${d}`, alias, createOnly)).status).toBe(412);
      const user = { address: `alice@${d}`, password: "Blue-Kettle-42" };
      const first = await call("PUT", `/v1/domains/${d}/users/alice@${d}`, user, createOnly);
      expect(first.status).toBe(201);
      const second = await call(
        "PUT",
        `/v1/domains/${d}/users/alice@${d}`,
        { ...user, password: "Red-Kettle-43" },
        createOnly,
      );
      expect(second).toMatchObject({ status: 412, body: { code: "MP_PRECONDITION_FAILED" } });
      const after = await call("GET", `/v1/domains/${d}/users/alice@${d}`);
      expect(after.body.etag).toBe(first.body.etag);
      expect(after.body.passwordChangedAt).toBe(first.body.passwordChangedAt);
    });

    it("lets exactly one of concurrent creates of one object through", async () => {
      const d = uniqueDomain();
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call("PUT", `/v1/domains/${d}`, { name: d, maxRetryDays: i + 1 }, createOnly),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([201, 412, 412, 412, 412, 412, 412, 412]);
      const winner = answers.find((a) => a.status === 201)!;
      const now = await call("GET", `/v1/domains/${d}`);
      expect(now.body).toMatchObject({ maxRetryDays: winner.body.maxRetryDays, etag: winner.body.etag });
    });

    it("answers a retried create with the same Idempotency-Key as the first attempt, not 412", async () => {
      const d = uniqueDomain();
      const headers = { ...createOnly, "idempotency-key": `create-${d}` };
      const first = await call("PUT", `/v1/domains/${d}`, { name: d }, headers);
      expect(first.status).toBe(201);
      const retried = await call("PUT", `/v1/domains/${d}`, { name: d }, headers);
      expect(retried).toMatchObject({
        status: 201,
        body: first.body,
        headers: { "idempotent-replayed": "true", etag: first.headers.etag },
      });
      // Another key is another create: the object exists, so 412.
      const other = await call(
        "PUT",
        `/v1/domains/${d}`,
        { name: d },
        { ...headers, "idempotency-key": "x" },
      );
      expect(other.status).toBe(412);
      // The same key with another body is a client error, not a replay.
      const reused = await call("PUT", `/v1/domains/${d}`, { name: d, maxRetryDays: 9 }, headers);
      expect(reused).toMatchObject({ status: 422, body: { code: "MP_IDEMPOTENCY_KEY_REUSED" } });
    });

    it("applies concurrent retries of one create once, answering each with the first answer", async () => {
      const d = uniqueDomain();
      const headers = { ...createOnly, "idempotency-key": `burst-${d}` };
      const burst = await Promise.all(
        Array.from({ length: 6 }, () => call("PUT", `/v1/domains/${d}`, { name: d }, headers)),
      );
      expect(new Set(burst.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(burst.map((r) => r.body.etag)).size).toBe(1);
    });

    it("accepts only * (entity tags are 400, in headers)", async () => {
      const d = uniqueDomain();
      const res = await call("PUT", `/v1/domains/${d}`, { name: d }, { "if-none-match": '"abc"' });
      expect(res).toMatchObject({
        status: 400,
        body: { code: "MP_BAD_REQUEST", errors: [{ path: ["if-none-match"], in: "headers" }] },
      });
      expect((await call("GET", `/v1/domains/${d}`)).status).toBe(404);
    });
  });

  describe("Idempotency-Key", () => {
    it("answers a repeated create with the same key and body with the first answer, once created", async () => {
      const body = { role: "read-only", description: "ci" };
      const first = await call("POST", "/v1/tokens", body, { "idempotency-key": "key-one" });
      expect(first.status).toBe(201);
      const second = await call("POST", "/v1/tokens", body, { "idempotency-key": "key-one" });
      expect(second).toMatchObject({
        status: 201,
        body: first.body,
        headers: { "idempotent-replayed": "true" },
      });
      expect(second.headers.etag).toBe(first.headers.etag);
      const tokens = await call("GET", "/v1/tokens?limit=500");
      expect(tokens.body.items.filter((x: { id: string }) => x.id === first.body.id)).toHaveLength(1);
      expect(tokens.body.items.filter((x: { description: string }) => x.description === "ci")).toHaveLength(
        1,
      );
      // The replayed secret works: it is the token that was created.
      expect((await h.call("GET", "/v1/whoami", { token: second.body.token })).body.tokenId).toBe(
        first.body.id,
      );
    });

    it("answers 422 when the same key comes with another body", async () => {
      await call("POST", "/v1/tokens", { role: "read-only" }, { "idempotency-key": "key-two" });
      const other = await call(
        "POST",
        "/v1/tokens",
        { role: "account-admin" },
        { "idempotency-key": "key-two" },
      );
      expect(other).toMatchObject({ status: 422, body: { code: "MP_IDEMPOTENCY_KEY_REUSED" } });
    });

    it("keeps keys apart per token, and applies concurrent retries of one create once", async () => {
      const other = await h.tenant();
      const a = await call("POST", "/v1/tokens", { role: "read-only" }, { "idempotency-key": "shared" });
      const b = await h.call("POST", "/v1/tokens", {
        token: other.token,
        body: { role: "read-only" },
        headers: { "idempotency-key": "shared" },
      });
      expect(b.status).toBe(201);
      expect(b.body.id).not.toBe(a.body.id);
      const burst = await Promise.all(
        Array.from({ length: 8 }, () =>
          call("POST", "/v1/tokens", { role: "read-only" }, { "idempotency-key": "burst" }),
        ),
      );
      expect(new Set(burst.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
    });
  });

  describe("protocol errors as problem+json", () => {
    it("answers an unknown path with 404 and a known path's other method with 405 and Allow", async () => {
      const unknown = await call("GET", "/v1/nothing-here");
      expect(unknown).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
      const wrong = await call("POST", "/v1/domains", { name: uniqueDomain() });
      expect(wrong).toMatchObject({ status: 405, body: { code: "MP_METHOD_NOT_ALLOWED" } });
      expect(wrong.headers.allow).toBe("GET, HEAD");
      // TRACE and OPTIONS too (RFC 9110 §15.5.6), not a 404 that would say the path does not exist.
      for (const method of ["TRACE", "OPTIONS"] as const) {
        const other = await call(method, "/v1/whoami");
        expect(other, method).toMatchObject({ status: 405, body: { code: "MP_METHOD_NOT_ALLOWED" } });
        expect(other.headers.allow).toBe("GET, HEAD");
      }
    });

    it("rejects a body that is not JSON with 415, broken JSON with 400 and an oversized body with 413", async () => {
      const d = uniqueDomain();
      const text = await call("PUT", `/v1/domains/${d}`, "name=x", { "content-type": "text/plain" });
      expect(text).toMatchObject({ status: 415, body: { code: "MP_UNSUPPORTED_MEDIA_TYPE" } });
      const broken = await call("PUT", `/v1/domains/${d}`, '{"name": ', {
        "content-type": "application/json",
      });
      expect(broken).toMatchObject({ status: 400, body: { code: "MP_BAD_REQUEST" } });
      const big = await call("PUT", `/v1/domains/${d}`, { name: d, x: "a".repeat(2 * 1024 * 1024) });
      expect(big).toMatchObject({ status: 413, body: { code: "MP_PAYLOAD_TOO_LARGE" } });
    });

    it("accepts merge-patch+json for PATCH", async () => {
      const d = uniqueDomain();
      await call("PUT", `/v1/domains/${d}`, { name: d });
      const res = await call("PATCH", `/v1/domains/${d}`, JSON.stringify({ maxRetryDays: 6 }), {
        "content-type": "application/merge-patch+json",
      });
      expect(res).toMatchObject({ status: 200, body: { maxRetryDays: 6 } });
    });

    it("carries type, title, status, detail, code, instance and requestId in every problem", async () => {
      const res = await h.call("GET", "/v1/domains");
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toContain("Bearer");
      expect(res.body).toEqual({
        type: "https://mailplane.dev/problems/unauthorized",
        title: expect.any(String),
        status: 401,
        detail: expect.any(String),
        code: "MP_UNAUTHORIZED",
        instance: "/v1/domains",
        requestId: res.headers["request-id"],
      });
    });
  });
  describe("errors before routing as problem+json (router, Node's parser)", () => {
    const PROBLEM = "application/problem+json";

    it("answers a path that is not valid percent-encoded UTF-8 with 400 MP_BAD_REQUEST", async () => {
      const res = await call("GET", "/v1/domains/%ff%fe");
      expect(res).toMatchObject({
        status: 400,
        headers: { "content-type": expect.stringContaining(PROBLEM) },
        body: { code: "MP_BAD_REQUEST", status: 400, instance: "/v1/domains/%ff%fe" },
      });
    });

    it("answers an 8,000-character path segment with 414 MP_URI_TOO_LONG, echoing at most 200 characters of it", async () => {
      const segment = "a".repeat(8_000);
      const res = await call("GET", `/v1/domains/${segment}?q=${"b".repeat(50)}`);
      expect(res).toMatchObject({
        status: 414,
        headers: { "content-type": expect.stringContaining(PROBLEM) },
        body: { code: "MP_URI_TOO_LONG", status: 414 },
      });
      expect(res.text).not.toContain("a".repeat(201));
      expect(res.text).not.toContain("bbbb");
      expect(res.body.instance.length).toBeLessThanOrEqual(201);
    });

    it("answers a request line over the header limit with 431 MP_HEADERS_TOO_LARGE, echoing none of it", async () => {
      const path = `/v1/domains/${"c".repeat(20_000)}`;
      const res = await rawHttp(h.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(res.status).toBe(431);
      expect(res.headers["content-type"]).toContain(PROBLEM);
      expect(res.headers.connection).toBe("close");
      expect(JSON.parse(res.body)).toMatchObject({ code: "MP_HEADERS_TOO_LARGE", status: 431 });
      expect(res.raw).not.toContain("cccc");
    });

    it("answers headers over the limit with 431 MP_HEADERS_TOO_LARGE", async () => {
      const res = await rawHttp(
        h.url,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${"d".repeat(20_000)}\r\n\r\n`,
      );
      expect(res.status).toBe(431);
      expect(JSON.parse(res.body)).toMatchObject({ code: "MP_HEADERS_TOO_LARGE" });
      expect(res.raw).not.toContain("dddd");
    });

    it("answers a method Node's parser does not know with 501 MP_NOT_IMPLEMENTED", async () => {
      const res = await rawHttp(h.url, "FROB /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(res.status).toBe(501);
      expect(res.headers["content-type"]).toContain(PROBLEM);
      expect(JSON.parse(res.body)).toMatchObject({ code: "MP_NOT_IMPLEMENTED", status: 501 });
    });

    it("answers a method the parser knows but the API does not route with 501 MP_NOT_IMPLEMENTED", async () => {
      const res = await rawHttp(
        h.url,
        "PROPFIND /v1/domains HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      expect(res.status).toBe(501);
      expect(res.headers["content-type"]).toContain(PROBLEM);
      expect(JSON.parse(res.body)).toMatchObject({ code: "MP_NOT_IMPLEMENTED", instance: "/v1/domains" });
    });

    it("answers QUERY on a known path with 405 and Allow, and on an unknown path with 404, never a 5xx", async () => {
      const known = await rawHttp(
        h.url,
        "QUERY /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
      );
      expect(known.status, known.body).toBe(405);
      expect(known.headers.allow).toContain("GET");
      expect(JSON.parse(known.body)).toMatchObject({ code: "MP_METHOD_NOT_ALLOWED", status: 405 });
      const unknown = await rawHttp(
        h.url,
        "QUERY /v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
      );
      expect(unknown.status).toBe(404);
      expect(unknown.headers["content-type"]).toContain(PROBLEM);
    });

    it("answers a request that is not HTTP at all with 400 MP_BAD_REQUEST", async () => {
      const res = await rawHttp(h.url, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
      expect(res.status).toBe(400);
      expect(res.headers["content-type"]).toContain(PROBLEM);
      expect(JSON.parse(res.body)).toMatchObject({ code: "MP_BAD_REQUEST", status: 400 });
    });
  });
});
