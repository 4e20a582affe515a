/** The master key seals the DKIM private key in the store; another key cannot open it. */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DKIM_SETTING,
  ensureDkimKey,
  loadMasterKey,
  MASTER_KEY_FILE,
} from "../../../platform/api/domains/dns.ts";
import { openSqliteStore } from "../../../platform/store/sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "mailplane-master-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("master key and the DKIM key", () => {
  it("creates <dataDir>/master-key once, mode 0600, and reads the same key back", () => {
    const first = loadMasterKey(dir, {});
    expect(first).toHaveLength(32);
    expect(statSync(join(dir, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadMasterKey(dir, {}).equals(first)).toBe(true);
  });

  it("prefers MAILPLANE_MASTER_KEY and rejects one of the wrong length", () => {
    const given = Buffer.alloc(32, 7);
    expect(loadMasterKey(dir, { MAILPLANE_MASTER_KEY: given.toString("base64") }).equals(given)).toBe(true);
    expect(() => loadMasterKey(dir, { MAILPLANE_MASTER_KEY: "c2hvcnQ=" })).toThrow(/32 bytes/);
  });

  it("stores the private key sealed, opens it with the same key, refuses another", async () => {
    const store = await openSqliteStore({ path: ":memory:" });
    try {
      const key = Buffer.alloc(32, 1);
      const dkim = await ensureDkimKey(store, key);
      expect(dkim.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const stored = (await store.getSetting(DKIM_SETTING)) ?? "";
      expect(stored).not.toContain("PRIVATE KEY");
      expect(JSON.parse(stored).privateKey.alg).toBe("A256GCM");
      expect((await ensureDkimKey(store, key)).privateKeyPem).toBe(dkim.privateKeyPem);
      await expect(ensureDkimKey(store, Buffer.alloc(32, 2))).rejects.toThrow(/another master key/);
    } finally {
      await store.close();
    }
  });
});
