/**
 * No plaintext password anywhere: set known passwords over HTTP (created, changed, refused by the
 * policy, refused as reused), then search the database (SQLite file bytes incl. WAL; PostgreSQL every
 * table of the schema as text), the audit log, the captured server logs and every response body.
 * Token secrets get the same treatment: only their sha256 is stored.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

/** Every byte the store holds, as text: SQLite's files, or each PostgreSQL table row as text. */
async function databaseText(h: Harness): Promise<string> {
  if (!h.database) {
    return readdirSync(h.dataDir)
      .filter((f) => f.startsWith("mailplane.db"))
      .map((f) => readFileSync(join(h.dataDir, f)).toString("latin1"))
      .join("\n");
  }
  const client = new pg.Client({ connectionString: h.database.url });
  await client.connect();
  try {
    const tables = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [h.database.schema],
    );
    expect(tables.rows.length).toBeGreaterThan(8);
    const parts: string[] = [];
    for (const { table_name } of tables.rows as { table_name: string }[]) {
      const rows = await client.query(`SELECT t::text AS row FROM "${h.database.schema}"."${table_name}" t`);
      parts.push(`-- ${table_name}`, ...rows.rows.map((r: { row: string }) => r.row));
    }
    return parts.join("\n");
  } finally {
    await client.end();
  }
}

describe.each(BACKENDS)("no plaintext secret on $name", (backend) => {
  let h: Harness;
  // The base rule allows 6–25 characters: 17 here, 48 random bits each.
  const sentinel = () => `Snt-${randomBytes(6).toString("hex")}Q`;
  const passwords = {
    created: sentinel(),
    changed: sentinel(),
    patched: sentinel(),
    refused: `${sentinel()} with spaces`,
    reused: "",
  };
  let tokenSecret = "";
  let domain = "";

  beforeAll(async () => {
    h = await startHarness(backend);
    const t = await h.tenant("s");
    const d = uniqueDomain("s");
    domain = d;
    const call = (method: string, path: string, body?: unknown) =>
      h.call(method, path, { token: t.token, ...(body === undefined ? {} : { body }) });
    await call("PUT", `/v1/domains/${d}`, { name: d });
    const user = `/v1/domains/${d}/users/alice@${d}`;
    expect((await call("PUT", user, { address: `alice@${d}`, password: passwords.created })).status).toBe(
      201,
    );
    expect((await call("PUT", user, { address: `alice@${d}`, password: passwords.changed })).status).toBe(
      200,
    );
    expect((await call("PATCH", user, { password: passwords.patched })).status).toBe(200);
    const refused = await call("PATCH", user, { password: passwords.refused });
    expect(refused.body.code).toBe("MP_PASSWORD_POLICY_VIOLATION");
    passwords.reused = passwords.created;
    const reused = await call("PATCH", user, { password: passwords.reused });
    expect(reused.body.errors[0].code).toBe("reuse");
    const bob = `/v1/domains/${d}/users/bob@${d}`;
    await call("PUT", bob, { address: `bob@${d}`, password: `${passwords.created}b`, enabled: false });
    await call("DELETE", bob);
    const token = await call("POST", "/v1/tokens", { role: "read-only" });
    tokenSecret = token.body.token;
    await h.call("GET", "/v1/whoami", { token: tokenSecret });
    // A replayed create answers the secret again; the stored record must not hold it readably.
    await h.call("POST", "/v1/tokens", {
      token: t.token,
      body: { role: "read-only" },
      headers: { "idempotency-key": "k" },
    });
    await h.call("POST", "/v1/tokens", {
      token: t.token,
      body: { role: "read-only" },
      headers: { "idempotency-key": "k" },
    });
    // Read everything back through the API, so the response bodies include every object and entry.
    let cursor: string | null = null;
    do {
      const page = await call("GET", `/v1/audit?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      cursor = page.body.nextCursor;
    } while (cursor);
    await call("GET", `/v1/domains/${d}/users`);
    await call("GET", "/v1/tokens");
  });
  afterAll(async () => h?.close());

  const all = () => Object.values(passwords);

  it("stores argon2id hashes, never the password", async () => {
    const cred = await h.cp.store.getCredential(`alice@${domain}`);
    expect(cred?.hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    const text = await databaseText(h);
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toContain("$argon2id$");
    for (const p of all()) expect(text.includes(p), "password in the database").toBe(false);
    expect(text.includes(tokenSecret), "token secret in the database").toBe(false);
    // The DKIM private key is sealed with the master key: no PEM, no base64 of it.
    expect(text.includes("PRIVATE KEY"), "DKIM private key in the database").toBe(false);
    const pem = h.cp.app.services.dkim.privateKeyPem;
    const body = pem
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    expect(text.includes(body.slice(0, 64)), "DKIM private key in the database").toBe(false);
  });

  it("keeps passwords out of the audit log", async () => {
    const entries = await h.cp.store.listAudit({ limit: 10_000 });
    const text = JSON.stringify(entries);
    expect(text).toContain("passwordChanged");
    for (const p of all()) expect(text.includes(p), "password in the audit log").toBe(false);
  });

  it("keeps passwords and tokens out of the server logs", async () => {
    const text = h.logs.join("");
    expect(h.logs.length).toBeGreaterThan(20);
    for (const p of all()) expect(text.includes(p), "password in the logs").toBe(false);
    expect(text.includes(tokenSecret), "token in the logs").toBe(false);
    expect(text.includes(h.adminToken), "admin token in the logs").toBe(false);
  });

  it("never answers a password in any response body", async () => {
    expect(h.responses.length).toBeGreaterThan(15);
    const text = h.responses.join("\n");
    for (const p of all()) expect(text.includes(p), "password in a response").toBe(false);
  });
});
