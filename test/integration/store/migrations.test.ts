/** Upgrading a store written by an earlier version: migration 10 keeps the change log a reader may still need. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../../platform/store/index.ts";
import { expandStatement, MIGRATIONS } from "../../../platform/store/migrations.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A SQLite file at schema version `upTo`, as that version of mailplane left it. */
function storeAt(upTo: number): string {
  const dir = mkdtempSync(join(tmpdir(), "mailplane-migrate-"));
  dirs.push(dir);
  const path = join(dir, "mailplane.db");
  const db = new DatabaseSync(path);
  db.exec(
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  for (const migration of MIGRATIONS.filter((m) => m.version <= upTo)) {
    for (const statement of migration.statements) db.exec(expandStatement(statement, "sqlite"));
    db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(
      migration.version,
      migration.name,
      "2026-01-01T00:00:00Z",
    );
  }
  db.close();
  return path;
}

describe("migration 10 (one revision per write transaction)", () => {
  it("keeps the change log written one row per revision, and the next write is the next revision", async () => {
    const path = storeAt(9);
    const db = new DatabaseSync(path);
    db.exec("UPDATE tenancy_revision SET revision = 3 WHERE id = 1");
    const log = db.prepare(
      "INSERT INTO change_log (revision, account_id, kind, object_id, op) VALUES (?, 'acme', ?, ?, ?)",
    );
    log.run(1, "Account", "acme", "put");
    log.run(2, "Domain", "one.example", "put");
    log.run(3, "Domain", "one.example", "delete");
    db.close();
    const store = await openSqliteStore({ path });
    try {
      expect((await store.changesSince(0))!.map((c) => `${c.revision} ${c.op} ${c.kind} ${c.id}`)).toEqual([
        "1 put Account acme",
        "2 put Domain one.example",
        "3 delete Domain one.example",
      ]);
      await store.putAccount({ id: "globex", spec: {} }, { actor: "system" });
      expect(await store.revision()).toBe(4);
      expect((await store.changesSince(3))!.map((c) => `${c.revision} ${c.id}`)).toEqual(["4 globex"]);
    } finally {
      await store.close();
    }
  });
});
