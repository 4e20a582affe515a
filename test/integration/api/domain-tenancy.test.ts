/** Bulk tenancy over real HTTP on SQLite and PostgreSQL: plan, one-transaction apply, If-Match, every error at once, passwords. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";
import { tenancyDocument } from "./tenancy-fixture.ts";

describe.each(BACKENDS)("bulk tenancy on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(async () => h?.close());

  const path = (d: string) => `/v1/domains/${d}/tenancy`;
  const apply = (d: string, body: unknown, headers?: Record<string, string>) =>
    h.call("PUT", path(d), { token: t.token, body, ...(headers ? { headers } : {}) });
  const plan = (d: string, body: unknown) => h.call("POST", `${path(d)}/plan`, { token: t.token, body });
  const live = (d: string) => h.call("GET", path(d), { token: t.token });
  const audit = async (d: string) =>
    (await h.call("GET", `/v1/audit?limit=500`, { token: t.token })).body.items.filter(
      (e: { objectId: string }) => e.objectId.includes(d),
    );

  it("creates a whole domain in one apply, one audit entry per object, and answers it back as a document", async () => {
    const d = uniqueDomain();
    const res = await apply(d, tenancyDocument(d));
    expect(res.status).toBe(200);
    expect(res.body.applied).toBe(true);
    expect(res.body.changes).toHaveLength(10);
    expect(res.body.changes[0]).toEqual({ kind: "Domain", id: d, op: "create", fields: [] });
    expect(res.headers.etag).toBe(`"${res.body.etag}"`);
    const got = await live(d);
    expect(got.status).toBe(200);
    expect(got.body.etag).toBe(res.body.etag);
    expect(got.body.document.users.map((u: { address: string }) => u.address)).toEqual([
      `ana@${d}`,
      `bob@${d}`,
      `cy@${d}`,
    ]);
    expect(got.body.document.users[1].enabled).toBe(false);
    expect(got.body.document.domains[0]).not.toHaveProperty("dkim");
    expect(JSON.stringify(got.body.document.domains[0])).not.toMatch(/dkim|privateKey/i);
    const entries = await audit(d);
    expect(entries.filter((e: { action: string }) => e.action === "create")).toHaveLength(10);
  });

  it("re-applying the same document changes nothing: no changes, same etag, no audit entry", async () => {
    const d = uniqueDomain();
    const first = await apply(d, tenancyDocument(d));
    const before = (await audit(d)).length;
    const again = await apply(d, tenancyDocument(d));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changes: [], etag: first.body.etag });
    expect((await audit(d)).length).toBe(before);
  });

  it("plans per-object field changes without writing anything", async () => {
    const d = uniqueDomain();
    const first = await apply(d, tenancyDocument(d));
    const doc = tenancyDocument(d);
    doc.users[0] = { ...doc.users[0]!, enabled: false };
    doc.aliases.pop();
    doc.routes.push({ domain: d, host: "127.0.0.2", port: 25, priority: 20, tls: "none" });
    const planned = await plan(d, doc);
    expect(planned.status).toBe(200);
    expect(planned.body).toEqual({
      domain: d,
      etag: first.body.etag,
      applied: false,
      changes: [
        { kind: "Alias", id: `joe@${d}`, op: "delete", fields: [] },
        { kind: "Route", id: `${d}/routes/127.0.0.2:25`, op: "create", fields: [] },
        { kind: "User", id: `ana@${d}`, op: "update", fields: ["enabled"] },
      ],
    });
    expect((await live(d)).body.etag).toBe(first.body.etag);
    const applied = await apply(d, doc);
    expect(applied.body.changes).toEqual(planned.body.changes);
    expect(applied.body.etag).not.toBe(first.body.etag);
  });

  it("reports every invalid object of the document at once, with its path, and applies nothing", async () => {
    const d = uniqueDomain();
    const doc = tenancyDocument(d) as Record<string, any>;
    doc.aliases[0].action.to = ["not an address"];
    doc.users[1].quotaMb = -5;
    doc.routes[0].port = 70000;
    const res = await apply(d, doc);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("MP_VALIDATION_FAILED");
    const paths = res.body.errors.map((e: { path: unknown[] }) => e.path.slice(0, 2).join("."));
    expect(paths).toEqual(expect.arrayContaining(["aliases.0", "users.1", "routes.0"]));
    expect((await live(d)).status).toBe(404);
  });

  it("collects the write rules' problems of several objects too (password policy, egress), and applies nothing", async () => {
    const d = uniqueDomain();
    const doc = tenancyDocument(d, { [`ana@${uniqueDomain()}`]: "x" }) as Record<string, any>;
    doc.users[0].password = "short";
    doc.users[2].password = "tiny";
    doc.routes[0].host = "10.1.2.3";
    const res = await apply(d, doc);
    expect(res.status).toBe(422);
    const paths = res.body.errors.map((e: { path: unknown[] }) => e.path.slice(0, 3).join("."));
    expect(paths).toEqual(expect.arrayContaining(["users.0.password", "users.2.password", "routes.0.host"]));
    expect(res.text).not.toContain("tiny");
    expect((await live(d)).status).toBe(404);
  });

  it("refuses a document whose domain is not the path's", async () => {
    const d = uniqueDomain();
    const res = await apply(d, tenancyDocument(uniqueDomain()));
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: unknown[] }) => e.path.join("."))).toContain("domains.0.name");
  });

  it("applies with If-Match only over the version read: a stale etag is 412 and changes nothing", async () => {
    const d = uniqueDomain();
    const first = await apply(d, tenancyDocument(d));
    const doc = tenancyDocument(d);
    doc.users[2] = { ...doc.users[2]!, enabled: false };
    // Someone changes an object of the tenancy by itself: the tenancy's etag moves.
    const patched = await h.call("PATCH", `/v1/domains/${d}/users/ana@${d}`, {
      token: t.token,
      body: { lastName: "Out-of-band" },
    });
    expect(patched.status).toBe(200);
    const stale = await apply(d, doc, { "if-match": `"${first.body.etag}"` });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe("MP_PRECONDITION_FAILED");
    const now = await live(d);
    expect(now.body.document.users[2].enabled).toBe(true);
    expect(now.body.document.users[0].lastName).toBe("Out-of-band");
    const fresh = await apply(d, doc, { "if-match": now.headers.etag as string });
    expect(fresh.status).toBe(200);
    expect(fresh.body.changes).toEqual([
      { kind: "User", id: `ana@${d}`, op: "update", fields: ["lastName"] },
      { kind: "User", id: `cy@${d}`, op: "update", fields: ["enabled"] },
    ]);
  });

  it("hashes only new passwords: unchanged ones keep their stored hash, and no password is ever answered or audited", async () => {
    const d = uniqueDomain();
    const passwords = {
      [`ana@${d}`]: "Kq7-Secret-0001",
      [`bob@${d}`]: "Wz3-Secret-0001",
      [`cy@${d}`]: "Pm5-Secret-0001",
    };
    const first = await apply(d, tenancyDocument(d, passwords));
    expect(first.status).toBe(200);
    const hashes = async () =>
      Promise.all(Object.keys(passwords).map(async (a) => (await h.cp.store.getCredential(a, t.id))?.hash));
    const before = await hashes();
    expect(before.every((x) => typeof x === "string" && x.startsWith("$argon2id$"))).toBe(true);
    const same = await apply(d, tenancyDocument(d, passwords));
    expect(same.body.changes).toEqual([]);
    expect(await hashes()).toEqual(before);
    const changed = await apply(d, tenancyDocument(d, { ...passwords, [`bob@${d}`]: "Wz3-Secret-0002" }));
    expect(changed.body.changes).toEqual([
      { kind: "User", id: `bob@${d}`, op: "update", fields: ["password"] },
    ]);
    const after = await hashes();
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).toBe(before[2]);
    // Left out, a password stays as it is.
    const omitted = await apply(d, tenancyDocument(d));
    expect(omitted.body.changes).toEqual([]);
    expect(await hashes()).toEqual(after);
    const got = await live(d);
    expect(got.body.passwordsSetAt[`ana@${d}`]).toEqual(expect.any(String));
    for (const text of [...h.responses, ...h.logs, JSON.stringify(await audit(d))]) {
      expect(text).not.toMatch(/Secret-000/);
    }
  });

  it("deletes a domain with everything under it, enabled users included, in one call", async () => {
    const d = uniqueDomain();
    await apply(d, tenancyDocument(d, { [`ana@${d}`]: "Kq7-Secret-0001" }));
    const del = await h.call("DELETE", path(d), { token: t.token });
    expect(del.status).toBe(204);
    expect((await live(d)).status).toBe(404);
    expect(await h.cp.store.getCredential(`ana@${d}`, t.id)).toBeUndefined();
    const again = await h.call("DELETE", path(d), { token: t.token });
    expect(again.status).toBe(404);
  });

  it("keeps tenants apart: another account's domain is 404 for get, apply and delete", async () => {
    const d = uniqueDomain();
    await apply(d, tenancyDocument(d));
    const other = await h.tenant();
    expect((await h.call("GET", path(d), { token: other.token })).status).toBe(404);
    expect((await h.call("DELETE", path(d), { token: other.token })).status).toBe(404);
    const taken = await h.call("PUT", path(d), { token: other.token, body: tenancyDocument(d) });
    expect([409, 422]).toContain(taken.status);
    expect((await live(d)).body.document.users).toHaveLength(3);
  });

  it("takes a document past the server's 1 MiB default (12,000 objects) and refuses one past 16 MiB with 413", async () => {
    const d = uniqueDomain();
    const doc = tenancyDocument(d) as Record<string, any>;
    for (let i = 0; i < 12_000; i++) {
      doc.aliases.push({ address: `a${i}@${d}`, action: { type: "forward", to: [`x${i}@example.net`] } });
    }
    const body = JSON.stringify(doc);
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const planned = await plan(d, body);
    expect(planned.status).toBe(200);
    expect(planned.body.changes).toHaveLength(12_010);
    const huge = `{"domains":[{"name":"${d}"}],"aliases":[${`"${"x".repeat(1024)}",`.repeat(17 * 1024)}"x"]}`;
    const refused = await plan(d, huge);
    expect(refused.status).toBe(413);
    expect(refused.body.code).toBe("MP_PAYLOAD_TOO_LARGE");
  });

  it("refuses, in the store, an apply prepared against a version that changed before its transaction", async () => {
    const d = uniqueDomain();
    await apply(d, tenancyDocument(d));
    const { objects, etag } = await h.cp.store.tenancyObjects(t.id, d);
    // Another write lands between the read an apply prepares against and the apply's transaction.
    await h.call("PATCH", `/v1/domains/${d}/users/cy@${d}`, { token: t.token, body: { quotaMb: 7 } });
    const writes = objects.map((o) => ({
      kind: o.kind,
      id: o.id,
      spec: { ...o.spec, note: "stale" },
      enabled: o.enabled,
    }));
    await expect(
      h.cp.store.applyTenancy(
        { accountId: t.id, domain: d, objects: writes, expectEtag: etag },
        { actor: "test" },
      ),
    ).rejects.toMatchObject({ code: "precondition_failed" });
    expect((await h.cp.store.getObject(t.id, "User", `cy@${d}`))?.spec.quotaMb).toBe(7);
  });

  it("a user the document drops leaves its forward on delete, and later applies keep that forward", async () => {
    const d = uniqueDomain();
    const doc = tenancyDocument(d) as Record<string, any>;
    doc.users[2].forwardOnDelete = `ana@${d}`;
    await apply(d, doc);
    doc.users.pop();
    const dropped = await apply(d, doc);
    expect(dropped.body.changes).toEqual([{ kind: "User", id: `cy@${d}`, op: "delete", fields: [] }]);
    const departed = await h.cp.store.getObject(t.id, "DepartedAddress", `cy@${d}`);
    expect(departed?.spec).toEqual({ address: `cy@${d}`, forwardTo: `ana@${d}` });
    const again = await apply(d, doc);
    expect(again.body.changes).toEqual([]);
    expect(await h.cp.store.getObject(t.id, "DepartedAddress", `cy@${d}`)).toBeDefined();
    expect((await h.call("DELETE", path(d), { token: t.token })).status).toBe(204);
    expect(await h.cp.store.getObject(t.id, "DepartedAddress", `cy@${d}`)).toBeUndefined();
  });

  it("keeps the account's limits: an apply that would pass one is 409 MP_LIMIT_EXCEEDED and writes nothing", async () => {
    const limited = await h.tenant("lim");
    const account = await h.call("GET", `/v1/accounts/${limited.id}`, { token: h.adminToken });
    const put = await h.call("PUT", `/v1/accounts/${limited.id}`, {
      token: h.adminToken,
      body: { id: limited.id, name: account.body.name, limits: { users: 2 } },
    });
    expect(put.status).toBe(200);
    const d = uniqueDomain();
    const res = await h.call("PUT", path(d), { token: limited.token, body: tenancyDocument(d) });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("MP_LIMIT_EXCEEDED");
    expect((await h.call("GET", path(d), { token: limited.token })).status).toBe(404);
  });
});
