/** CRUD for every kind over real HTTP, on SQLite and on PostgreSQL. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../../platform/api/app.ts";
import { endpoints as adminEndpoints } from "../../../sdk/src/contract/admin.ts";
import { endpoints as tenancyEndpoints } from "../../../sdk/src/contract/tenancy.ts";
import { fillPath } from "../../../sdk/src/index.ts";

/** The control plane's own endpoints (the SMTP engine's operations are tested with the engine). */
const endpoints = [...adminEndpoints, ...tenancyEndpoints];

import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

describe.each(BACKENDS)("control plane CRUD on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };
  let as: { token: string; account: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    as = { token: t.token, account: t.id };
  });
  afterAll(async () => h?.close());

  const put = (path: string, body: unknown, headers?: Record<string, string>) =>
    h.call("PUT", path, { token: t.token, body, ...(headers ? { headers } : {}) });
  const get = (path: string) => h.call("GET", path, { token: t.token });
  const patch = (path: string, body: unknown, headers?: Record<string, string>) =>
    h.call("PATCH", path, { token: t.token, body, ...(headers ? { headers } : {}) });
  const del = (path: string, headers?: Record<string, string>) =>
    h.call("DELETE", path, { token: t.token, ...(headers ? { headers } : {}) });

  async function domain(): Promise<string> {
    const name = uniqueDomain();
    const res = await put(`/v1/domains/${name}`, { name });
    expect(res.status).toBe(201);
    return name;
  }

  it("serves /healthz and the generated OpenAPI document without a token", async () => {
    const health = await h.call("GET", "/healthz");
    expect(health).toMatchObject({ status: 200, body: { status: "ok", version: expect.any(String) } });
    const openapi = await h.call("GET", "/openapi.json");
    expect(openapi.status).toBe(200);
    expect(openapi.text).toBe(readFileSync(join(packageRoot(), "schema", "openapi.json"), "utf8"));
    expect(openapi.body.openapi).toMatch(/^3\.1/);
  });

  it("answers every GET and every write with a body that parses as the contract's response schema", async () => {
    const d = await domain();
    const params = {
      domain: d,
      route: "mx.example.net:25",
      alias: `info@${d}`,
      list: "block-sender",
      user: `bob@${d}`,
      group: `team@${d}`,
      scope: d,
      service: "api",
      account: t.id,
    };
    const bodies: Record<string, unknown> = {
      Route: { domain: d, host: "mx.example.net" },
      Alias: { address: `info@${d}`, action: { type: "autoReply", subject: "s", body: "b" } },
      SenderList: { domain: d, kind: "block", target: "sender", entries: ["x.example"] },
      User: { address: `bob@${d}`, password: "Blue-Kettle-42" },
      Group: { address: `team@${d}`, members: [`bob@${d}`] },
      AccessRule: { scope: d, service: "api", allow: ["192.0.2.0/24"] },
    };
    const checked: string[] = [];
    const check = (operationId: string, body: unknown) => {
      const e = endpoints.find((x) => x.operationId === operationId)!;
      const parsed = e.response!.safeParse(body);
      expect(parsed.success ? "ok" : JSON.stringify(parsed.error.issues), operationId).toBe("ok");
      checked.push(operationId);
    };
    for (const e of endpoints.filter((x) => x.method === "PUT" && x.kind && bodies[x.kind])) {
      const res = await put(fillPath(e.path, params), bodies[e.kind!]);
      check(e.operationId, res.body);
    }
    const tokenId = (await get("/v1/tokens")).body.items[0].id as string;
    // Operations endpoints need an SMTP engine in the process (503 without one): they are covered by
    // test/integration/smtp/operations-api.test.ts.
    for (const e of endpoints.filter(
      (x) => x.method === "GET" && x.response && x.operationId !== "getOpenApi" && x.tag !== "Operations",
    )) {
      const token = e.access === "platform-admin" ? h.adminToken : t.token;
      const res = await h.call("GET", fillPath(e.path, { ...params, token: tokenId }), { token });
      expect(res.status, e.operationId).toBe(200);
      check(e.operationId, res.body);
    }
    expect(checked.length).toBeGreaterThanOrEqual(20);
  });

  it("tells a token who it is", async () => {
    const me = await h.call("GET", "/v1/whoami", as);
    expect(me.body).toEqual({
      tokenId: expect.stringMatching(/^tok_/),
      account: t.id,
      role: "account-admin",
      domains: [],
      limits: {},
      usage: {
        domains: expect.any(Number),
        users: expect.any(Number),
        aliases: expect.any(Number),
        groups: expect.any(Number),
      },
    });
  });

  it("creates, reads, replaces, patches, lists and deletes a domain, with ETags and DNS records", async () => {
    const name = uniqueDomain("Upper").toUpperCase();
    const lower = name.toLowerCase();
    const alias = uniqueDomain("alias");
    const created = await put(`/v1/domains/${name}`, {
      name,
      aliases: [alias],
      timezone: "Europe/Amsterdam",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: lower, name: lower, aliases: [alias], logRetentionDays: 28 });
    expect(created.headers.etag).toBe(`"${created.body.etag}"`);
    const records = created.body.dnsRecords as { type: string; name: string; purpose: string }[];
    // The domain's own DKIM selector, published for the domain and each alias domain.
    const selector = records[2]!.name.split(".")[0]!;
    expect(selector).toMatch(/^mp\d{8}[0-9a-f]{6}$/);
    expect(records.map((r) => `${r.purpose} ${r.name}`)).toEqual([
      `mx ${lower}`,
      `spf ${lower}`,
      `dkim ${selector}._domainkey.${lower}`,
      `dmarc _dmarc.${lower}`,
      `verification _mailplane-verify.${lower}`,
      `mx ${alias}`,
      `spf ${alias}`,
      `dkim ${selector}._domainkey.${alias}`,
      `dmarc _dmarc.${alias}`,
      `verification _mailplane-verify.${alias}`,
    ]);
    expect(records[4]).toMatchObject({
      type: "TXT",
      value: expect.stringMatching(/^mailplane-verification=[0-9a-f]{32}$/),
    });
    // A new domain is pending: no mail flows for it until it is verified.
    expect(created.body.verification).toEqual([
      { name: lower, status: "pending", method: null, verifiedAt: null, lastCheck: null },
      { name: alias, status: "pending", method: null, verifiedAt: null, lastCheck: null },
    ]);
    expect(records[2]).toMatchObject({ type: "TXT", value: expect.stringMatching(/^v=DKIM1; k=rsa; p=MII/) });

    const read = await get(`/v1/domains/${lower}`);
    expect(read).toMatchObject({ status: 200, body: { etag: created.body.etag } });
    const same = await put(`/v1/domains/${lower}`, {
      name: lower,
      aliases: [alias],
      timezone: "Europe/Amsterdam",
    });
    expect(same.status).toBe(200);
    expect(same.body.etag).toBe(created.body.etag);
    const replaced = await put(`/v1/domains/${lower}`, { name: lower });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ aliases: [], timezone: "UTC" });
    expect(replaced.body.etag).not.toBe(created.body.etag);
    const patched = await patch(`/v1/domains/${lower}`, { maxRetryDays: 7 });
    expect(patched.body).toMatchObject({ maxRetryDays: 7, timezone: "UTC" });

    const list = await get("/v1/domains?limit=500");
    expect(list.body.items.map((d: { id: string }) => d.id)).toContain(lower);
    expect(await del(`/v1/domains/${lower}`)).toMatchObject({ status: 204, text: "" });
    expect(await get(`/v1/domains/${lower}`)).toMatchObject({ status: 404, body: { code: "MP_NOT_FOUND" } });
  });

  it("manages routes, including IPv6 hosts, under their domain", async () => {
    const d = await domain();
    const r1 = await put(`/v1/domains/${d}/routes/MX1.example.net:25`, {
      domain: d,
      host: "MX1.example.net",
    });
    expect(r1).toMatchObject({
      status: 201,
      body: { id: `${d}/routes/mx1.example.net:25`, port: 25, priority: 10 },
    });
    const v6 = await put(`/v1/domains/${d}/routes/%5B2001:db8::1%5D:2525`, {
      domain: d,
      host: "2001:DB8:0::1",
      port: 2525,
      tls: "required",
    });
    expect(v6).toMatchObject({
      status: 201,
      body: { host: "2001:db8::1", id: `${d}/routes/[2001:db8::1]:2525` },
    });
    const p = await patch(`/v1/domains/${d}/routes/mx1.example.net:25`, { priority: 5 });
    expect(p.body.priority).toBe(5);
    const list = await get(`/v1/domains/${d}/routes`);
    expect(list.body.items.map((r: { host: string }) => r.host)).toEqual(["2001:db8::1", "mx1.example.net"]);
    expect((await del(`/v1/domains/${d}/routes/%5B2001:db8::1%5D:2525`)).status).toBe(204);
    expect((await get(`/v1/domains/${d}/routes`)).body.items).toHaveLength(1);
  });

  it("manages forwarding, rejecting, auto-reply and catch-all aliases", async () => {
    const d = await domain();
    const fwd = await put(`/v1/domains/${d}/aliases/Sales@${d}`, {
      address: `Sales@${d}`,
      action: { type: "forward", to: [`ken@${d}`, `donna@${d}`, `ken@${d}`] },
    });
    expect(fwd).toMatchObject({
      status: 201,
      body: { id: `sales@${d}`, domain: d, action: { type: "forward", to: [`donna@${d}`, `ken@${d}`] } },
    });
    const rej = await put(`/v1/domains/${d}/aliases/joe@${d}`, {
      address: `joe@${d}`,
      action: { type: "reject", message: "Joe no longer works here" },
    });
    expect(rej.status).toBe(201);
    const auto = await put(`/v1/domains/${d}/aliases/info@${d}`, {
      address: `info@${d}`,
      action: { type: "autoReply", subject: "Away", body: "Back Monday." },
    });
    expect(auto.body.action).toMatchObject({ type: "autoReply", periodDays: 1, copyTo: [] });
    const catchAll = await put(`/v1/domains/${d}/aliases/*@${d}`, {
      address: `*@${d}`,
      action: { type: "forward", to: [`postmaster@${d}`] },
    });
    expect(catchAll.body.id).toBe(`*@${d}`);
    const changed = await patch(`/v1/domains/${d}/aliases/joe@${d}`, {
      action: { type: "reject", message: "Gone" },
    });
    expect(changed.body.action.message).toBe("Gone");
    expect((await get(`/v1/domains/${d}/aliases`)).body.items).toHaveLength(4);
    expect((await del(`/v1/domains/${d}/aliases/*@${d}`)).status).toBe(204);
  });

  it("manages the four sender lists of a domain", async () => {
    const d = await domain();
    for (const [kind, target] of [
      ["allow", "sender"],
      ["block", "sender"],
      ["allow", "recipient"],
      ["block", "recipient"],
    ]) {
      const entries = target === "sender" ? ["Spam.Example", "bob@example.net"] : ["nofilter", "*"];
      const res = await put(`/v1/domains/${d}/sender-lists/${kind}-${target}`, {
        domain: d,
        kind,
        target,
        entries,
      });
      expect(res.status).toBe(201);
    }
    const block = await get(`/v1/domains/${d}/sender-lists/block-sender`);
    expect(block.body.entries).toEqual(["*@spam.example", "bob@example.net"]);
    const allowRcpt = await get(`/v1/domains/${d}/sender-lists/allow-recipient`);
    expect(allowRcpt.body.entries).toEqual([`*@${d}`, `nofilter@${d}`]);
    const p = await patch(`/v1/domains/${d}/sender-lists/block-sender`, { entries: [] });
    expect(p.body.entries).toEqual([]);
    expect((await get(`/v1/domains/${d}/sender-lists`)).body.items).toHaveLength(4);
    expect((await get(`/v1/domains/${d}/sender-lists/nope-sender`)).status).toBe(404);
  });

  for (const [path, name, field, value] of [
    ["filter-settings", "FilterSettings", "quarantineThreshold", 0.8],
    ["password-policy", "PasswordPolicy", "minLength", 12],
  ] as const) {
    it(`answers ${name} defaults until set, sets, patches and resets them (account and domain scope)`, async () => {
      const d = await domain();
      const scopes: [string, string][] = [
        [`/v1/${path}`, "account"],
        [`/v1/domains/${d}/${path}`, d],
      ];
      for (const [at, scope] of scopes) {
        const defaults = await get(at);
        expect(defaults).toMatchObject({ status: 200, body: { scope, etag: "defaults" } });
        expect(defaults.headers.etag).toBe('"defaults"');
        const set = await put(at, { scope, [field]: value }, { "if-match": '"defaults"' });
        expect(set).toMatchObject({ status: 200, body: { scope, [field]: value } });
        expect(set.body.etag).not.toBe("defaults");
        expect((await get(at)).body[field]).toBe(value);
        const patched = await patch(at, { [field]: value === 0.8 ? 0.85 : 14 });
        expect(patched.body[field]).toBe(value === 0.8 ? 0.85 : 14);
        const reset = await del(at);
        expect(reset).toMatchObject({
          status: 200,
          body: { etag: "defaults", [field]: defaults.body[field] },
        });
        expect((await get(at)).body).toEqual(
          expect.objectContaining({ etag: "defaults", [field]: defaults.body[field] }),
        );
      }
      const wrongScope = await put(`/v1/${path}`, { scope: d });
      expect(wrongScope).toMatchObject({
        status: 422,
        body: { errors: [expect.objectContaining({ path: ["scope"] })] },
      });
    });
  }

  it("creates users with a hashed password, disables, enables, and deletes only disabled users", async () => {
    const d = await domain();
    const u = `/v1/domains/${d}/users/alice@${d}`;
    const created = await put(u, { address: `Alice@${d}`, firstName: "Alice", password: "Blue-Kettle-42" });
    expect(created).toMatchObject({
      status: 201,
      body: { id: `alice@${d}`, domain: d, enabled: true, passwordChangedAt: expect.any(String) },
    });
    expect(created.body).not.toHaveProperty("password");
    const noPassword = await put(`/v1/domains/${d}/users/bob@${d}`, { address: `bob@${d}` });
    expect(noPassword).toMatchObject({
      status: 422,
      body: { errors: [expect.objectContaining({ path: ["password"] })] },
    });
    const keep = await put(u, { address: `alice@${d}`, firstName: "Alicia" });
    expect(keep.body).toMatchObject({
      firstName: "Alicia",
      passwordChangedAt: created.body.passwordChangedAt,
    });
    const refused = await del(u);
    expect(refused).toMatchObject({ status: 409, body: { code: "MP_USER_ENABLED" } });
    const disabled = await patch(u, { enabled: false });
    expect(disabled.body.enabled).toBe(false);
    const enabled = await patch(u, { enabled: true });
    expect(enabled.body.enabled).toBe(true);
    await patch(u, { enabled: false });
    expect((await del(u)).status).toBe(204);
    expect((await get(u)).status).toBe(404);
  });

  it("refuses to delete a domain while it holds objects, and takes its settings along", async () => {
    const d = await domain();
    await put(`/v1/domains/${d}/routes/mx.example.net:25`, { domain: d, host: "mx.example.net" });
    await put(`/v1/domains/${d}/filter-settings`, { scope: d, skipSpf: true });
    const refused = await del(`/v1/domains/${d}`);
    expect(refused).toMatchObject({
      status: 409,
      body: { code: "MP_CONFLICT", detail: expect.stringContaining("Route") },
    });
    await del(`/v1/domains/${d}/routes/mx.example.net:25`);
    expect((await del(`/v1/domains/${d}`)).status).toBe(204);
    // A new domain of that name starts from the defaults again.
    await put(`/v1/domains/${d}`, { name: d });
    expect((await get(`/v1/domains/${d}/filter-settings`)).body).toMatchObject({
      skipSpf: false,
      etag: "defaults",
    });
  });

  it("refuses objects under a missing domain and a domain another account holds", async () => {
    const missing = uniqueDomain("missing");
    const orphan = await put(`/v1/domains/${missing}/routes/mx.example.net:25`, {
      domain: missing,
      host: "mx.example.net",
    });
    expect(orphan).toMatchObject({ status: 409, body: { code: "MP_PARENT_NOT_FOUND" } });
    const d = await domain();
    const other = await h.tenant("other");
    const taken = await h.call("PUT", `/v1/domains/${d}`, { token: other.token, body: { name: d } });
    expect(taken).toMatchObject({ status: 409, body: { code: "MP_DOMAIN_TAKEN" } });
  });

  it("pages through lists with opaque cursors", async () => {
    const d = await domain();
    const addresses = Array.from({ length: 7 }, (_, i) => `a${i}@${d}`);
    for (const a of addresses) {
      await put(`/v1/domains/${d}/aliases/${a}`, { address: a, action: { type: "reject", message: "no" } });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/v1/domains/${d}/aliases?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((a: { id: string }) => a.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(addresses);
    const bad = await get(`/v1/domains/${d}/aliases?cursor=not-a-cursor`);
    expect(bad).toMatchObject({
      status: 400,
      body: { code: "MP_BAD_REQUEST", errors: [{ path: ["cursor"], in: "query" }] },
    });
    const badLimit = await get(`/v1/domains/${d}/aliases?limit=0`);
    expect(badLimit).toMatchObject({
      status: 400,
      body: { errors: [expect.objectContaining({ path: ["limit"], in: "query" })] },
    });
  });

  it("lets a platform admin manage accounts; deleting one deletes everything in it", async () => {
    const admin = { token: h.adminToken };
    const id = `acct${Date.now().toString(36)}`;
    const created = await h.call("PUT", `/v1/accounts/${id}`, { ...admin, body: { id, name: "First" } });
    expect(created).toMatchObject({ status: 201, body: { id, name: "First" } });
    const renamed = await h.call("PUT", `/v1/accounts/${id}`, {
      ...admin,
      body: { id, name: "Second" },
      headers: { "if-match": created.headers.etag as string },
    });
    expect(renamed).toMatchObject({ status: 200, body: { name: "Second" } });
    expect((await h.call("GET", `/v1/accounts/${id}`, admin)).body.name).toBe("Second");
    const accounts = await h.call("GET", "/v1/accounts?limit=500", admin);
    expect(accounts.body.items.map((a: { id: string }) => a.id)).toContain(id);
    const token = await h.token(id, "account-admin");
    const d = uniqueDomain();
    await h.call("PUT", `/v1/domains/${d}`, { token, body: { name: d } });
    expect((await h.call("DELETE", `/v1/accounts/${id}`, admin)).status).toBe(204);
    expect((await h.call("GET", `/v1/accounts/${id}`, admin)).status).toBe(404);
    expect((await h.call("GET", "/v1/whoami", { token })).status).toBe(401);
    // Its domain is free again.
    expect((await put(`/v1/domains/${d}`, { name: d })).status).toBe(201);
  });

  it("creates an account with If-None-Match: * only when it does not exist (412, unchanged, otherwise)", async () => {
    const admin = { token: h.adminToken };
    const id = `once${Date.now().toString(36)}`;
    const createOnly = (name: string) =>
      h.call("PUT", `/v1/accounts/${id}`, {
        ...admin,
        body: { id, name },
        headers: { "if-none-match": "*" },
      });
    expect(await createOnly("First")).toMatchObject({ status: 201, body: { id, name: "First" } });
    expect(await createOnly("Taken over")).toMatchObject({
      status: 412,
      body: { code: "MP_PRECONDITION_FAILED" },
    });
    expect((await h.call("GET", `/v1/accounts/${id}`, admin)).body.name).toBe("First");
    expect((await h.call("DELETE", `/v1/accounts/${id}`, admin)).status).toBe(204);
  });

  it("lists, shows and revokes the account's tokens; a revoked token stops working at once", async () => {
    const ro = await h.token(t.id, "read-only");
    const listed = await get("/v1/tokens?limit=500");
    const mine = listed.body.items.find((x: { role: string }) => x.role === "read-only");
    expect(mine).toMatchObject({ account: t.id, revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(ro);
    expect((await get(`/v1/tokens/${mine.id}`)).body.id).toBe(mine.id);
    expect((await h.call("GET", "/v1/domains", { token: ro })).status).toBe(200);
    expect((await del(`/v1/tokens/${mine.id}`)).status).toBe(204);
    expect((await get(`/v1/tokens/${mine.id}`)).body.revokedAt).not.toBeNull();
    expect(await h.call("GET", "/v1/domains", { token: ro })).toMatchObject({
      status: 401,
      body: { code: "MP_UNAUTHORIZED" },
    });
  });

  it("lets a platform admin revoke a platform token, which no account admin can see", async () => {
    const admin = { token: h.adminToken, account: t.id };
    const minted = await h.call("POST", "/v1/tokens", { ...admin, body: { role: "platform-admin" } });
    expect(minted.status).toBe(201);
    expect((await h.call("POST", "/v1/tokens", { ...as, body: { role: "platform-admin" } })).status).toBe(
      403,
    );
    const me = await h.call("GET", "/v1/whoami", { token: minted.body.token });
    expect(me.body.role).toBe("platform-admin");
    const bootstrap = (await h.call("GET", "/v1/whoami", { token: h.adminToken })).body.tokenId as string;
    expect((await get(`/v1/tokens/${bootstrap}`)).status).toBe(404);
    expect((await h.call("GET", `/v1/tokens/${bootstrap}`, admin)).body.revokedAt).toBeNull();
    // The new platform token revokes itself; the bootstrap token is left for the other tests.
    const own = (await h.call("GET", "/v1/whoami", { token: minted.body.token })).body.tokenId as string;
    expect(
      (await h.call("DELETE", `/v1/tokens/${own}`, { token: minted.body.token, account: t.id })).status,
    ).toBe(204);
    expect((await h.call("GET", "/v1/whoami", { token: minted.body.token })).status).toBe(401);
  });

  it("records every change in the audit log with actor, before and after", async () => {
    const d = await domain();
    await patch(`/v1/domains/${d}`, { maxRetryDays: 9 });
    const log = await get(`/v1/audit?objectId=${d}`);
    expect(log.status).toBe(200);
    const [update, create] = log.body.items;
    expect(update).toMatchObject({
      account: t.id,
      action: "update",
      kind: "Domain",
      objectId: d,
      actor: { tokenId: expect.stringMatching(/^tok_/), role: "account-admin" },
      before: { maxRetryDays: 4 },
      after: { maxRetryDays: 9 },
      requestId: expect.stringMatching(/^req_/),
    });
    expect(create).toMatchObject({ action: "create", before: null });
    const deletes = await get("/v1/audit?action=delete&kind=Domain&limit=1");
    expect(deletes.status).toBe(200);
  });
});
