/**
 * The isolation matrix over real HTTP on both stores, driven by the contract's route table: another
 * tenant's objects are never found (and never changed), domain admins stay inside their domains,
 * read-only tokens cannot write, and unknown, revoked or expired tokens are 401.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoints, fillPath } from "../../../sdk/src/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

/** The start of the refusal's message for a name another account holds but has not verified. */
const UNVERIFIED_HOLD =
  "is held by another account that has not verified it; to take it over, publish _mailplane-verify.";

/** A valid body per kind for `domain`, so requests get past validation to the checks under test. */
function specOf(kind: string, domain: string): Record<string, unknown> {
  switch (kind) {
    case "Domain":
      return { name: domain };
    case "Route":
      return { domain, host: "mx.example.net", port: 25 };
    case "Alias":
      return { address: `info@${domain}`, action: { type: "reject", message: "no" } };
    case "SenderList":
      return { domain, kind: "block", target: "sender", entries: ["spam.example"] };
    case "FilterSettings":
      return { scope: domain };
    case "PasswordPolicy":
      return { scope: domain };
    case "User":
      return { address: `bob@${domain}`, password: "Blue-Kettle-42", enabled: false };
    case "Group":
      return { address: `team@${domain}`, members: [`bob@${domain}`] };
    case "AccessRule":
      return { scope: domain, service: "api", deny: ["192.0.2.0/24"] };
    case "ReportSettings":
      return { scope: domain };
    default:
      throw new Error(kind);
  }
}

const PATCHES: Record<string, Record<string, unknown>> = {
  Domain: { maxRetryDays: 9 },
  Route: { priority: 1 },
  Alias: { action: { type: "reject", message: "changed" } },
  SenderList: { entries: [] },
  FilterSettings: { skipSpf: true },
  PasswordPolicy: { minLength: 10 },
  User: { firstName: "Mallory" },
  Group: { members: [`mallory@evil.example`] },
  AccessRule: { deny: [] },
  ReportSettings: { userReport: true },
};

function paramsFor(domain: string): Record<string, string> {
  return {
    domain,
    route: "mx.example.net:25",
    alias: `info@${domain}`,
    list: "block-sender",
    user: `bob@${domain}`,
    group: `team@${domain}`,
    scope: domain,
    service: "api",
    // The SMTP engine's operations address messages; no such message exists.
    message: "no-such-message",
    // A login lockout key; none exists.
    key: "192.0.2.1",
    // A mail user's application password; none exists.
    appPassword: "app_0000000000000000",
  };
}

/** Every tenancy endpoint that addresses an object under a domain. */
const domainScoped = endpoints.filter((e) => e.kind && e.path.includes(":domain"));

describe.each(BACKENDS)("isolation on $name", (backend) => {
  let h: Harness;
  let a: { id: string; token: string };
  let b: { id: string; token: string };
  let dB: string;

  /** B's objects as B sees them: id → etag. */
  async function snapshotOfB(): Promise<string> {
    const paths = [
      `/v1/domains/${dB}`,
      `/v1/domains/${dB}/routes`,
      `/v1/domains/${dB}/aliases`,
      `/v1/domains/${dB}/sender-lists`,
      `/v1/domains/${dB}/users`,
      `/v1/domains/${dB}/filter-settings`,
      `/v1/domains/${dB}/password-policy`,
      "/v1/tokens",
    ];
    const parts = await Promise.all(paths.map((p) => h.call("GET", p, { token: b.token })));
    return parts.map((p) => p.text).join("\n");
  }

  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant("a");
    b = await h.tenant("b");
    dB = uniqueDomain("b");
    for (const e of endpoints.filter(
      (x) => x.method === "PUT" && x.kind && x.path.startsWith("/v1/domains"),
    )) {
      const res = await h.call("PUT", fillPath(e.path, paramsFor(dB)), {
        token: b.token,
        body: specOf(e.kind!, dB),
      });
      expect([200, 201]).toContain(res.status);
    }
  });
  afterAll(async () => h?.close());

  it("answers tenant A's token on every route of tenant B's objects as if they did not exist", async () => {
    const before = await snapshotOfB();
    const never = uniqueDomain("never");
    expect(domainScoped.length).toBeGreaterThanOrEqual(30);
    for (const e of domainScoped) {
      const label = `${e.operationId} ${e.method} ${e.path}`;
      if (e.operationId === "putDomain") {
        // The domain namespace is global (mail for a domain goes to one tenant): taken, not hidden.
        const taken = await h.call("PUT", `/v1/domains/${dB}`, {
          token: a.token,
          body: specOf("Domain", dB),
        });
        expect(taken.body.code, label).toBe("MP_DOMAIN_TAKEN");
        continue;
      }
      const body =
        e.method === "PUT"
          ? specOf(e.kind!, dB)
          : e.method === "PATCH"
            ? PATCHES[e.kind!]
            : e.method === "POST"
              ? {}
              : undefined;
      const onB = await h.call(e.method, fillPath(e.path, paramsFor(dB)), { token: a.token, body });
      const nowhere = await h.call(e.method, fillPath(e.path, paramsFor(never)), {
        token: a.token,
        body: e.method === "PUT" ? specOf(e.kind!, never) : body,
      });
      // Nothing distinguishes B's objects from objects that never existed.
      expect({ status: onB.status, code: onB.body?.code }, label).toEqual({
        status: nowhere.status,
        code: nowhere.body?.code,
      });
      const singleton = ["filter-settings", "password-policy", "report-settings"].some((p) =>
        e.path.endsWith(p),
      );
      if (e.method === "PUT" && !singleton) {
        expect(onB.body.code, label).toBe("MP_PARENT_NOT_FOUND");
      } else {
        expect(onB.status, label).toBe(404);
      }
    }
    // Tokens and audit entries of B are invisible too; naming B's account is 404.
    const bTokens = await h.call("GET", "/v1/tokens", { token: b.token });
    const bTokenId = bTokens.body.items[0].id as string;
    expect((await h.call("GET", `/v1/tokens/${bTokenId}`, { token: a.token })).status).toBe(404);
    expect((await h.call("DELETE", `/v1/tokens/${bTokenId}`, { token: a.token })).status).toBe(404);
    const aAudit = await h.call("GET", "/v1/audit?limit=500", { token: a.token });
    expect(aAudit.body.items.every((x: { account: string }) => x.account === a.id)).toBe(true);
    expect(aAudit.text).not.toContain(dB);
    const named = await h.call("GET", `/v1/domains/${dB}`, { token: a.token, account: b.id });
    expect(named).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
    const aList = await h.call("GET", "/v1/domains", { token: a.token });
    expect(aList.text).not.toContain(dB);
    // And none of it changed anything of B's.
    expect(await snapshotOfB()).toBe(before);
  });

  it("refuses a domain alias or a name another Domain holds, in this account or another, naming the field", async () => {
    const before = await snapshotOfB();
    const mine = uniqueDomain("a-main");
    const claimed = uniqueDomain("a-alias");
    const put = (name: string, aliases: string[], token = a.token) =>
      h.call("PUT", `/v1/domains/${name}`, { token, body: { name, aliases } });
    expect((await put(mine, [claimed])).status).toBe(201);

    // B's domain as A's alias: taken, without naming B.
    const hijack = await put(uniqueDomain("a-other"), ["free.example", dB]);
    expect(hijack.status).toBe(409);
    expect(hijack.body.code).toBe("MP_DOMAIN_TAKEN");
    expect(hijack.body.errors).toEqual([
      expect.objectContaining({ path: ["aliases", 1], message: expect.stringContaining(UNVERIFIED_HOLD) }),
    ]);
    expect(hijack.text).not.toContain(b.id);
    // Adding it to an existing domain by PATCH is refused the same way, and changes nothing.
    const patched = await h.call("PATCH", `/v1/domains/${mine}`, { token: a.token, body: { aliases: [dB] } });
    expect(patched.body).toMatchObject({ code: "MP_DOMAIN_TAKEN", errors: [{ path: ["aliases", 0] }] });
    expect((await h.call("GET", `/v1/domains/${mine}`, { token: a.token })).body.aliases).toEqual([claimed]);
    expect(await snapshotOfB()).toBe(before);

    // Inside one account the holder is named: an alias of another domain, a domain as an alias,
    // and a new domain whose name is already an alias.
    const second = await put(uniqueDomain("a-second"), [claimed, mine]);
    expect(second.status).toBe(409);
    expect(second.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: ["aliases", 0],
          message: `is already an alias of the domain ${mine}`,
        }),
        expect.objectContaining({ path: ["aliases", 1], message: `is already the domain ${mine}` }),
      ]),
    );
    const asName = await put(claimed, []);
    expect(asName.body).toMatchObject({
      code: "MP_CONFLICT",
      errors: [{ path: ["name"], message: `is already an alias of the domain ${mine}` }],
    });
    // B's alias is B's too: A cannot register it as a domain.
    const bAlias = uniqueDomain("b-alias");
    expect((await put(dB, [bAlias], b.token)).status).toBe(200);
    expect((await put(bAlias, [])).body).toMatchObject({
      code: "MP_DOMAIN_TAKEN",
      errors: [{ path: ["name"], message: expect.stringContaining(UNVERIFIED_HOLD) }],
    });
    // Re-declaring a domain with its own aliases is no conflict; once released, a name is free.
    expect((await put(mine, [claimed])).status).toBe(200);
    expect((await put(mine, [])).status).toBe(200);
    expect((await put(claimed, [])).status).toBe(201);
    expect((await put(dB, [], b.token)).status).toBe(200);
  });

  it("lets exactly one of two tenants claiming one domain alias at the same moment have it", async () => {
    const contested = uniqueDomain("contested");
    const [onA, onB] = await Promise.all(
      [a.token, b.token].map((token, i) => {
        const name = uniqueDomain(`race-${i}`);
        return h.call("PUT", `/v1/domains/${name}`, { token, body: { name, aliases: [contested] } });
      }),
    );
    expect([onA!.status, onB!.status].sort()).toEqual([201, 409]);
    expect([onA, onB].find((r) => r!.status === 409)!.body).toMatchObject({
      code: "MP_DOMAIN_TAKEN",
      errors: [{ path: ["aliases", 0], message: expect.stringContaining(UNVERIFIED_HOLD) }],
    });
  });

  it("keeps account admins out of platform routes", async () => {
    for (const e of endpoints.filter((x) => x.access === "platform-admin")) {
      const res = await h.call(e.method, fillPath(e.path, { account: b.id }), {
        token: a.token,
        ...(e.method === "PUT" ? { body: { id: b.id, name: "x" } } : {}),
      });
      expect(res.status, e.operationId).toBe(403);
      expect(res.body.code).toBe("MP_FORBIDDEN");
    }
  });

  describe("domain admin", () => {
    let mine: string;
    let other: string;
    let da: string;

    beforeAll(async () => {
      mine = uniqueDomain("mine");
      other = uniqueDomain("other");
      for (const d of [mine, other])
        await h.call("PUT", `/v1/domains/${d}`, { token: a.token, body: { name: d } });
      da = await h.token(a.id, "domain-admin", [mine]);
    });

    it("manages objects of its own domains", async () => {
      const route = await h.call("PUT", `/v1/domains/${mine}/routes/mx.example.net:25`, {
        token: da,
        body: specOf("Route", mine),
      });
      expect(route.status).toBe(201);
      expect((await h.call("GET", `/v1/domains/${mine}`, { token: da })).status).toBe(200);
      const list = await h.call("GET", "/v1/domains", { token: da });
      expect(list.body.items.map((d: { id: string }) => d.id)).toEqual([mine]);
      const who = await h.call("GET", "/v1/whoami", { token: da });
      expect(who.body).toMatchObject({ role: "domain-admin", domains: [mine] });
    });

    it("finds nothing outside its domains and may not create domains it was not given", async () => {
      for (const e of domainScoped) {
        if (e.operationId === "putDomain") continue;
        const body =
          e.method === "PUT" ? specOf(e.kind!, other) : e.method === "PATCH" ? PATCHES[e.kind!] : undefined;
        const res = await h.call(e.method, fillPath(e.path, paramsFor(other)), { token: da, body });
        expect({ op: e.operationId, status: res.status, code: res.body?.code }).toEqual({
          op: e.operationId,
          status: 404,
          code: "MP_NOT_FOUND",
        });
      }
      const fresh = uniqueDomain("fresh");
      const create = await h.call("PUT", `/v1/domains/${fresh}`, { token: da, body: { name: fresh } });
      expect(create).toMatchObject({ status: 403, body: { code: "MP_FORBIDDEN" } });
    });

    it("reads but does not change account-wide settings, tokens or the audit log", async () => {
      expect((await h.call("GET", "/v1/filter-settings", { token: da })).status).toBe(200);
      const put = await h.call("PUT", "/v1/filter-settings", { token: da, body: { scope: "account" } });
      expect(put).toMatchObject({ status: 403, body: { code: "MP_FORBIDDEN" } });
      expect((await h.call("DELETE", "/v1/password-policy", { token: da })).status).toBe(403);
      expect((await h.call("GET", "/v1/tokens", { token: da })).status).toBe(403);
      expect((await h.call("POST", "/v1/tokens", { token: da, body: { role: "read-only" } })).status).toBe(
        403,
      );
      expect((await h.call("GET", "/v1/audit", { token: da })).status).toBe(403);
    });
  });

  describe("read-only token", () => {
    it("reads everything of its account and writes nothing (403)", async () => {
      const ro = await h.token(a.id, "read-only");
      const d = uniqueDomain("ro");
      await h.call("PUT", `/v1/domains/${d}`, { token: a.token, body: { name: d } });
      expect((await h.call("GET", `/v1/domains/${d}`, { token: ro })).status).toBe(200);
      expect((await h.call("GET", `/v1/domains/${d}/routes`, { token: ro })).status).toBe(200);
      const writes = endpoints.filter((e) => e.method !== "GET" && e.access !== "public");
      for (const e of writes) {
        const body =
          e.method === "PUT" && e.kind && e.kind !== "Account"
            ? specOf(e.kind, d)
            : e.method === "PATCH" && e.kind
              ? PATCHES[e.kind]
              : e.method === "POST"
                ? { role: "read-only" }
                : undefined;
        const res = await h.call(
          e.method,
          fillPath(e.path, { ...paramsFor(d), account: a.id, token: "tok_x" }),
          {
            token: ro,
            body,
          },
        );
        expect({ op: e.operationId, status: res.status }).toEqual({ op: e.operationId, status: 403 });
      }
      expect((await h.call("GET", `/v1/domains/${d}`, { token: a.token })).body.version).toBeUndefined();
    });
  });

  describe("authentication", () => {
    it("answers 401 to missing, malformed, unknown, revoked and expired tokens", async () => {
      const fresh = await h.tenant("auth");
      const expired = await h.call("POST", "/v1/tokens", {
        token: fresh.token,
        body: { role: "read-only", expiresAt: "2000-01-01T00:00:00.000Z" },
      });
      const revoke = await h.call("POST", "/v1/tokens", { token: fresh.token, body: { role: "read-only" } });
      await h.call("DELETE", `/v1/tokens/${revoke.body.id}`, { token: fresh.token });
      const cases: [string, Record<string, string>][] = [
        ["missing", {}],
        ["malformed", { authorization: "Basic dXNlcjpwYXNz" }],
        ["unknown", { authorization: "Bearer mp_not-a-real-token" }],
        ["revoked", { authorization: `Bearer ${revoke.body.token}` }],
      ];
      if (expired.status === 201) cases.push(["expired", { authorization: `Bearer ${expired.body.token}` }]);
      for (const [what, headers] of cases) {
        const res = await h.call("GET", "/v1/domains", { headers });
        expect({ what, status: res.status, code: res.body.code }).toEqual({
          what,
          status: 401,
          code: "MP_UNAUTHORIZED",
        });
      }
    });

    it("needs the account named for a platform admin, and answers 404 for an account that does not exist", async () => {
      const none = await h.call("GET", "/v1/domains", { token: h.adminToken });
      expect(none).toMatchObject({ status: 400, body: { code: "MP_ACCOUNT_REQUIRED" } });
      const missing = await h.call("GET", "/v1/domains", { token: h.adminToken, account: "no-such-account" });
      expect(missing).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
      const ok = await h.call("GET", "/v1/domains", { token: h.adminToken, account: b.id });
      expect(ok.text).toContain(dB);
    });
  });
});
