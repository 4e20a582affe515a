/** One address, one recipient, a user's extra addresses included: the store's rule on SQLite and PostgreSQL, single writes, bulk applies and a store written before the rule. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { holdersQuery } from "../../../platform/store/recipient-addresses.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

interface Backend {
  name: "sqlite" | "postgres";
  /** A fresh store; `reopen` opens it again; `raw` runs SQL on it directly (the store closed, for SQLite). */
  open(): Promise<{ store: Store; reopen: () => Promise<Store>; raw: (sql: string) => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-addresses-"));
      tempDirs.push(dir);
      const path = join(dir, "mailplane.db");
      const reopen = () => openSqliteStore({ path });
      const raw = async (sql: string) => {
        const db = new DatabaseSync(path);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      };
      return { store: await reopen(), reopen, raw };
    },
  },
  {
    name: "postgres",
    async open() {
      const url = inject("postgresUrl");
      const schema = `addr_${randomBytes(6).toString("hex")}`;
      const reopen = () => openPostgresStore({ url, schema });
      const raw = async (sql: string) => {
        const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
        await client.connect();
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      };
      return { store: await reopen(), reopen, raw };
    },
  },
];

const sys = { actor: "system" };
const D = "addr.example";
const at = (local: string) => `${local}@${D}`;

const user = (local: string, addresses: string[] = [], extra: Record<string, unknown> = {}) => ({
  accountId: "acme",
  kind: "User",
  id: at(local),
  domain: D,
  spec: { address: at(local), addresses: addresses.map(at), ...extra },
});
const alias = (local: string) => ({
  accountId: "acme",
  kind: "Alias",
  id: at(local),
  domain: D,
  spec: { address: at(local), action: { type: "forward", to: ["x@elsewhere.example"] } },
});
const group = (local: string) => ({
  accountId: "acme",
  kind: "Group",
  id: at(local),
  domain: D,
  spec: { address: at(local), members: ["x@elsewhere.example"] },
});
const domainObject = { accountId: "acme", kind: "Domain", id: D, domain: D, spec: { name: D } };

describe.each(backends)("one address, one recipient (extra addresses) on $name", (backend) => {
  let store: Store;
  let reopen: () => Promise<Store>;
  let raw: (sql: string) => Promise<void>;

  beforeEach(async () => {
    ({ store, reopen, raw } = await backend.open());
    await store.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
    await store.putObject(domainObject, sys);
  });
  afterEach(async () => store.close());

  describe("single writes", () => {
    it("refuses a user listing an extra address another user lists, on create and on update, naming it", async () => {
      await store.putObject(user("ana", ["sales"]), sys);
      await expect(store.putObject(user("bob", ["info", "sales"]), sys)).rejects.toMatchObject({
        code: "conflict",
        message: `${at("sales")} (an extra address of the user ${at("bob")}) is already an extra address of the user ${at("ana")}; remove it there first`,
        path: ["addresses", 1],
      });
      expect(await store.getObject("acme", "User", at("bob"))).toBeUndefined();
      await store.putObject(user("bob", ["info"]), sys);
      await expect(store.putObject(user("bob", ["info", "sales"]), sys)).rejects.toMatchObject({
        code: "conflict",
        path: ["addresses", 1],
      });
      expect((await store.getObject("acme", "User", at("bob")))?.spec.addresses).toEqual([at("info")]);
    });

    it("refuses a user's extra address that is another user's, an alias's or a group's address, on create and on update", async () => {
      await store.putObject(user("ana"), sys);
      await store.putObject(alias("sales"), sys);
      await store.putObject(group("team"), sys);
      await store.putObject(user("bob"), sys);
      for (const [taken, kind] of [
        ["ana", "user"],
        ["sales", "alias"],
        ["team", "group"],
      ] as const) {
        await expect(store.putObject(user("cy", [taken]), sys)).rejects.toMatchObject({
          code: "conflict",
          message: `${at(taken)} (an extra address of the user ${at("cy")}) is already the address of a ${kind}; delete it first`,
          path: ["addresses", 0],
        });
        await expect(store.putObject(user("bob", [taken]), sys)).rejects.toMatchObject({
          code: "conflict",
          path: ["addresses", 0],
        });
      }
      expect(await store.getObject("acme", "User", at("cy"))).toBeUndefined();
      expect((await store.getObject("acme", "User", at("bob")))?.spec.addresses).toEqual([]);
    });

    it("refuses a new user, alias or group at an address a user lists as an extra address", async () => {
      await store.putObject(user("ana", ["sales"]), sys);
      for (const write of [user("sales"), alias("sales"), group("sales")]) {
        await expect(store.putObject(write, sys)).rejects.toMatchObject({
          code: "conflict",
          message: `${at("sales")} is already an extra address of the user ${at("ana")}; remove it there first`,
          path: ["address"],
        });
      }
      expect(
        (await store.listObjects({ accountId: "acme", domain: D, limit: 10 })).items.map((o) => o.id),
      ).toEqual([D, at("ana")]);
    });

    it("frees an extra address when its user gives it up or is deleted, and keeps an update that keeps it", async () => {
      await store.putObject(user("ana", ["sales", "info"]), sys);
      expect((await store.putObject(user("ana", ["sales", "info"], { firstName: "Ana" }), sys)).changed).toBe(
        true,
      );
      await store.putObject(user("ana", ["info"]), sys);
      expect((await store.putObject(alias("sales"), sys)).created).toBe(true);
      await store.deleteObject({ accountId: "acme", kind: "User", id: at("ana") }, sys);
      expect((await store.putObject(user("bob", ["info"]), sys)).created).toBe(true);
    });

    it("lets exactly one of two concurrent writes through two connections take one address", async () => {
      const other = await reopen();
      try {
        for (let round = 0; round < 5; round++) {
          const local = `race${round}`;
          const results = await Promise.allSettled([
            store.putObject(user(`u${round}`, [local]), sys),
            other.putObject(alias(local), sys),
          ]);
          expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
          expect(results.find((r) => r.status === "rejected")).toMatchObject({
            reason: { code: "conflict" },
          });
        }
      } finally {
        await other.close();
      }
    });

    it("ends a departed user's forward when a user takes its address as an extra address, on create and on update", async () => {
      for (const local of ["gone1", "gone2"]) {
        await store.putObject(user(local, [], { forwardOnDelete: "x@elsewhere.example" }), sys);
        await store.putObject(
          { ...user(local, [], { forwardOnDelete: "x@elsewhere.example" }), enabled: false },
          sys,
        );
        await store.deleteObject(
          {
            accountId: "acme",
            kind: "User",
            id: at(local),
            successor: (o) => ({
              kind: "DepartedAddress",
              id: o.id,
              domain: D,
              spec: { address: o.id, forwardTo: "x@elsewhere.example" },
            }),
          },
          sys,
        );
        expect(await store.getObject("acme", "DepartedAddress", at(local))).toBeDefined();
      }
      await store.putObject(user("ana", ["gone1"]), sys);
      expect(await store.getObject("acme", "DepartedAddress", at("gone1"))).toBeUndefined();
      await store.putObject(user("ana", ["gone1", "gone2"]), sys);
      expect(await store.getObject("acme", "DepartedAddress", at("gone2"))).toBeUndefined();
      const audit = await store.listAudit({ accountId: "acme", kind: "DepartedAddress", limit: 10 });
      expect(
        audit.items
          .filter((e) => e.action === "reclaim")
          .map((e) => e.objectId)
          .sort(),
      ).toEqual([at("gone1"), at("gone2")]);
    });
  });

  describe("bulk applies", () => {
    const apply = (s: Store, objects: { kind: string; id: string; spec: Record<string, unknown> }[]) =>
      s.applyTenancy({ accountId: "acme", domain: D, objects: [domainObject, ...objects] }, sys);

    it("moves an extra address from one user to another, and to an alias, in one apply", async () => {
      await apply(store, [user("ana", ["sales"]), user("bob")]);
      await apply(store, [user("ana"), user("bob", ["sales"])]);
      // Written in document order: ana takes it back while bob, written next, still holds it.
      await apply(store, [user("ana", ["sales"]), user("bob")]);
      await apply(store, [alias("sales"), user("ana"), user("bob")]);
      expect(await store.getObject("acme", "Alias", at("sales"))).toBeDefined();
    });

    it("refuses an apply that leaves an address with two holders, naming each, and writes nothing", async () => {
      await apply(store, [user("ana")]);
      const before = await store.tenancyObjects("acme", D);
      for (const objects of [
        [user("ana", ["sales"]), user("bob", ["sales"])],
        [user("ana", ["sales"]), alias("sales")],
        [user("ana", ["team"]), group("team")],
        [user("ana"), user("bob", ["ana"])],
      ]) {
        await expect(apply(store, objects)).rejects.toMatchObject({
          code: "conflict",
          message: expect.stringMatching(
            /^an address may name one recipient only: .*(sales|team|ana)@addr\.example \(/,
          ),
        });
        expect((await store.tenancyObjects("acme", D)).etag).toBe(before.etag);
      }
      await expect(apply(store, [user("ana", ["sales"]), user("bob", ["sales"])])).rejects.toMatchObject({
        message: `an address may name one recipient only: ${at("sales")} (an extra address of the user ${at("ana")}, an extra address of the user ${at("bob")})`,
      });
      expect(await store.getObject("acme", "User", at("bob"))).toBeUndefined();
    });
  });

  describe("where a bulk apply's shared address was taken", () => {
    const apply = (s: Store, objects: { kind: string; id: string; spec: Record<string, unknown> }[]) =>
      s.applyTenancy({ accountId: "acme", domain: D, objects: [domainObject, ...objects] }, sys);

    it("names the first write that took a shared address by its index in the writes, and its field", async () => {
      // What the API's document check would have refused first; here the store's own check must.
      for (const [objects, path] of [
        [
          [user("ana", ["a1", "sales"]), user("bob", ["sales"])],
          [1, "addresses", 1],
        ],
        [
          [alias("info"), group("team"), user("cy", ["team"])],
          [2, "address"],
        ],
        [
          [user("ana"), user("bob", ["ana"])],
          [1, "address"],
        ],
      ] as const) {
        await expect(apply(store, [...objects])).rejects.toMatchObject({ code: "conflict", path });
      }
    });

    it("names the write in the apply when the other holder was written outside it", async () => {
      // An address held by an object the apply neither writes nor deletes (written after the
      // caller's own check, which saw the document only).
      await store.putObject({ ...alias("sales"), domain: "elsewhere.example" }, sys);
      await expect(apply(store, [user("ana"), user("bob", ["a1", "sales"])])).rejects.toMatchObject({
        code: "conflict",
        path: [2, "addresses", 1],
        message: `an address may name one recipient only: ${at("sales")} (the alias, an extra address of the user ${at("bob")})`,
      });
      expect(await store.getObject("acme", "User", at("bob"))).toBeUndefined();
    });
  });

  describe("a store written before the rule covered extra addresses", () => {
    it("migrates with its shared addresses recorded and reported, refuses a third holder, and keeps writes that keep them", async () => {
      await store.putObject(user("ana", ["sales"]), sys);
      await store.putObject(user("bob"), sys);
      await store.putObject(user("dee"), sys);
      await store.close();
      // As the previous version left it: no index, two users listing one extra address, and a user
      // listing its own address (what a model without that rule let through).
      await raw(`DROP TABLE recipient_addresses;
        DELETE FROM schema_migrations WHERE version = 11;
        UPDATE objects SET spec = '{"address":"${at("bob")}","addresses":["${at("sales")}"]}'
          WHERE kind = 'User' AND id = '${at("bob")}';
        UPDATE objects SET spec = '{"address":"${at("dee")}","addresses":["${at("dee")}"]}'
          WHERE kind = 'User' AND id = '${at("dee")}';`);
      store = await reopen();
      expect(await store.sharedAddresses()).toEqual([
        {
          accountId: "acme",
          address: at("sales"),
          holders: [
            { kind: "User", id: at("ana") },
            { kind: "User", id: at("bob") },
          ],
        },
      ]);
      await expect(store.putObject(alias("sales"), sys)).rejects.toMatchObject({ code: "conflict" });
      await expect(store.putObject(user("cy", ["sales"]), sys)).rejects.toMatchObject({ code: "conflict" });
      expect((await store.putObject(user("bob", ["sales"], { firstName: "Bob" }), sys)).changed).toBe(true);
      await store.putObject(user("ana"), sys);
      expect(await store.sharedAddresses()).toEqual([]);
      await expect(store.putObject(alias("sales"), sys)).rejects.toMatchObject({ code: "conflict" });
    });
  });
});

describe("the address probe's cost", () => {
  it("looks holders up by the primary key, never scanning the table (SQLite's query plan)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailplane-addresses-"));
    tempDirs.push(dir);
    const path = join(dir, "mailplane.db");
    await (await openSqliteStore({ path })).close();
    const db = new DatabaseSync(path);
    try {
      for (const except of [true, false]) {
        // SQLite numbers ?NNN parameters as the store's adapter rewrites $NNN.
        const sql = holdersQuery(3, except).replace(/\$(\d+)/g, "?$1");
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
        const details = plan.map((p) => p.detail);
        expect(
          details.some((d) =>
            /^SEARCH recipient_addresses USING (COVERING )?INDEX sqlite_autoindex_recipient_addresses_1 \(account_id=\? AND address=\?\)/.test(
              d,
            ),
          ),
        ).toBe(true);
        expect(details.filter((d) => d.startsWith("SCAN"))).toEqual([]);
      }
    } finally {
      db.close();
    }
  });
});
