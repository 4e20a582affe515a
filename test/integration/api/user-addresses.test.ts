/** A user's extra addresses on SQLite and PostgreSQL: one address names one recipient, 409 MP_CONFLICT for a single write, every path at once for a bulk document. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startControlPlane } from "../../../platform/api/server.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { type Answer, BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

/** Runs SQL on the harness's store directly, as an earlier version of the platform could have written. */
async function writeRaw(h: Harness, sql: string): Promise<void> {
  if (!h.database) {
    const db = new DatabaseSync(join(h.dataDir, "mailplane.db"));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({
    connectionString: h.database.url,
    options: `-c search_path=${h.database.schema}`,
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe.each(BACKENDS)("user extra addresses, one recipient each, on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant("addr");
  });
  afterAll(async () => h?.close());

  const PASSWORD = "Kq7-Secret-0001";
  const put = (path: string, body: unknown) => h.call("PUT", path, { token: t.token, body });
  const patch = (path: string, body: unknown) => h.call("PATCH", path, { token: t.token, body });
  const get = (path: string) => h.call("GET", path, { token: t.token });
  const putUser = (d: string, local: string, addresses: string[]) =>
    put(`/v1/domains/${d}/users/${local}@${d}`, {
      address: `${local}@${d}`,
      password: PASSWORD,
      addresses: addresses.map((a) => `${a}@${d}`),
    });
  /** A fresh domain with ana (extra: sales), an alias info and a group team. */
  const seeded = async () => {
    const d = uniqueDomain();
    expect((await put(`/v1/domains/${d}`, { name: d })).status).toBe(201);
    expect((await putUser(d, "ana", ["sales"])).status).toBe(201);
    const alias = { address: `info@${d}`, action: { type: "forward", to: [`ana@${d}`] } };
    expect((await put(`/v1/domains/${d}/aliases/info@${d}`, alias)).status).toBe(201);
    const group = { address: `team@${d}`, members: [`ana@${d}`] };
    expect((await put(`/v1/domains/${d}/groups/team@${d}`, group)).status).toBe(201);
    return d;
  };
  const conflict = (res: Answer, detail: string, path: (string | number)[]) => {
    expect(res.status).toBe(409);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body).toMatchObject({ code: "MP_CONFLICT", status: 409, detail });
    expect(res.body.errors).toEqual([expect.objectContaining({ path, message: detail })]);
  };

  it("refuses a user whose extra address another user lists, at the index written, 409 MP_CONFLICT", async () => {
    const d = await seeded();
    // Written unsorted: the error names the index the caller wrote, not the sorted one.
    const res = await putUser(d, "bob", ["zed", "SALES"]);
    conflict(
      res,
      `sales@${d} (an extra address of the user bob@${d}) is already an extra address of the user ana@${d}; remove it there first`,
      ["addresses", 1],
    );
    expect((await get(`/v1/domains/${d}/users/bob@${d}`)).status).toBe(404);
  });

  it("refuses a user's extra address that is another user's, an alias's or a group's address, on PUT and on PATCH", async () => {
    const d = await seeded();
    expect((await putUser(d, "bob", [])).status).toBe(201);
    for (const [taken, kind] of [
      ["ana", "user"],
      ["info", "alias"],
      ["team", "group"],
    ] as const) {
      const detail = (who: string) =>
        `${taken}@${d} (an extra address of the user ${who}@${d}) is already the address of a ${kind}; delete it first`;
      conflict(await putUser(d, "cy", [taken]), detail("cy"), ["addresses", 0]);
      conflict(
        await patch(`/v1/domains/${d}/users/bob@${d}`, { addresses: [`${taken}@${d}`] }),
        detail("bob"),
        ["addresses", 0],
      );
    }
    expect((await get(`/v1/domains/${d}/users/cy@${d}`)).status).toBe(404);
    expect((await get(`/v1/domains/${d}/users/bob@${d}`)).body.addresses).toEqual([]);
  });

  it("refuses a new user, alias or group at an address a user lists as an extra address", async () => {
    const d = await seeded();
    const detail = `sales@${d} is already an extra address of the user ana@${d}; remove it there first`;
    conflict(await putUser(d, "sales", []), detail, ["address"]);
    conflict(
      await put(`/v1/domains/${d}/aliases/sales@${d}`, {
        address: `sales@${d}`,
        action: { type: "reject", message: "no" },
      }),
      detail,
      ["address"],
    );
    conflict(
      await put(`/v1/domains/${d}/groups/sales@${d}`, { address: `sales@${d}`, members: [`ana@${d}`] }),
      detail,
      ["address"],
    );
  });

  it("refuses a document whose objects share an address at plan as at apply: every declaring field at once, nothing written", async () => {
    const d = uniqueDomain();
    const document = {
      domains: [{ name: d }],
      users: [
        { address: `ana@${d}`, addresses: [`zed@${d}`, `sales@${d}`] },
        { address: `bob@${d}`, addresses: [`sales@${d}`, `info@${d}`] },
        { address: `cy@${d}`, addresses: [`ana@${d}`] },
      ],
      aliases: [{ address: `info@${d}`, action: { type: "forward", to: [`ana@${d}`] } }],
      groups: [{ address: `zed@${d}`, members: [`ana@${d}`] }],
    };
    const expected = [
      { path: ["users", 0, "address"], message: "is also an extra address of users[2]" },
      { path: ["users", 0, "addresses", 0], message: "is also the address of groups[0]" },
      { path: ["users", 0, "addresses", 1], message: "is also an extra address of users[1]" },
      { path: ["users", 1, "addresses", 0], message: "is also an extra address of users[0]" },
      { path: ["users", 1, "addresses", 1], message: "is also the address of aliases[0]" },
      { path: ["users", 2, "addresses", 0], message: "is also the address of users[0]" },
      { path: ["aliases", 0, "address"], message: "is also an extra address of users[1]" },
      { path: ["groups", 0, "address"], message: "is also an extra address of users[0]" },
    ];
    const tenancy = `/v1/domains/${d}/tenancy`;
    for (const res of [
      await h.call("POST", `${tenancy}/plan`, { token: t.token, body: document }),
      await h.call("PUT", tenancy, { token: t.token, body: document }),
    ]) {
      expect(res.status).toBe(422);
      expect(res.body.code).toBe("MP_VALIDATION_FAILED");
      const got = res.body.errors.map((e: { path: unknown[]; message: string }) => ({
        path: e.path,
        message: e.message,
      }));
      expect(got).toEqual(expect.arrayContaining(expected));
      expect(got).toHaveLength(expected.length);
    }
    expect((await get(tenancy)).status).toBe(404);
  });

  it("starts on a store whose old data gives one address to two users, and logs the address and both holders", async () => {
    const d = await seeded();
    expect((await putUser(d, "bob", [])).status).toBe(201);
    // What a store written before the rule covered extra addresses may hold (migration 11 indexes it so).
    await writeRaw(
      h,
      `UPDATE objects SET spec = '{"address":"bob@${d}","addresses":["sales@${d}"]}' WHERE kind = 'User' AND id = 'bob@${d}';
       INSERT INTO recipient_addresses (account_id, address, kind, id) VALUES ('${t.id}', 'sales@${d}', 'User', 'bob@${d}');`,
    );
    const logs: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const second = await startControlPlane({
      dataDir: h.dataDir,
      listen: "127.0.0.1:0",
      logger: { level: "warn", stream } as never,
      resolver: NO_DNS,
      ...(h.database ? { databaseUrl: h.database.url, databaseSchema: h.database.schema } : {}),
    });
    try {
      const warning = logs.map((l) => JSON.parse(l)).find((l) => l.address === `sales@${d}`);
      expect(warning).toMatchObject({
        level: 40,
        accountId: t.id,
        holders: [`User ana@${d} (extra address)`, `User bob@${d} (extra address)`],
        msg: expect.stringContaining(`address sales@${d} is held by more than one recipient`),
      });
    } finally {
      await second.close();
    }
  });

  it("moves an extra address between users in one apply", async () => {
    const d = uniqueDomain();
    const tenancy = `/v1/domains/${d}/tenancy`;
    const doc = (anaHas: boolean) => ({
      domains: [{ name: d }],
      users: [
        { address: `ana@${d}`, addresses: anaHas ? [`sales@${d}`] : [] },
        { address: `bob@${d}`, addresses: anaHas ? [] : [`sales@${d}`] },
      ],
    });
    expect((await h.call("PUT", tenancy, { token: t.token, body: doc(false) })).status).toBe(200);
    const moved = await h.call("PUT", tenancy, { token: t.token, body: doc(true) });
    expect(moved.status).toBe(200);
    expect((await get(`/v1/domains/${d}/users/ana@${d}`)).body.addresses).toEqual([`sales@${d}`]);
  });
});

describe.each(BACKENDS)("the store's own refusal of a tenancy apply on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };
  let store: Store;
  let dir: string;
  /** The write that slips in between the document check and the apply's transaction, once. */
  let slipIn: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mp-slip-"));
    store =
      backend.name === "postgres"
        ? await openPostgresStore({
            url: inject("postgresUrl"),
            schema: `slip_${randomBytes(6).toString("hex")}`,
          })
        : await openSqliteStore({ path: join(dir, "mailplane.db") });
    const wrapped = new Proxy(store, {
      get(target, name) {
        if (name === "applyTenancy") {
          return async (...args: Parameters<Store["applyTenancy"]>) => {
            const write = slipIn;
            slipIn = undefined;
            await write?.();
            return await target.applyTenancy(...args);
          };
        }
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    h = await startHarness(backend, { store: wrapped });
    t = await h.tenant("slip");
  });
  afterAll(async () => {
    await h?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 409 MP_CONFLICT with the document's field when an address is taken after the document check", async () => {
    const d = uniqueDomain();
    // A holder the apply neither writes nor deletes, written after the document was checked.
    slipIn = () =>
      store.putObject(
        {
          accountId: t.id,
          kind: "Alias",
          id: `sales@${d}`,
          domain: "elsewhere.example",
          spec: { address: `sales@${d}`, action: { type: "forward", to: ["x@elsewhere.example"] } },
        },
        { actor: "system" },
      );
    const document = {
      domains: [{ name: d }],
      users: [
        { address: `ana@${d}`, password: "Kq7-Secret-0001" },
        // Written unsorted: the answer names the index the caller wrote.
        { address: `bob@${d}`, password: "Kq7-Secret-0001", addresses: [`zed@${d}`, `sales@${d}`] },
      ],
    };
    const res = await h.call("PUT", `/v1/domains/${d}/tenancy`, { token: t.token, body: document });
    expect(res.status, res.text).toBe(409);
    expect(res.body.code).toBe("MP_CONFLICT");
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        path: ["users", 1, "addresses", 1],
        message: expect.stringContaining(`sales@${d} (the alias, an extra address of the user bob@${d})`),
      }),
    ]);
    expect((await h.call("GET", `/v1/domains/${d}/tenancy`, { token: t.token })).status).toBe(404);
  });
});
