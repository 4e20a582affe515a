/** Bulk tenancy on SQLite and PostgreSQL: a create-only apply that is safe to retry (If-None-Match, Idempotency-Key). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";
import { tenancyDocument } from "./tenancy-fixture.ts";

describe.each(BACKENDS)("bulk tenancy create on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(async () => h?.close());

  const path = (d: string) => `/v1/domains/${d}/tenancy`;
  const create = (d: string, body: unknown, key: string) =>
    h.call("PUT", path(d), {
      token: t.token,
      body,
      headers: { "if-none-match": "*", "idempotency-key": key },
    });
  const live = (d: string) => h.call("GET", path(d), { token: t.token });
  const audited = async (d: string) =>
    (await h.call("GET", "/v1/audit?limit=500", { token: t.token })).body.items.filter(
      (e: { objectId: string }) => e.objectId.includes(d),
    ).length;

  it("answers a retried create-only apply (same Idempotency-Key) with the first answer, writing once", async () => {
    const d = uniqueDomain();
    const first = await create(d, tenancyDocument(d), `k-${d}`);
    expect(first.status).toBe(200);
    expect(first.body.changes).toHaveLength(10);
    const entries = await audited(d);
    expect(entries).toBe(10);
    const again = await create(d, tenancyDocument(d), `k-${d}`);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.body).toEqual(first.body);
    expect(await audited(d)).toBe(entries);
  });

  it("answers two identical create-only applies at once (same key) both with one apply's answer", async () => {
    const d = uniqueDomain();
    const [a, b] = await Promise.all([
      create(d, tenancyDocument(d), `k-${d}`),
      create(d, tenancyDocument(d), `k-${d}`),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toEqual(b.body);
    expect(await audited(d)).toBe(10);
  });

  it("refuses a create-only apply over a domain that exists with 412, changing nothing", async () => {
    const d = uniqueDomain();
    const first = await create(d, tenancyDocument(d), `k1-${d}`);
    const changed = tenancyDocument(d);
    changed.users[0] = { ...changed.users[0]!, lastName: "Taken-over" };
    const again = await create(d, changed, `k2-${d}`);
    expect(again.status).toBe(412);
    expect(again.body.code).toBe("MP_PRECONDITION_FAILED");
    expect(again.body.detail).toBe(`domain ${d} already exists`);
    expect((await live(d)).body.etag).toBe(first.body.etag);
    // Without If-None-Match the same document is an apply over what exists (an adoption).
    const adopted = await h.call("PUT", path(d), { token: t.token, body: changed });
    expect(adopted.status).toBe(200);
    expect(adopted.body.changes).toEqual([
      { kind: "User", id: `ana@${d}`, op: "update", fields: ["lastName"] },
    ]);
  });

  it("refuses an Idempotency-Key reused with another document (422), changing nothing", async () => {
    const d = uniqueDomain();
    const first = await create(d, tenancyDocument(d), `k-${d}`);
    const other = tenancyDocument(d);
    other.users.pop();
    const reused = await create(d, other, `k-${d}`);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe("MP_IDEMPOTENCY_KEY_REUSED");
    expect((await live(d)).body.etag).toBe(first.body.etag);
  });
});
