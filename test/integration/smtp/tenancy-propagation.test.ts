/**
 * A bulk tenancy apply reaches the engine all or nothing: the engine following the store (SQLite
 * file, PostgreSQL) never enforces part of an apply, even when another apply commits while it reads
 * the objects a batch changed.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type StorePolicy, storePolicy } from "../../../platform/smtp/policy/from-store.ts";
import type { TenancyObjectWrite } from "../../../platform/store/contract/tenancy-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { AliasSpec, DomainSpec, UserSpec } from "../../../sdk/src/models/index.ts";

const sys = { actor: "system" };
const D = "propagation.example";

interface Backend {
  name: string;
  /** Two connections to one store: the writer (the API's) and the engine's. */
  open(): Promise<{ writer: Store; engineStore: Store; cleanup: () => void }>;
}

const backends: Backend[] = [
  {
    name: "SQLite (one file, two connections)",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mp-propagation-"));
      const path = join(dir, "mailplane.db");
      return {
        writer: await openSqliteStore({ path }),
        engineStore: await openSqliteStore({ path }),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "PostgreSQL (two connections)",
    async open() {
      const url = inject("postgresUrl");
      const schema = `prop_${randomBytes(6).toString("hex")}`;
      return {
        writer: await openPostgresStore({ url, schema }),
        engineStore: await openPostgresStore({ url, schema }),
        cleanup: () => {},
      };
    },
  },
];

/** Generation `g` of the tenancy: users g-0…g-19 and an alias per user; each generation replaces the last. */
function generation(g: string): TenancyObjectWrite[] {
  const writes: TenancyObjectWrite[] = [{ kind: "Domain", id: D, spec: DomainSpec.parse({ name: D }) }];
  for (let i = 0; i < 20; i++) {
    const address = `${g}-${i}@${D}`;
    writes.push({ kind: "User", id: address, spec: UserSpec.parse({ address }) });
    const alias = `${g}-alias-${i}@${D}`;
    writes.push({
      kind: "Alias",
      id: alias,
      spec: AliasSpec.parse({ address: alias, action: { type: "forward", to: [address] } }),
    });
  }
  return writes;
}

/** The local parts a policy enforces for the domain (users and aliases), sorted. */
function enforced(policy: StorePolicy): string[] {
  const domain = policy.current().domains.get(D);
  if (!domain) return [];
  return [...domain.users.keys(), ...domain.aliases.keys()].sort();
}

const addressesOf = (g: string) =>
  generation(g)
    .filter((w) => w.kind !== "Domain")
    .map((w) => w.id.split("@")[0]!)
    .sort();

describe.each(backends)("bulk applies reach the engine all or nothing on $name", (backend) => {
  let writer: Store;
  let engineStore: Store;
  let cleanup: () => void;

  beforeAll(async () => {
    ({ writer, engineStore, cleanup } = await backend.open());
    await writer.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
  });
  afterAll(async () => {
    await engineStore?.close();
    await writer?.close();
    cleanup?.();
  });

  const apply = (g: string) =>
    writer.applyTenancy({ accountId: "acme", domain: D, objects: generation(g) }, sys);

  it("never enforces part of an apply, when the next apply commits while the engine reads a batch", async () => {
    await apply("a");
    let interleave: (() => Promise<unknown>) | undefined;
    // The engine's store: before its first read of a batch's objects, the next apply commits.
    const engineView = new Proxy(engineStore, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "getObject" || typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          const write = interleave;
          interleave = undefined;
          if (write) await write();
          return value.apply(target, args);
        };
      },
    });
    const policy = await storePolicy(engineView as Store, { trustAllDomains: true });
    const seen: string[][] = [];
    policy.subscribe?.(() => seen.push(enforced(policy)));
    try {
      expect(enforced(policy)).toEqual(addressesOf("a"));
      interleave = () => apply("c");
      await apply("b");
      // The engine reads b's batch, and c commits inside that read; then it reaches c's revision.
      for (let i = 0; i < 250 && interleave; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      await policy.reached(await writer.revision());
      expect(interleave).toBeUndefined();
      expect(enforced(policy)).toEqual(addressesOf("c"));
      const whole = [addressesOf("a"), addressesOf("b"), addressesOf("c")].map((x) => x.join());
      for (const state of seen) expect(whole).toContain(state.join());
    } finally {
      policy.close?.();
    }
  });
});
