/** The store's contract, run unchanged against SQLite (a temp file) and PostgreSQL (a schema of its own). */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import {
  openPostgresStore,
  openSqliteStore,
  type Store,
  type StoreOptions,
} from "../../../platform/store/index.ts";

const STORE_INDEX = fileURLToPath(new URL("../../../platform/store/index.ts", import.meta.url));
const tempDirs: string[] = [];

interface Backend {
  name: "sqlite" | "postgres";
  /** Opens a fresh, empty store; `again` opens a second connection to the same one (another "process"). */
  open(
    options?: StoreOptions,
  ): Promise<{ store: Store; again: (o?: StoreOptions) => Promise<Store>; location: unknown }>;
}

const backends: Backend[] = [
  {
    name: "sqlite",
    async open(options) {
      const dir = mkdtempSync(join(tmpdir(), "mailplane-store-"));
      tempDirs.push(dir);
      const path = join(dir, "mailplane.db");
      const again = (o?: StoreOptions) => openSqliteStore({ ...options, ...o, path });
      return { store: await again(), again, location: { dataDir: dir } };
    },
  },
  {
    name: "postgres",
    async open(options) {
      const url = inject("postgresUrl");
      const schema = `store_${randomBytes(6).toString("hex")}`;
      const again = (o?: StoreOptions) => openPostgresStore({ ...options, ...o, url, schema });
      return { store: await again(), again, location: { dataDir: "/nonexistent", databaseUrl: url, schema } };
    },
  },
];

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const sys = { actor: "system" };
const domain = (accountId: string, name: string) => ({
  accountId,
  kind: "Domain",
  id: name,
  domain: name,
  spec: { name },
});

/** Resolves with the first value `poll` returns that is not undefined, polling every 20 ms (up to 10 s). */
async function eventually<T>(poll: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = poll();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("condition never became true");
}

describe.each(backends)("store contract on $name", (backend) => {
  let store: Store;
  let again: (o?: StoreOptions) => Promise<Store>;
  let location: unknown;
  const extra: Store[] = [];

  beforeEach(async () => {
    ({ store, again, location } = await backend.open());
    await store.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
    await store.putAccount({ id: "globex", spec: { name: "Globex" } }, sys);
  });

  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    await store.close();
  });

  describe("migrations", () => {
    it("opens an already migrated store without changing it", async () => {
      const second = await again();
      extra.push(second);
      expect(await second.getAccount("acme")).toMatchObject({ id: "acme", spec: { name: "Acme" } });
    });
  });

  describe("accounts", () => {
    it("creates, updates with a fresh etag, and keeps the etag on a no-op", async () => {
      const a = await store.getAccount("acme");
      expect(a).toMatchObject({ version: 1 });
      const updated = await store.putAccount(
        { id: "acme", spec: { name: "Acme Inc" }, ifMatch: a!.etag },
        sys,
      );
      expect(updated).toMatchObject({ changed: true, created: false, account: { version: 2 } });
      expect(updated.account.etag).not.toBe(a!.etag);
      const same = await store.putAccount({ id: "acme", spec: { name: "Acme Inc" } }, sys);
      expect(same.changed).toBe(false);
      expect(same.account.etag).toBe(updated.account.etag);
    });

    it("refuses a stale etag with precondition_failed", async () => {
      const a = await store.getAccount("acme");
      await store.putAccount({ id: "acme", spec: { name: "B" } }, sys);
      await expect(
        store.putAccount({ id: "acme", spec: { name: "C" }, ifMatch: a!.etag }, sys),
      ).rejects.toMatchObject({
        code: "precondition_failed",
      });
      expect((await store.getAccount("acme"))!.spec).toEqual({ name: "B" });
    });

    it("deletes an account with everything in it and revokes its tokens, in one transaction", async () => {
      await store.putObject(domain("globex", "globex.example"), sys);
      await store.putObject(
        {
          accountId: "globex",
          kind: "User",
          id: "u@globex.example",
          domain: "globex.example",
          spec: {},
          credential: { hash: "$argon2id$x", keep: { count: 1, days: 1 } },
        },
        sys,
      );
      await store.createToken(
        {
          id: "t1",
          accountId: "globex",
          description: "ci",
          prefix: "mp_t1",
          secretHash: "h1",
          role: "account-admin",
          domains: [],
        },
        sys,
      );
      const stale = (await store.getAccount("globex"))!.etag;
      await store.putAccount({ id: "globex", spec: { name: "Globex 2" } }, sys);
      await expect(store.deleteAccount({ id: "globex", ifMatch: stale }, sys)).rejects.toMatchObject({
        code: "precondition_failed",
      });
      const start = await store.revision();
      await store.deleteAccount({ id: "globex" }, sys);
      expect(await store.getAccount("globex")).toBeUndefined();
      expect(await store.getObject("globex", "Domain", "globex.example")).toBeUndefined();
      expect(await store.getCredential("u@globex.example")).toBeUndefined();
      expect((await store.getToken("t1"))!.revokedAt).not.toBeNull();
      const changes = await store.changesSince(start);
      expect(changes!.map((c) => `${c.op} ${c.kind} ${c.id}`)).toEqual([
        "delete Domain globex.example",
        "delete User u@globex.example",
        "delete Account globex",
      ]);
      const audit = await store.listAudit({ accountId: "globex", action: "delete", limit: 10 });
      expect(audit.items.map((e) => e.objectId)).toEqual(["globex", "u@globex.example", "globex.example"]);
      // A fresh account of the same name starts empty.
      await store.putAccount({ id: "globex", spec: {} }, sys);
      expect((await store.listObjects({ accountId: "globex", limit: 10 })).items).toEqual([]);
    });

    it("pages accounts with an opaque cursor", async () => {
      for (const id of ["a1", "a2", "a3"]) await store.putAccount({ id, spec: {} }, sys);
      const first = await store.listAccounts({ limit: 2 });
      expect(first.items.map((a) => a.id)).toEqual(["a1", "a2"]);
      const second = await store.listAccounts({ limit: 2, cursor: first.nextCursor! });
      expect(second.items.map((a) => a.id)).toEqual(["a3", "acme"]);
      const third = await store.listAccounts({ limit: 2, cursor: second.nextCursor! });
      expect(third).toEqual({ items: [expect.objectContaining({ id: "globex" })], nextCursor: null });
    });
  });

  describe("tokens", () => {
    it("finds a token by its secret hash only, lists, revokes idempotently and counts", async () => {
      const created = await store.createToken(
        {
          id: "tok1",
          accountId: "acme",
          description: "ops",
          prefix: "mp_tok1",
          secretHash: "sha-of-secret",
          role: "domain-admin",
          domains: ["b.example", "a.example", "a.example"],
        },
        { actor: "admin" },
      );
      expect(created).toMatchObject({
        domains: ["a.example", "b.example"],
        revokedAt: null,
        createdBy: "admin",
      });
      expect(created).not.toHaveProperty("secretHash");
      expect(await store.findTokenBySecretHash("sha-of-secret")).toEqual(created);
      expect(await store.findTokenBySecretHash("other")).toBeUndefined();
      const revoked = await store.revokeToken({ id: "tok1" }, sys);
      expect(revoked.revokedAt).not.toBeNull();
      expect(await store.revokeToken({ id: "tok1" }, sys)).toEqual(revoked);
      expect((await store.findTokenBySecretHash("sha-of-secret"))!.revokedAt).toBe(revoked.revokedAt);
      expect(await store.countTokens()).toBe(1);
      expect((await store.listTokens({ accountId: "acme", limit: 10 })).items).toHaveLength(1);
      expect((await store.listTokens({ accountId: "globex", limit: 10 })).items).toHaveLength(0);
      await expect(store.revokeToken({ id: "nope" }, sys)).rejects.toMatchObject({ code: "not_found" });
    });
  });

  describe("tenancy objects", () => {
    it("gives one address to one recipient: a new alias or group at a user's address is a conflict, the user's update goes on, and a deleted one frees it", async () => {
      await store.putObject(domain("acme", "addr.example"), sys);
      const at = (kind: string, spec: Record<string, unknown> = {}) => ({
        accountId: "acme",
        kind,
        id: "x@addr.example",
        domain: "addr.example",
        spec: { address: "x@addr.example", ...spec },
      });
      await store.putObject(at("User"), sys);
      for (const kind of ["Alias", "Group"]) {
        await expect(store.putObject(at(kind), sys)).rejects.toMatchObject({
          code: "conflict",
          message: expect.stringContaining("already the address of a user"),
        });
      }
      expect((await store.putObject(at("User", { firstName: "X" }), sys)).changed).toBe(true);
      await store.deleteObject({ accountId: "acme", kind: "User", id: "x@addr.example" }, sys);
      expect((await store.putObject(at("Alias"), sys)).created).toBe(true);
    });

    it("creates, updates, no-ops and deletes with etag and version bookkeeping", async () => {
      const created = await store.putObject(domain("acme", "example.com"), sys);
      expect(created).toMatchObject({
        created: true,
        changed: true,
        object: { version: 1, domain: "example.com" },
      });
      const noop = await store.putObject(domain("acme", "example.com"), sys);
      expect(noop).toMatchObject({ created: false, changed: false });
      expect(noop.object.etag).toBe(created.object.etag);
      const updated = await store.putObject(
        {
          ...domain("acme", "example.com"),
          spec: { name: "example.com", timezone: "UTC" },
          ifMatch: created.object.etag,
        },
        sys,
      );
      expect(updated.object).toMatchObject({ version: 2, spec: { timezone: "UTC" } });
      expect(updated.object.createdAt).toBe(created.object.createdAt);
      const { before } = await store.deleteObject(
        { accountId: "acme", kind: "Domain", id: "example.com", ifMatch: updated.object.etag },
        sys,
      );
      expect(before.etag).toBe(updated.object.etag);
      expect(await store.getObject("acme", "Domain", "example.com")).toBeUndefined();
    });

    it("gives each object lifetime its own generation: kept by updates, new after a delete, in the snapshot", async () => {
      const first = (await store.putObject(domain("acme", "example.com"), sys)).object;
      expect(first.generation).toMatch(/^g[0-9a-f]{24}$/);
      const updated = await store.putObject(
        { ...domain("acme", "example.com"), spec: { name: "example.com", timezone: "UTC" } },
        sys,
      );
      expect(updated.object.generation).toBe(first.generation);
      expect((await store.getObject("acme", "Domain", "example.com"))?.generation).toBe(first.generation);
      await store.deleteObject({ accountId: "acme", kind: "Domain", id: "example.com" }, sys);
      // The same name again, by another account: a new lifetime, however the name is spelled.
      const second = (await store.putObject(domain("globex", "example.com"), sys)).object;
      expect(second.generation).toMatch(/^g[0-9a-f]{24}$/);
      expect(second.generation).not.toBe(first.generation);
      const snapshot = await store.snapshot();
      expect(snapshot.objects.find((o) => o.id === "example.com")).toMatchObject({
        accountId: "globex",
        generation: second.generation,
      });
    });

    it("treats specs with the same content in another key order as unchanged", async () => {
      await store.putObject(
        { ...domain("acme", "example.com"), spec: { name: "example.com", a: 1, b: [1, 2] } },
        sys,
      );
      const again = await store.putObject(
        { ...domain("acme", "example.com"), spec: { b: [1, 2], a: 1, name: "example.com" } },
        sys,
      );
      expect(again.changed).toBe(false);
    });

    it("enforces mustExist, mustNotExist and If-Match without writing anything", async () => {
      const { object } = await store.putObject(domain("acme", "example.com"), sys);
      await store.putObject({ ...domain("acme", "example.com"), spec: { name: "example.com", v: 2 } }, sys);
      const auditBefore = (await store.listAudit({ accountId: "acme", limit: 100 })).items.length;
      await expect(
        store.putObject({ ...domain("acme", "example.com"), spec: { v: 3 }, ifMatch: object.etag }, sys),
      ).rejects.toMatchObject({ code: "precondition_failed" });
      await expect(
        store.deleteObject(
          { accountId: "acme", kind: "Domain", id: "example.com", ifMatch: object.etag },
          sys,
        ),
      ).rejects.toMatchObject({ code: "precondition_failed" });
      await expect(
        store.putObject({ ...domain("acme", "example.com"), mustNotExist: true }, sys),
      ).rejects.toMatchObject({ code: "already_exists" });
      await expect(
        store.putObject({ ...domain("acme", "other.com"), mustExist: true }, sys),
      ).rejects.toMatchObject({
        code: "not_found",
      });
      await expect(
        store.putObject({ ...domain("acme", "other.com"), ifMatch: "x" }, sys),
      ).rejects.toMatchObject({
        code: "precondition_failed",
      });
      expect((await store.listAudit({ accountId: "acme", limit: 100 })).items.length).toBe(auditBefore);
      expect((await store.getObject("acme", "Domain", "example.com"))!.spec).toEqual({
        name: "example.com",
        v: 2,
      });
    });

    it("lets exactly one of many concurrent writers with the same If-Match win", async () => {
      const { object } = await store.putObject(domain("acme", "example.com"), sys);
      const attempts = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          store.putObject(
            { ...domain("acme", "example.com"), spec: { name: "example.com", i }, ifMatch: object.etag },
            sys,
          ),
        ),
      );
      expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(1);
      for (const a of attempts.filter((x) => x.status === "rejected")) {
        expect((a as PromiseRejectedResult).reason).toMatchObject({ code: "precondition_failed" });
      }
      expect((await store.getObject("acme", "Domain", "example.com"))!.version).toBe(2);
    });

    it("commits concurrent writes independently: failed ones leave nothing, the others all land", async () => {
      const start = await store.revision();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          store.putObject(
            {
              ...domain("acme", `batch${i}.example`),
              guard: () => (i % 2 ? new Error(`refused ${i}`) : undefined),
            },
            sys,
          ),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? "rejected" : "fulfilled")),
      );
      const { items } = await store.listObjects({ accountId: "acme", kind: "Domain", limit: 100 });
      expect(items.map((o) => o.id).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `batch${i * 2}.example`).sort(),
      );
      expect(await store.revision()).toBe(start + 10);
      const audit = await store.listAudit({ accountId: "acme", kind: "Domain", limit: 100 });
      expect(audit.items).toHaveLength(10);
    });

    it("refuses objects under a domain the account does not hold, and a domain another account holds", async () => {
      await store.putObject(domain("globex", "globex.example"), sys);
      const route = {
        accountId: "acme",
        kind: "Route",
        id: "globex.example/routes/mx.globex.example:25",
        domain: "globex.example",
        spec: { host: "mx.globex.example" },
        parent: { kind: "Domain", id: "globex.example" },
      };
      // Another account's domain looks exactly like a missing one (the API answers 404 for both).
      await expect(store.putObject(route, sys)).rejects.toMatchObject({ code: "parent_missing" });
      await store.putObject({ ...route, accountId: "globex" }, sys);
      // Even when that account holds an object with this very ID.
      await expect(store.putObject(route, sys)).rejects.toMatchObject({ code: "parent_missing" });
      await expect(
        store.putObject(
          {
            ...route,
            id: "nothere.example/routes/x:25",
            domain: "nothere.example",
            parent: { kind: "Domain", id: "nothere.example" },
          },
          sys,
        ),
      ).rejects.toMatchObject({ code: "parent_missing" });
      await expect(store.putObject(domain("acme", "globex.example"), sys)).rejects.toMatchObject({
        code: "owned_elsewhere",
      });
      // Account-wide singletons share an ID across accounts without conflict.
      const policy = {
        kind: "PasswordPolicy",
        id: "account/password-policy",
        domain: null,
        spec: { minLength: 8 },
      };
      await store.putObject({ ...policy, accountId: "acme" }, sys);
      await store.putObject({ ...policy, accountId: "globex" }, sys);
      expect(await store.getObject("globex", "PasswordPolicy", "account/password-policy")).toMatchObject({
        domain: null,
      });
    });

    it("refuses to delete a domain that still holds objects", async () => {
      await store.putObject(domain("acme", "example.com"), sys);
      await store.putObject(
        {
          accountId: "acme",
          kind: "Alias",
          id: "info@example.com",
          domain: "example.com",
          spec: {},
          parent: { kind: "Domain", id: "example.com" },
        },
        sys,
      );
      await expect(
        store.deleteObject(
          { accountId: "acme", kind: "Domain", id: "example.com", refuseIfDependents: true },
          sys,
        ),
      ).rejects.toMatchObject({
        code: "has_dependents",
        message: expect.stringContaining("info@example.com"),
      });
      await store.deleteObject({ accountId: "acme", kind: "Alias", id: "info@example.com" }, sys);
      await store.deleteObject(
        { accountId: "acme", kind: "Domain", id: "example.com", refuseIfDependents: true },
        sys,
      );
    });

    it("deletes a domain's singletons with it, audited as their own deletions", async () => {
      await store.putObject(domain("acme", "example.com"), sys);
      await store.putObject(
        {
          accountId: "acme",
          kind: "FilterSettings",
          id: "example.com/filter-settings",
          domain: "example.com",
          spec: { scope: "example.com" },
        },
        sys,
      );
      await store.deleteObject(
        {
          accountId: "acme",
          kind: "Domain",
          id: "example.com",
          refuseIfDependents: true,
          cascadeKinds: ["FilterSettings", "PasswordPolicy"],
        },
        sys,
      );
      expect(await store.getObject("acme", "FilterSettings", "example.com/filter-settings")).toBeUndefined();
      const audit = await store.listAudit({ accountId: "acme", action: "delete", limit: 10 });
      expect(audit.items.map((e) => e.kind)).toEqual(["Domain", "FilterSettings"]);
    });

    it("accepts any of several If-Match etags and records a custom audit action", async () => {
      const { object } = await store.putObject(domain("acme", "example.com"), sys);
      await store.deleteObject(
        {
          accountId: "acme",
          kind: "Domain",
          id: "example.com",
          ifMatch: ["nope", object.etag],
          auditAction: "reset",
        },
        sys,
      );
      const audit = await store.listAudit({ accountId: "acme", kind: "Domain", limit: 1 });
      expect(audit.items[0]!.action).toBe("reset");
    });

    it("runs guards inside the transaction and aborts on their error", async () => {
      const { StoreError } = await import("../../../platform/store/index.ts");
      await store.putObject(domain("acme", "example.com"), sys);
      const user = {
        accountId: "acme",
        kind: "User",
        id: "bob@example.com",
        domain: "example.com",
        spec: { enabled: true },
      };
      await store.putObject(user, sys);
      const guard = (o: { enabled: boolean }) =>
        o.enabled ? new StoreError("conflict", "disable first") : undefined;
      await expect(store.deleteObject({ ...user, guard }, sys)).rejects.toMatchObject({ code: "conflict" });
      await store.putObject({ ...user, spec: { enabled: false }, enabled: false }, sys);
      await store.deleteObject({ ...user, guard }, sys);
    });

    it("lists by kind, domain and domain set with stable cursor pages", async () => {
      for (const d of ["a.example", "b.example", "c.example"]) {
        await store.putObject(domain("acme", d), sys);
        for (const local of ["x", "y"]) {
          await store.putObject(
            { accountId: "acme", kind: "Alias", id: `${local}@${d}`, domain: d, spec: {} },
            sys,
          );
        }
      }
      await store.putObject(domain("globex", "g.example"), sys);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listObjects({ accountId: "acme", limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((o) => `${o.kind}:${o.id}`));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([
        "Alias:x@a.example",
        "Alias:x@b.example",
        "Alias:x@c.example",
        "Alias:y@a.example",
        "Alias:y@b.example",
        "Alias:y@c.example",
        "Domain:a.example",
        "Domain:b.example",
        "Domain:c.example",
      ]);
      const aliasesOfB = await store.listObjects({
        accountId: "acme",
        kind: "Alias",
        domain: "b.example",
        limit: 10,
      });
      expect(aliasesOfB.items.map((o) => o.id)).toEqual(["x@b.example", "y@b.example"]);
      const scoped = await store.listObjects({
        accountId: "acme",
        domainIn: ["a.example", "c.example"],
        limit: 100,
      });
      expect(scoped.items).toHaveLength(6);
      expect((await store.listObjects({ accountId: "acme", domainIn: [], limit: 10 })).items).toEqual([]);
      await expect(
        store.listObjects({ accountId: "acme", limit: 10, cursor: "garbage" }),
      ).rejects.toMatchObject({
        code: "invalid_cursor",
      });
    });
  });

  describe("read freshness", () => {
    it("answers its own commits at once, however often it read before", async () => {
      await store.putObject({ ...domain("acme", "example.com"), spec: { v: 1 } }, sys);
      for (let i = 0; i < 3; i++)
        expect((await store.getObject("acme", "Domain", "example.com"))!.spec).toEqual({ v: 1 });
      expect((await store.listObjects({ accountId: "acme", limit: 10 })).items).toHaveLength(1);
      await store.putObject({ ...domain("acme", "example.com"), spec: { v: 2 } }, sys);
      await store.putObject(domain("acme", "second.example"), sys);
      expect((await store.getObject("acme", "Domain", "example.com"))!.spec).toEqual({ v: 2 });
      expect((await store.listObjects({ accountId: "acme", limit: 10 })).items).toHaveLength(2);
    });

    it(
      backend.name === "sqlite"
        ? "answers another connection's commit at once (PRAGMA data_version is asked on every read)"
        : "answers another node's commit once its NOTIFY arrives, and a revoked token within a second",
      async () => {
        const other = await again();
        extra.push(other);
        await store.putObject({ ...domain("acme", "example.com"), spec: { v: 1 } }, sys);
        await other.createToken(
          {
            id: "tf",
            accountId: "acme",
            description: "",
            prefix: "p",
            secretHash: "fresh",
            role: "read-only",
            domains: [],
          },
          sys,
        );
        for (let i = 0; i < 3; i++) {
          expect((await store.getObject("acme", "Domain", "example.com"))!.spec).toEqual({ v: 1 });
          expect(await store.findTokenBySecretHash("fresh")).toMatchObject({ revokedAt: null });
        }
        await other.putObject({ ...domain("acme", "example.com"), spec: { v: 2 } }, sys);
        await other.revokeToken({ id: "tf" }, sys);
        if (backend.name === "sqlite") {
          // No waiting: the very next read must see both commits.
          expect((await store.getObject("acme", "Domain", "example.com"))!.spec).toEqual({ v: 2 });
          expect((await store.findTokenBySecretHash("fresh"))!.revokedAt).not.toBeNull();
          return;
        }
        let seen: unknown;
        for (let i = 0; i < 100 && !seen; i++) {
          const o = await store.getObject("acme", "Domain", "example.com");
          const t = await store.findTokenBySecretHash("fresh");
          if ((o?.spec as { v?: number } | undefined)?.v === 2 && t?.revokedAt) seen = true;
          else await new Promise((r) => setTimeout(r, 20));
        }
        expect(seen).toBe(true);
      },
    );
  });

  describe("credentials", () => {
    it("stores the hash with the user in one transaction, keeps history, and drops both with the user", async () => {
      let clock = Date.parse("2030-01-01T00:00:00Z");
      const timed = await again({ now: () => new Date(clock) });
      extra.push(timed);
      await timed.putObject(domain("acme", "example.com"), sys);
      const user = {
        accountId: "acme",
        kind: "User",
        id: "alice@example.com",
        domain: "example.com",
        spec: { enabled: true },
      };
      for (const n of [1, 2, 3, 4, 5, 6]) {
        clock += 86_400_000;
        const result = await timed.putObject(
          { ...user, credential: { hash: `$argon2id$h${n}`, keep: { count: 3, days: 2 } } },
          sys,
        );
        expect(result.changed).toBe(true);
      }
      const stored = await timed.getObject("acme", "User", "alice@example.com");
      expect(stored!.secretSetAt).toBe(new Date(clock).toISOString());
      const cred = await timed.getCredential("alice@example.com", "acme");
      expect(cred).toMatchObject({
        accountId: "acme",
        hash: "$argon2id$h6",
        failedLogins: 0,
        lockedUntil: null,
      });
      // The newest 3 are kept; h3 (3 days old) is past both the count and the 2-day window.
      expect(cred!.history.map((h) => h.hash)).toEqual(["$argon2id$h6", "$argon2id$h5", "$argon2id$h4"]);
      expect((await timed.getCredential("alice@example.com"))!.accountId).toBe("acme");
      const audit = await timed.listAudit({ objectId: "alice@example.com", limit: 1 });
      expect(audit.items[0]!.after).toMatchObject({ passwordChanged: true });
      expect(JSON.stringify(audit.items)).not.toContain("$argon2id");
      await timed.deleteObject({ accountId: "acme", kind: "User", id: "alice@example.com" }, sys);
      expect(await timed.getCredential("alice@example.com")).toBeUndefined();
    });
  });

  describe("audit log", () => {
    it("writes one entry per change with actor, before and after, secrets redacted, newest first", async () => {
      const ctx = { actor: "tok_admin", role: "account-admin", requestId: "req-1" };
      await store.putObject(domain("acme", "example.com"), ctx);
      await store.putObject(
        { ...domain("acme", "example.com"), spec: { name: "example.com", password: "hunter2" } },
        ctx,
      );
      await store.putObject(
        { ...domain("acme", "example.com"), spec: { name: "example.com", password: "hunter2" } },
        ctx,
      );
      await store.deleteObject({ accountId: "acme", kind: "Domain", id: "example.com" }, ctx);
      const { items } = await store.listAudit({ accountId: "acme", kind: "Domain", limit: 10 });
      expect(items.map((e) => e.action)).toEqual(["delete", "update", "create"]);
      expect(items[1]).toMatchObject({
        actor: "tok_admin",
        actorRole: "account-admin",
        requestId: "req-1",
        objectId: "example.com",
        before: { id: "example.com", name: "example.com" },
        after: { password: "[REDACTED]" },
      });
      expect(JSON.stringify(items)).not.toContain("hunter2");
      const deletes = await store.listAudit({
        accountId: "acme",
        actor: "tok_admin",
        action: "delete",
        limit: 10,
      });
      expect(deletes.items.map((e) => e.objectId)).toEqual(["example.com"]);
      const future = await store.listAudit({
        accountId: "acme",
        since: "2999-01-01T00:00:00.000Z",
        limit: 10,
      });
      expect(future.items).toEqual([]);
      const past = await store.listAudit({ accountId: "acme", until: "2000-01-01T00:00:00.000Z", limit: 10 });
      expect(past.items).toEqual([]);
      const page1 = await store.listAudit({ accountId: "acme", limit: 2 });
      const page2 = await store.listAudit({ accountId: "acme", limit: 2, cursor: page1.nextCursor! });
      expect(page2.items[0]!.seq).toBeLessThan(page1.items[1]!.seq);
    });
  });

  describe("idempotency", () => {
    it("stores the response in the write's transaction and refuses a second write with the same key", async () => {
      const idem = {
        tokenId: "tok1",
        key: "k1",
        requestHash: "rh1",
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        response: (r: { object: { id: string } }) => ({ status: 201, body: { id: r.object.id } }),
      };
      await store.putObject({ ...domain("acme", "example.com"), idempotency: idem }, sys);
      expect(await store.getIdempotency("tok1", "k1")).toMatchObject({
        requestHash: "rh1",
        status: 201,
        body: { id: "example.com" },
      });
      await expect(
        store.putObject({ ...domain("acme", "second.example"), idempotency: idem }, sys),
      ).rejects.toMatchObject({ code: "idempotency_exists" });
      // The refused write left nothing behind.
      expect(await store.getObject("acme", "Domain", "second.example")).toBeUndefined();
      expect(await store.getIdempotency("tok2", "k1")).toBeUndefined();
    });

    it("stores a token's response with the token and refuses a second token with the same key", async () => {
      const idem = {
        tokenId: "admin",
        key: "tk",
        requestHash: "rh",
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        response: (t: { id: string }) => ({ status: 201, body: { id: t.id } }),
      };
      const base = { accountId: "acme", description: "", prefix: "p", role: "read-only", domains: [] };
      await store.createToken({ ...base, id: "t-a", secretHash: "sa", idempotency: idem }, sys);
      await expect(
        store.createToken({ ...base, id: "t-b", secretHash: "sb", idempotency: idem }, sys),
      ).rejects.toMatchObject({ code: "idempotency_exists" });
      expect(await store.getToken("t-b")).toBeUndefined();
      expect(await store.getIdempotency("admin", "tk")).toMatchObject({ body: { id: "t-a" } });
    });

    it("forgets expired records", async () => {
      await store.putObject(
        {
          ...domain("acme", "example.com"),
          idempotency: {
            tokenId: "tok1",
            key: "old",
            requestHash: "rh",
            expiresAt: new Date(Date.now() - 1000).toISOString(),
            response: () => ({ status: 201, body: {} }),
          },
        },
        sys,
      );
      expect(await store.getIdempotency("tok1", "old")).toBeUndefined();
      expect(await store.purgeIdempotency()).toBe(1);
    });
  });

  describe("settings", () => {
    it("keeps the first value written for a setting, across connections", async () => {
      expect(await store.getSetting("dkim")).toBeUndefined();
      expect(await store.initSetting("dkim", "first")).toBe("first");
      const other = await again();
      extra.push(other);
      expect(await other.initSetting("dkim", "second")).toBe("first");
      expect(await other.getSetting("dkim")).toBe("first");
    });
  });

  describe("change feed", () => {
    it("bumps the revision once per committed write transaction and lists the changes in order", async () => {
      const start = await store.revision();
      await store.putObject(domain("acme", "example.com"), sys);
      await store.putObject(domain("acme", "example.com"), sys);
      await store.deleteObject({ accountId: "acme", kind: "Domain", id: "example.com" }, sys);
      await expect(
        store.deleteObject({ accountId: "acme", kind: "Domain", id: "example.com" }, sys),
      ).rejects.toThrow();
      expect(await store.revision()).toBe(start + 2);
      expect(await store.changesSince(start)).toEqual([
        { revision: start + 1, accountId: "acme", kind: "Domain", id: "example.com", op: "put" },
        { revision: start + 2, accountId: "acme", kind: "Domain", id: "example.com", op: "delete" },
      ]);
    });

    it("makes a tenancy apply of several objects one revision, every change listed at it in order", async () => {
      const start = await store.revision();
      const objects = [
        { kind: "Domain", id: "one.example", spec: { name: "one.example" } },
        ...["a", "b", "c"].map((local) => ({
          kind: "Alias",
          id: `${local}@one.example`,
          spec: { address: `${local}@one.example`, action: { type: "forward", to: ["x@elsewhere.example"] } },
        })),
      ];
      await store.applyTenancy({ accountId: "acme", domain: "one.example", objects }, sys);
      expect(await store.revision()).toBe(start + 1);
      const changes = await store.changesSince(start);
      expect(changes!.map((c) => `${c.revision - start} ${c.op} ${c.kind} ${c.id}`)).toEqual([
        "1 put Domain one.example",
        "1 put Alias a@one.example",
        "1 put Alias b@one.example",
        "1 put Alias c@one.example",
      ]);
      // The next transaction is the next revision, and a reader from the middle of nothing misses nothing.
      await store.applyTenancy(
        { accountId: "acme", domain: "one.example", objects: objects.slice(0, 2) },
        sys,
      );
      expect(await store.revision()).toBe(start + 2);
      expect(
        (await store.changesSince(start + 1))!.map((c) => `${c.revision - start} ${c.op} ${c.id}`),
      ).toEqual(["2 delete c@one.example", "2 delete b@one.example"]);
    });

    it("answers null when the change log no longer reaches back", async () => {
      const small = await again({ changeLogRetention: 5 });
      extra.push(small);
      const start = await small.revision();
      for (let i = 0; i < 120; i++)
        await small.putObject({ ...domain("acme", "example.com"), spec: { i } }, sys);
      expect(await small.changesSince(start)).toBeNull();
      expect(await small.changesSince((await small.revision()) - 1)).toHaveLength(1);
    });

    it("tells watchers about a change committed through another connection", async () => {
      const events: { revision: number; changes: unknown }[] = [];
      const stop = store.watch((e) => events.push(e));
      const other = await again();
      extra.push(other);
      await new Promise((r) => setTimeout(r, 300));
      await other.putObject(domain("acme", "watched.example"), sys);
      const event = await eventually(() =>
        events.find((e) => JSON.stringify(e.changes).includes("watched.example")),
      );
      expect(event.changes).toEqual([
        expect.objectContaining({ kind: "Domain", id: "watched.example", op: "put" }),
      ]);
      stop();
    });

    it("tells watchers about a change committed by another OS process", async () => {
      const events: { revision: number; changes: unknown }[] = [];
      const stop = store.watch((e) => events.push(e));
      await new Promise((r) => setTimeout(r, 300));
      const script = `
        const { openStore } = await import(${JSON.stringify(STORE_INDEX)});
        const store = await openStore(JSON.parse(process.argv[1]));
        await store.putObject({ accountId: "acme", kind: "Domain", id: "child.example", domain: "child.example", spec: {} }, { actor: "child" });
        await store.close();`;
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--input-type=module", "-e", script, JSON.stringify(location)],
          {
            stdio: ["ignore", "inherit", "inherit"],
          },
        );
        child.on("error", reject);
        child.on("exit", resolve);
      });
      expect(code).toBe(0);
      const event = await eventually(() =>
        events.find((e) => JSON.stringify(e.changes).includes("child.example")),
      );
      expect(event.changes).toEqual([expect.objectContaining({ id: "child.example", op: "put" })]);
      stop();
    });

    it("snapshots every account and object at one revision, optionally only enabled ones", async () => {
      await store.putObject(domain("acme", "example.com"), sys);
      await store.putObject(domain("globex", "globex.example"), sys);
      await store.putObject(
        {
          accountId: "acme",
          kind: "User",
          id: "off@example.com",
          domain: "example.com",
          spec: {},
          enabled: false,
        },
        sys,
      );
      const all = await store.snapshot();
      expect(all.revision).toBe(await store.revision());
      expect(all.accounts.map((a) => a.id)).toEqual(["acme", "globex"]);
      expect(all.objects.map((o) => o.id)).toEqual(["example.com", "off@example.com", "globex.example"]);
      const enabled = await store.snapshot({ enabledOnly: true });
      expect(enabled.objects.map((o) => o.id)).toEqual(["example.com", "globex.example"]);
    });
  });
});
