/** Bulk tenancy on SQLite and PostgreSQL: names held elsewhere are refused at plan as at apply, each object named, nothing of another tenant told. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";
import { tenancyDocument } from "./tenancy-fixture.ts";

describe.each(BACKENDS)("bulk tenancy, names held elsewhere, on $name", (backend) => {
  let h: Harness;
  let a: { id: string; token: string };
  let b: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant("a");
    b = await h.tenant("b");
  });
  afterAll(async () => h?.close());

  const path = (d: string) => `/v1/domains/${d}/tenancy`;
  const plan = (token: string, d: string, body: unknown) =>
    h.call("POST", `${path(d)}/plan`, { token, body });
  const apply = (token: string, d: string, body: unknown) => h.call("PUT", path(d), { token, body });
  /** What a client acts on: the same at plan and at apply. */
  const verdict = (res: Answer) => ({
    status: res.status,
    code: res.body.code,
    detail: res.body.detail,
    errors: res.body.errors,
  });
  /** Plans and applies `body` as `token`; both must fail alike and the tenancy must stay as it was. */
  const refusedAlike = async (token: string, d: string, body: unknown) => {
    const before = await h.call("GET", path(d), { token });
    const planned = await plan(token, d, body);
    const applied = await apply(token, d, body);
    expect(verdict(applied)).toEqual(verdict(planned));
    const after = await h.call("GET", path(d), { token });
    expect([after.status, after.body.etag]).toEqual([before.status, before.body.etag]);
    return planned;
  };

  it("refuses a domain another account holds at plan, as at apply: domains[0].name held by another account, nothing of it told", async () => {
    const d = uniqueDomain();
    const theirs = { domains: [{ name: d }], users: [{ address: `hidden-owner@${d}`, firstName: "Zelda" }] };
    expect((await apply(b.token, d, theirs)).status).toBe(200);
    const res = await refusedAlike(a.token, d, tenancyDocument(d));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("MP_DOMAIN_TAKEN");
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        path: ["domains", 0, "name"],
        message: expect.stringContaining("is held by another account"),
      }),
    ]);
    expect(res.text).not.toContain(b.id);
    expect(res.text).not.toContain("hidden-owner");
    expect(res.text).not.toContain("Zelda");
    expect((await h.call("GET", path(d), { token: b.token })).body.document.users).toHaveLength(1);
  });

  it("refuses a domain alias that another domain of the account holds, at plan as at apply, at domains[0].aliases[0]", async () => {
    const d1 = uniqueDomain();
    const d2 = uniqueDomain();
    const shared = uniqueDomain("alias");
    expect((await apply(a.token, d2, { domains: [{ name: d2, aliases: [shared] }] })).status).toBe(200);
    const res = await refusedAlike(a.token, d1, { domains: [{ name: d1, aliases: [shared] }] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("MP_CONFLICT");
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        path: ["domains", 0, "aliases", 0],
        message: `is already an alias of the domain ${d2}`,
      }),
    ]);
  });

  it("refuses an address declared by a user, an alias and a group at plan as at apply, naming each object", async () => {
    const d = uniqueDomain();
    const doc = tenancyDocument(d) as Record<string, any>;
    doc.aliases.push({ address: `ana@${d}`, action: { type: "forward", to: [`bob@${d}`] } });
    doc.groups = [{ address: `ana@${d}`, members: [`cy@${d}`] }];
    const res = await refusedAlike(a.token, d, doc);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: ["users", 0, "address"],
          message: "is also the address of aliases[2], groups[0]",
        }),
        expect.objectContaining({
          path: ["aliases", 2, "address"],
          message: "is also the address of users[0], groups[0]",
        }),
        expect.objectContaining({
          path: ["groups", 0, "address"],
          message: "is also the address of users[0], aliases[2]",
        }),
      ]),
    );
    expect((await h.call("GET", path(d), { token: a.token })).status).toBe(404);
  });

  it("reports a domain held elsewhere with the document's other problems at once, at plan as at apply", async () => {
    const d = uniqueDomain();
    expect((await apply(b.token, d, { domains: [{ name: d }] })).status).toBe(200);
    const doc = tenancyDocument(d) as Record<string, any>;
    doc.aliases.push({ address: `bob@${d}`, action: { type: "reject", message: "gone" } });
    const res = await refusedAlike(a.token, d, doc);
    expect(res.status).toBe(422);
    const paths = res.body.errors.map((e: { path: unknown[] }) => e.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["domains.0.name", "users.1.address", "aliases.2.address"]));
  });
});
