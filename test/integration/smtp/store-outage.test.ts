/** The engine when its store fails: the policy watcher re-reads a batch a blip broke, and a stopped PostgreSQL leaves the engine answering from its snapshot. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hashPassword } from "../../../platform/api/access/passwords.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openPostgresStore, openSqliteStore, type Store, StoreError } from "../../../platform/store/index.ts";
import { DomainSpec, UserSpec } from "../../../sdk/src/models/index.ts";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";
import { HOSTNAME, pythonSmtp, stepLine, swaks } from "./support/harness.ts";

const sys = { actor: "system" };

/** The reads the policy watcher makes; a blip refuses exactly these. */
const WATCHER_READS = new Set<PropertyKey>(["getObject", "snapshot", "changesSince"]);

/**
 * A real store whose watcher reads fail with StoreError "unavailable" while `down` is set, as they do
 * while PostgreSQL restarts; `refusal()` resolves at the next refused read.
 */
function flaky(store: Store) {
  let notify: (() => void) | undefined;
  const state = {
    down: false,
    refused: 0,
    refusal: () => new Promise<void>((resolve) => (notify = resolve)),
  };
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (!WATCHER_READS.has(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        if (state.down) {
          state.refused++;
          notify?.();
          throw new StoreError("unavailable", "the database refused the connection");
        }
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, state };
}

/** Rejects when `promise` has not settled in `ms`, naming what never happened (the test fails, not hangs). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}

async function seed(writer: Store) {
  await writer.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
  await writer.putObject(
    {
      accountId: "acme",
      kind: "Domain",
      id: "example.com",
      domain: "example.com",
      spec: DomainSpec.parse({ name: "example.com" }) as Record<string, unknown>,
    },
    sys,
  );
  await setAlice(writer, true, await hashPassword("Alice-Secret-1"));
}

async function setAlice(writer: Store, enabled: boolean, hash?: string) {
  await writer.putObject(
    {
      accountId: "acme",
      kind: "User",
      id: "alice@example.com",
      domain: "example.com",
      spec: UserSpec.parse({ address: "alice@example.com", enabled }) as Record<string, unknown>,
      enabled,
      ...(hash === undefined ? {} : { credential: { hash, keep: { count: 4, days: 365 } } }),
    },
    sys,
  );
}

const rcptAlice = async (port: number) =>
  (
    await swaks(port, ["--to", "alice@example.com", "--from", "s@outside.example", "--quit-after", "RCPT"])
  ).replyTo("RCPT");

function engineOn(store: Store, dataDir: string) {
  return startSmtpEngineOnStore({
    store,
    dataDir,
    hostname: HOSTNAME,
    resolver: NO_DNS,
    inbound: { host: "127.0.0.1", port: 0 },
    submission: { host: "127.0.0.1", port: 0 },
    // Single-tenant test platform: its domains are local without DNS verification.
    policy: { retryMinDelayMs: 20, retryMaxDelayMs: 200, trustAllDomains: true },
  });
}

interface Backend {
  name: string;
  open(): Promise<{ writer: Store; engineStore: Store; cleanup: () => void }>;
}

const backends: Backend[] = [
  {
    name: "SQLite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mp-outage-"));
      const path = join(dir, "mailplane.db");
      return {
        writer: await openSqliteStore({ path }),
        engineStore: await openSqliteStore({ path }),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "PostgreSQL",
    async open() {
      const url = inject("postgresUrl");
      const schema = `outage_${randomBytes(6).toString("hex")}`;
      return {
        writer: await openPostgresStore({ url, schema }),
        engineStore: await openPostgresStore({ url, schema }),
        cleanup: () => {},
      };
    },
  },
];

describe.each(backends)("policy watcher during a store blip on $name", (backend) => {
  let writer: Store;
  let engineStore: Store;
  let cleanup: () => void;
  let engine: EngineOnStore;
  let dataDir: string;
  let blip: ReturnType<typeof flaky>;

  beforeAll(async () => {
    ({ writer, engineStore, cleanup } = await backend.open());
    await seed(writer);
    dataDir = mkdtempSync(join(tmpdir(), "mp-outage-engine-"));
    blip = flaky(engineStore);
    engine = await engineOn(blip.store, dataDir);
  });
  afterAll(async () => {
    await engine?.close();
    await engineStore?.close();
    await writer?.close();
    rmSync(dataDir, { recursive: true, force: true });
    cleanup?.();
  });

  it("disables a user disabled while the store's reads failed, once they succeed again (the batch is re-read)", async () => {
    expect(await rcptAlice(engine.inboundPort)).toMatchObject({ code: 250 });
    blip.state.down = true;
    const refused = blip.state.refusal();
    await setAlice(writer, false);
    const revision = await writer.revision();
    // The watcher saw the change and failed to read it: the blip happened after the event.
    await within(refused, 15_000, "the watcher did not try to read the change");
    blip.state.down = false;
    await within(
      engine.policy.reached(revision),
      15_000,
      "the engine never reached the revision that disabled alice",
    );
    expect(blip.state.refused).toBeGreaterThan(0);
    expect(await rcptAlice(engine.inboundPort)).toMatchObject({ code: 550, enhanced: "5.2.1" });
  });
});

describe("engine while its PostgreSQL server is stopped", () => {
  let server: PostgresServer;
  let writer: Store;
  let engineStore: Store;
  let engine: EngineOnStore;
  let dataDir: string;

  beforeAll(async () => {
    server = await startPostgres();
    writer = await openPostgresStore({ url: server.url });
    engineStore = await openPostgresStore({ url: server.url });
    await seed(writer);
    dataDir = mkdtempSync(join(tmpdir(), "mp-outage-pg-"));
    engine = await engineOn(engineStore, dataDir);
  });
  afterAll(async () => {
    await engine?.close();
    await engineStore?.close();
    await writer?.close();
    server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps answering RCPT from its snapshot and AUTH with a temporary 454, then follows the store again once the server is back", async () => {
    await server.halt();
    try {
      expect(await rcptAlice(engine.inboundPort)).toMatchObject({ code: 250 });
      expect(
        (
          await swaks(engine.inboundPort, [
            "--to",
            "nobody@example.com",
            "--from",
            "s@outside.example",
            "--quit-after",
            "RCPT",
          ])
        ).replyTo("RCPT"),
      ).toMatchObject({ code: 550, enhanced: "5.1.1" });
      // AUTH needs the password hash from the store: a temporary 454, never a 535 "wrong password".
      const login = await pythonSmtp({
        port: engine.submissionPort,
        starttls: true,
        logins: [{ user: "alice@example.com", password: "Alice-Secret-1" }],
      });
      expect(stepLine(login.find((step) => step.cmd === "AUTH"))).toMatch(/^454 4\.7\.0 /);
    } finally {
      await server.start();
    }
    // The writer's pool and the engine's LISTEN connection reconnect on their own.
    await within(
      (async () => {
        for (;;) {
          try {
            return await setAlice(writer, false);
          } catch (error) {
            if (!(error instanceof StoreError) || error.code !== "unavailable") throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })(),
      20_000,
      "the writer never reconnected",
    );
    await within(engine.policy.reached(await writer.revision()), 20_000, "the engine never caught up");
    expect(await rcptAlice(engine.inboundPort)).toMatchObject({ code: 550, enhanced: "5.2.1" });
  });
});
