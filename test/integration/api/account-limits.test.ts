/**
 * Account limits on both stores: a platform admin caps what an account may hold; creates past a cap
 * are refused with 409 MP_LIMIT_EXCEEDED (even when racing for the last place), updates never are,
 * and whoami shows the caps and the counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

describe.each(BACKENDS)("account limits on $name", (backend) => {
  let h: Harness;
  let tenant: { id: string; token: string };
  const domain = uniqueDomain("limits");
  const as = () => ({ token: tenant.token });
  const putUser = (local: string, quotaMb = 0) =>
    h.call("PUT", `/v1/domains/${domain}/users/${local}@${domain}`, {
      ...as(),
      body: { address: `${local}@${domain}`, password: "Limits-Secret-1", quotaMb },
    });
  const setLimits = async (limits: object) => {
    const res = await h.call("PUT", `/v1/accounts/${tenant.id}`, {
      token: h.adminToken,
      body: { id: tenant.id, name: "Limited", limits },
    });
    expect(res.status, res.text).toBe(200);
  };

  beforeAll(async () => {
    h = await startHarness(backend);
    tenant = await h.tenant("limits");
    expect((await h.call("PUT", `/v1/domains/${domain}`, { ...as(), body: { name: domain } })).status).toBe(
      201,
    );
    await setLimits({ users: 2, domains: 1 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("creates up to the cap, then refuses the next create with 409 MP_LIMIT_EXCEEDED naming the limit", async () => {
    expect((await putUser("ana")).status).toBe(201);
    expect((await putUser("ben")).status).toBe(201);
    const third = await putUser("cy");
    expect(third.status).toBe(409);
    expect(third.body).toMatchObject({ code: "MP_LIMIT_EXCEEDED" });
    expect(third.body.detail).toContain("at most 2 users and holds 2");
    const other = uniqueDomain("second");
    const second = await h.call("PUT", `/v1/domains/${other}`, { ...as(), body: { name: other } });
    expect(second.body).toMatchObject({ code: "MP_LIMIT_EXCEEDED" });
  });

  it("still updates an existing object at the cap", async () => {
    const res = await putUser("ana", 512);
    expect(res.status).toBe(200);
    expect(res.body.quotaMb).toBe(512);
  });

  it("shows the limits and the counts to the account's own token", async () => {
    const me = await h.call("GET", "/v1/whoami", as());
    expect(me.body).toMatchObject({
      limits: { users: 2, domains: 1 },
      usage: { domains: 1, users: 2, aliases: 0, groups: 0 },
    });
  });

  it("lets exactly one of two racing creates take the last free place", async () => {
    await setLimits({ users: 3 });
    const [a, b] = await Promise.all([putUser("dee"), putUser("eve")]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const me = await h.call("GET", "/v1/whoami", as());
    expect(me.body.usage.users).toBe(3);
  });
});
