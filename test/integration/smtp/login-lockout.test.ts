/** SMTP AUTH lockout kept in the store: two engines on one store count into and honour one lockout, it survives an engine restart, and the API lifts it (Python smtplib as the client). */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { argon2ParamsOf, DEFAULT_ARGON2, hashPassword } from "../../../platform/api/access/passwords.ts";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { storeCredentials } from "../../../platform/smtp/policy/from-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { DomainSpec, UserSpec } from "../../../sdk/src/models/index.ts";
import { HOSTNAME, pythonSmtp, stepLine } from "./support/harness.ts";

const sys = { actor: "system" };
const PASSWORD = "Alice-Secret-1";
const LOCKED = "454 4.7.0 Too many failed logins from your address, try again later";
const INVALID = "535 5.7.8 Authentication credentials invalid";

interface Backend {
  name: string;
  /** Opens one more independent connection to the same store (another process would hold its own). */
  prepare(): { connect: () => Promise<Store>; cleanup: () => void };
}

const backends: Backend[] = [
  {
    name: "PostgreSQL",
    prepare() {
      const url = inject("postgresUrl");
      const schema = `lockout_${randomBytes(6).toString("hex")}`;
      return { connect: () => openPostgresStore({ url, schema }), cleanup: () => {} };
    },
  },
  {
    name: "SQLite (one file)",
    prepare() {
      const dir = mkdtempSync(join(tmpdir(), "mp-lockout-"));
      return {
        connect: () => openSqliteStore({ path: join(dir, "mailplane.db") }),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

/** One engine on its own store connection and data directory, as `mailplane smtp` runs it. */
interface RunningEngine {
  store: Store;
  engine: EngineOnStore;
  dataDir: string;
}

/** AUTH PLAIN over STARTTLS from `source` (to the loopback of its family), one attempt per password in one session; the AUTH replies in order. */
async function logins(port: number, source: string, passwords: string[]): Promise<string[]> {
  const steps = await pythonSmtp({
    port,
    source,
    ...(source.includes(":") ? { host: "::1" } : {}),
    starttls: true,
    logins: passwords.map((password) => ({ user: "alice@example.com", password })),
  });
  return steps.filter((s) => s.cmd === "AUTH").map(stepLine);
}

describe.each(backends)("login lockout shared through the store on $name", (backend) => {
  let connect: () => Promise<Store>;
  let cleanup: () => void;
  let cpStore: Store;
  let cp: ControlPlane;
  let cpDir: string;
  let adminToken: string;
  const engines: RunningEngine[] = [];

  async function startEngine(
    dataDir = mkdtempSync(join(tmpdir(), "mp-lockout-engine-")),
    host = "127.0.0.1",
  ) {
    const store = await connect();
    const engine = await startSmtpEngineOnStore({
      store,
      dataDir,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: false,
      submission: { host, port: 0 },
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
    });
    const running = { store, engine, dataDir };
    engines.push(running);
    return running;
  }

  async function stopEngine(running: RunningEngine) {
    await running.engine.close();
    await running.store.close();
    engines.splice(engines.indexOf(running), 1);
  }

  beforeAll(async () => {
    ({ connect, cleanup } = backend.prepare());
    cpStore = await connect();
    await cpStore.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
    await cpStore.putObject(
      {
        accountId: "acme",
        kind: "Domain",
        id: "example.com",
        domain: "example.com",
        spec: DomainSpec.parse({ name: "example.com" }) as Record<string, unknown>,
      },
      sys,
    );
    await cpStore.putObject(
      {
        accountId: "acme",
        kind: "User",
        id: "alice@example.com",
        domain: "example.com",
        spec: UserSpec.parse({ address: "alice@example.com" }) as Record<string, unknown>,
        credential: { hash: await hashPassword(PASSWORD), keep: { count: 4, days: 365 } },
      },
      sys,
    );
    cpDir = mkdtempSync(join(tmpdir(), "mp-lockout-cp-"));
    cp = await startControlPlane({ dataDir: cpDir, listen: "127.0.0.1:0", store: cpStore });
    adminToken = readFileSync(cp.adminTokenPath!, "utf8").trim();
  });
  afterAll(async () => {
    for (const running of [...engines]) {
      await stopEngine(running);
      rmSync(running.dataDir, { recursive: true, force: true });
    }
    await cp?.close();
    await cpStore?.close();
    if (cpDir) rmSync(cpDir, { recursive: true, force: true });
    cleanup?.();
  });

  it("counts failures at two engines together, locks the client at both, keeps the lock across a restart, and lifts it through the API", async () => {
    const a = await startEngine();
    const b = await startEngine();
    const portA = () => a.engine.submissionPort!;

    // The default policy locks after 5 failures: 3 at engine A and 2 at engine B add up.
    expect(await logins(portA(), "127.0.0.2", ["guess1", "guess2", "guess3"])).toEqual([
      INVALID,
      INVALID,
      INVALID,
    ]);
    expect(await logins(b.engine.submissionPort!, "127.0.0.2", ["guess4", "guess5", PASSWORD])).toEqual([
      INVALID,
      INVALID,
      LOCKED,
    ]);
    // Engine A honours the lock that engine B's failure set, even with the right password.
    expect(await logins(portA(), "127.0.0.2", [PASSWORD])).toEqual([LOCKED]);
    // Another client is not affected.
    expect(await logins(portA(), "127.0.0.3", [PASSWORD])).toEqual([expect.stringMatching(/^235 2\.7\.0 /)]);

    // Restart engine A (new process state, new store connection, same data directory): still locked.
    const dataDir = a.dataDir;
    await stopEngine(a);
    const restarted = await startEngine(dataDir);
    expect(await logins(restarted.engine.submissionPort!, "127.0.0.2", [PASSWORD])).toEqual([LOCKED]);

    // The lock is visible and audited in the account whose domain was attacked.
    const list = await request(`${cp.url}/v1/lockouts`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const listed = (await list.body.json()) as { items: { key: string; lockedUntil: string | null }[] };
    expect(listed.items).toEqual([
      expect.objectContaining({ key: "127.0.0.2", lockedUntil: expect.any(String) }),
    ]);
    const audit = await request(`${cp.url}/v1/audit?kind=LoginLockout&action=lock`, {
      headers: { authorization: `Bearer ${adminToken}`, "mailplane-account": "acme" },
    });
    expect(((await audit.body.json()) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ objectId: "127.0.0.2", actor: { tokenId: null, role: null } }),
    ]);

    // Lifted through the API: both engines let the client in again.
    const lift = await request(`${cp.url}/v1/lockouts/127.0.0.2`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await lift.body.dump();
    expect(lift.statusCode).toBe(204);
    expect(await logins(restarted.engine.submissionPort!, "127.0.0.2", [PASSWORD])).toEqual([
      expect.stringMatching(/^235 2\.7\.0 /),
    ]);
    expect(await logins(b.engine.submissionPort!, "127.0.0.2", [PASSWORD])).toEqual([
      expect.stringMatching(/^235 2\.7\.0 /),
    ]);
  });
  it("keys an IPv4 client of a dual-stack listener by its address and an IPv6 client by its /64, and lifts the /64 by any address in it", async () => {
    const dual = await startEngine(undefined, "::");
    const port = dual.engine.submissionPort;
    const guesses = ["guess1", "guess2", "guess3", "guess4", "guess5", PASSWORD];
    const locked = [INVALID, INVALID, INVALID, INVALID, INVALID, LOCKED];
    // 127.0.0.4 reaches the "::" listener IPv4-mapped (smtp-server unmaps it, and so does the key:
    // unit-tested): its lock must cover neither its IPv4 neighbours nor the IPv6 loopback.
    expect(await logins(port, "127.0.0.4", guesses)).toEqual(locked);
    expect(await logins(port, "127.0.0.5", [PASSWORD])).toEqual([expect.stringMatching(/^235 2\.7\.0 /)]);
    expect(await logins(port, "::1", guesses)).toEqual(locked);

    const list = await request(`${cp.url}/v1/lockouts?locked=true`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const listed = (await list.body.json()) as { items: { key: string }[] };
    expect(listed.items.map((i) => i.key)).toEqual(["127.0.0.4", "::/64"]);

    // Any address of the /64 names it.
    const lift = await request(`${cp.url}/v1/lockouts/${encodeURIComponent("::1")}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await lift.body.dump();
    expect(lift.statusCode).toBe(204);
    expect(await logins(port, "::1", [PASSWORD])).toEqual([expect.stringMatching(/^235 2\.7\.0 /)]);
    expect(await logins(port, "127.0.0.4", [PASSWORD])).toEqual([LOCKED]);
  });
});

describe("the dummy hash of store credentials", () => {
  it("costs what a real hash costs: the platform's argon2 parameters, and a stored hash's once one with others is looked up", async () => {
    const { connect, cleanup } = backends[1]!.prepare();
    const store = await connect();
    try {
      const credentials = storeCredentials(store);
      const first = await credentials.dummyHash();
      expect(argon2ParamsOf(first)).toEqual(DEFAULT_ARGON2);
      // No password matches the dummy (its secret is random and never kept).
      expect(await credentials.verify(first, "")).toBe(false);

      const other = { memory: 8_192, passes: 3, parallelism: 1 };
      await store.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
      await store.putObject(
        {
          accountId: "acme",
          kind: "Domain",
          id: "example.com",
          domain: "example.com",
          spec: DomainSpec.parse({ name: "example.com" }) as Record<string, unknown>,
        },
        sys,
      );
      await store.putObject(
        {
          accountId: "acme",
          kind: "User",
          id: "bob@example.com",
          domain: "example.com",
          spec: UserSpec.parse({ address: "bob@example.com" }) as Record<string, unknown>,
          credential: { hash: await hashPassword(PASSWORD, other), keep: { count: 4, days: 365 } },
        },
        sys,
      );
      expect(await credentials.lookup("bob@example.com")).toBeDefined();
      expect(argon2ParamsOf(await credentials.dummyHash())).toEqual(other);
    } finally {
      await store.close();
      cleanup();
    }
  });
});
