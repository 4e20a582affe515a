/**
 * The managedBy stamp over real HTTP on SQLite and PostgreSQL: a write with the Mailplane-Managed-By
 * header stamps the object (every kind, the bulk tenancy apply too), a write without it keeps the
 * stamp, a delete ends it, a malformed header is refused naming it, and no other account sees or
 * sets the stamp of this account's objects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoints, fillPath } from "../../../sdk/src/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";
import { tenancyDocument } from "./tenancy-fixture.ts";

const PROD = { tool: "pulumi", project: "mail", stack: "prod" };
const STAGING = { tool: "pulumi", project: "mail", stack: "staging" };
const stamped = (stamp: object) => ({ "mailplane-managed-by": JSON.stringify(stamp) });

/** A valid body per kind for `domain`. */
function specOf(kind: string, domain: string): Record<string, unknown> {
  const specs: Record<string, Record<string, unknown>> = {
    Domain: { name: domain },
    Route: { domain, host: "mx.example.net", port: 25 },
    Alias: { address: `info@${domain}`, action: { type: "forward", to: [`bob@${domain}`] } },
    SenderList: { domain, kind: "block", target: "sender", entries: ["spam.example"] },
    FilterSettings: { scope: domain },
    PasswordPolicy: { scope: domain },
    User: { address: `bob@${domain}`, password: "Blue-Kettle-42" },
    Group: { address: `team@${domain}`, members: [`bob@${domain}`] },
    AccessRule: { scope: domain, service: "api", deny: ["192.0.2.0/24"] },
    ReportSettings: { scope: domain },
  };
  const spec = specs[kind];
  if (!spec) throw new Error(`no spec for ${kind}`);
  return spec;
}

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
  };
}

/** Each kind's PUT under a domain, the Domain first (everything else needs it). */
const puts = endpoints
  .filter(
    (e) =>
      e.method === "PUT" && e.kind && (e.path.startsWith("/v1/domains/:domain") || e.kind === "AccessRule"),
  )
  .filter((e) => e.operationId !== "applyDomainTenancy")
  .sort((a, b) => (a.kind === "Domain" ? -1 : b.kind === "Domain" ? 1 : 0));

describe.each(BACKENDS)("managedBy stamps on $name", (backend) => {
  let h: Harness;
  let a: { id: string; token: string };
  let b: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant("a");
    b = await h.tenant("b");
  });
  afterAll(async () => h?.close());

  const alias = (d: string) => `/v1/domains/${d}/aliases/info@${d}`;
  const newDomain = async (token: string, headers?: Record<string, string>) => {
    const d = uniqueDomain("stamp");
    const res = await h.call("PUT", `/v1/domains/${d}`, { token, body: { name: d }, headers });
    expect(res.status).toBe(201);
    return d;
  };

  it("stamps an object of every kind written with the header, and answers the stamp in get and list", async () => {
    const d = uniqueDomain("kinds");
    expect(new Set(puts.map((e) => e.kind)).size).toBe(10);
    for (const e of puts) {
      const path = fillPath(e.path, paramsFor(d));
      const res = await h.call("PUT", path, {
        token: a.token,
        body: specOf(e.kind!, d),
        headers: stamped(PROD),
      });
      expect(res.status, `${e.operationId} ${res.text}`).toBeLessThan(300);
      expect(res.body.managedBy, e.operationId).toEqual(PROD);
      expect((await h.call("GET", path, { token: a.token })).body.managedBy, e.operationId).toEqual(PROD);
    }
    const list = await h.call("GET", `/v1/domains/${d}/aliases`, { token: a.token });
    expect(list.body.items.map((i: { managedBy: unknown }) => i.managedBy)).toEqual([PROD]);
  });

  it("answers managedBy null for an object no stack wrote", async () => {
    const d = await newDomain(a.token);
    expect((await h.call("GET", `/v1/domains/${d}`, { token: a.token })).body.managedBy).toBeNull();
    // Singletons at their defaults were written by no one either.
    const policy = await h.call("GET", `/v1/domains/${d}/password-policy`, { token: a.token });
    expect(policy.body).toMatchObject({ etag: "defaults", managedBy: null });
  });

  it("keeps the stamp through a PATCH and a PUT without the header (the stack still declares the object)", async () => {
    const d = await newDomain(a.token, stamped(PROD));
    await h.call("PUT", alias(d), { token: a.token, body: specOf("Alias", d), headers: stamped(PROD) });
    const patched = await h.call("PATCH", alias(d), {
      token: a.token,
      body: { action: { type: "forward", to: [`carol@${d}`] } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ action: { to: [`carol@${d}`] }, managedBy: PROD });
    const put = await h.call("PUT", alias(d), { token: a.token, body: specOf("Alias", d) });
    expect(put.body.managedBy).toEqual(PROD);
    expect((await h.call("GET", `/v1/domains/${d}`, { token: a.token })).body.managedBy).toEqual(PROD);
  });

  it("takes another stack's stamp as a change (new etag, audited); the same stamp and spec again is none", async () => {
    const d = await newDomain(a.token, stamped(PROD));
    const first = await h.call("GET", `/v1/domains/${d}`, { token: a.token });
    const same = await h.call("PUT", `/v1/domains/${d}`, {
      token: a.token,
      body: { name: d },
      headers: stamped(PROD),
    });
    expect(same.body.etag).toBe(first.body.etag);
    const moved = await h.call("PATCH", `/v1/domains/${d}`, {
      token: a.token,
      body: {},
      headers: stamped(STAGING),
    });
    expect(moved.status).toBe(200);
    expect(moved.body.managedBy).toEqual(STAGING);
    expect(moved.body.etag).not.toBe(first.body.etag);
    const audit = await h.call("GET", "/v1/audit?limit=500", { token: a.token });
    const updates = audit.body.items.filter(
      (e: { objectId: string; action: string }) => e.objectId === d && e.action === "update",
    );
    expect(updates).toHaveLength(1);
  });

  it("ends the stamp with the object: deleted and created again without the header, it is null", async () => {
    const d = await newDomain(a.token, stamped(PROD));
    await h.call("PUT", alias(d), { token: a.token, body: specOf("Alias", d), headers: stamped(PROD) });
    expect((await h.call("DELETE", alias(d), { token: a.token })).status).toBe(204);
    const again = await h.call("PUT", alias(d), { token: a.token, body: specOf("Alias", d) });
    expect(again.status).toBe(201);
    expect(again.body.managedBy).toBeNull();
    // A singleton's reset deletes it, stamp and all.
    const scope = `/v1/domains/${d}/filter-settings`;
    await h.call("PUT", scope, { token: a.token, body: { scope: d }, headers: stamped(PROD) });
    const reset = await h.call("DELETE", scope, { token: a.token });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ etag: "defaults", managedBy: null });
    expect((await h.call("GET", scope, { token: a.token })).body.managedBy).toBeNull();
  });

  it("refuses a malformed header with 400 MP_BAD_REQUEST naming it, and writes nothing", async () => {
    const d = await newDomain(a.token, stamped(PROD));
    const before = await h.call("GET", `/v1/domains/${d}`, { token: a.token });
    const bad: [string, RegExp][] = [
      ["prod", /must be JSON/],
      [JSON.stringify({ tool: "terraform", project: "mail", stack: "prod" }), /tool/],
      [JSON.stringify({ tool: "pulumi", project: "mail", stack: "pr od" }), /stack/],
      [JSON.stringify({ tool: "pulumi", project: "mail" }), /stack/],
      [JSON.stringify({ ...PROD, extra: "x" }), /extra/],
      [JSON.stringify({ ...PROD, project: "p".repeat(101) }), /project/],
    ];
    for (const [value, why] of bad) {
      const res = await h.call("PATCH", `/v1/domains/${d}`, {
        token: a.token,
        body: { maxRetryDays: 2 },
        headers: { "mailplane-managed-by": value },
      });
      expect(res.status, value).toBe(400);
      expect(res.body.code, value).toBe("MP_BAD_REQUEST");
      expect(res.body.detail, value).toContain("Mailplane-Managed-By");
      expect(res.body.detail, value).toMatch(why);
      expect(res.body.errors[0], value).toMatchObject({ in: "headers" });
      expect(res.body.errors[0].path[0], value).toBe("mailplane-managed-by");
    }
    // Past the size cap the contract's header schema refuses it first, naming it too.
    const long = await h.call("PATCH", `/v1/domains/${d}`, {
      token: a.token,
      body: { maxRetryDays: 2 },
      headers: { "mailplane-managed-by": JSON.stringify({ ...PROD, stack: "s".repeat(600) }) },
    });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe("MP_BAD_REQUEST");
    expect(long.text).toContain("mailplane-managed-by");
    const after = await h.call("GET", `/v1/domains/${d}`, { token: a.token });
    expect(after.body.etag).toBe(before.body.etag);
    expect(after.body.maxRetryDays).toBe(before.body.maxRetryDays);
  });

  it("stamps every object a bulk tenancy apply writes; an apply without the header keeps the stamps", async () => {
    const d = uniqueDomain("bulk");
    const tenancy = `/v1/domains/${d}/tenancy`;
    const applied = await h.call("PUT", tenancy, {
      token: a.token,
      body: tenancyDocument(d),
      headers: stamped(PROD),
    });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.body.changes).toHaveLength(10);
    // Every object under the domain, as the list and singleton endpoints answer it.
    const found = new Map<string, unknown>();
    found.set(`Domain ${d}`, (await h.call("GET", `/v1/domains/${d}`, { token: a.token })).body.managedBy);
    const reads = endpoints.filter(
      (e) =>
        e.method === "GET" &&
        e.kind &&
        e.path.startsWith("/v1/domains/:domain/") &&
        !/\/:[a-z]+$/.test(e.path),
    );
    for (const e of reads) {
      const res = await h.call("GET", fillPath(e.path, { domain: d }), { token: a.token });
      for (const o of res.body.items ?? [res.body]) found.set(`${e.kind} ${o.id}`, o.managedBy);
    }
    for (const c of applied.body.changes as { kind: string; id: string }[]) {
      expect(found.get(`${c.kind} ${c.id}`), `${c.kind} ${c.id}`).toEqual(PROD);
    }
    const doc = tenancyDocument(d);
    doc.users[0] = { ...doc.users[0]!, enabled: false };
    const again = await h.call("PUT", tenancy, { token: a.token, body: doc });
    expect(again.body.changes).toHaveLength(1);
    const user = await h.call("GET", `/v1/domains/${d}/users/${doc.users[0]!.address}`, { token: a.token });
    expect(user.body).toMatchObject({ enabled: false, managedBy: PROD });
  });

  it("never shows or changes one account's stamps to another account's token", async () => {
    const d = await newDomain(a.token, stamped(PROD));
    await h.call("PUT", alias(d), { token: a.token, body: specOf("Alias", d), headers: stamped(PROD) });
    const before = await h.call("GET", alias(d), { token: a.token });
    const intruder = stamped({ tool: "pulumi", project: "evil", stack: "x" });
    const writes = [
      await h.call("PATCH", alias(d), { token: b.token, body: {}, headers: intruder }),
      await h.call("PUT", alias(d), { token: b.token, body: specOf("Alias", d), headers: intruder }),
      await h.call("PATCH", `/v1/domains/${d}`, { token: b.token, body: {}, headers: intruder }),
      await h.call("PUT", `/v1/domains/${d}/tenancy`, {
        token: b.token,
        body: tenancyDocument(d),
        headers: intruder,
      }),
    ];
    for (const w of writes) expect(w.status, w.text).toBeGreaterThanOrEqual(400);
    for (const w of writes) expect(w.text).not.toContain('"project":"mail"');
    const reads = [
      await h.call("GET", alias(d), { token: b.token }),
      await h.call("GET", `/v1/domains/${d}/aliases`, { token: b.token }),
      await h.call("GET", "/v1/domains", { token: b.token }),
    ];
    for (const r of reads) expect(r.text).not.toContain('"stack":"prod"');
    const after = await h.call("GET", alias(d), { token: a.token });
    expect(after.body).toMatchObject({ managedBy: PROD, etag: before.body.etag });
    expect((await h.call("GET", `/v1/domains/${d}`, { token: a.token })).body.managedBy).toEqual(PROD);
  });
});
