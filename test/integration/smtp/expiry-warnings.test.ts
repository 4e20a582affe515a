/** Password expiry warnings on SQLite and PostgreSQL: two mails before a password expires, at the policy's warn days, each exactly once across engine restarts and two engines on one store (injected clock); a new password starts over. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME } from "./support/harness.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe.each(BACKENDS)("password expiry warnings on $name", (backend) => {
  let h: Harness;
  let store: Store;
  let dir = "";
  let token = "";
  const T0 = Date.parse("2026-05-01T08:00:00.000Z");
  let clock = T0;
  const domain = uniqueDomain("expiry");
  const alice = `alice@${domain}`;
  const engines: { engine: EngineOnStore; events: EventLog }[] = [];

  /** An engine on the store with its own data directory (another node); rounds run when the test drains. */
  const startEngine = async (name: string) => {
    const engine = await startSmtpEngineOnStore({
      store,
      dataDir: join(dir, name),
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      policy: { trustAllDomains: true },
      now: () => clock,
      noticeIntervalMs: 10 * DAY,
    });
    await engine.policy.reached(await store.revision());
    const entry = { engine, events: new EventLog(engine) };
    engines.push(entry);
    return entry;
  };
  /** One round on `node` at `at`, waiting until what it queued was delivered. */
  const round = async (node: { engine: EngineOnStore; events: EventLog }, at: number) => {
    clock = at;
    const before = node.events.all("injected").length;
    await node.engine.notices.drain();
    for (const [meta] of node.events.all("injected").slice(before)) await node.events.settled(meta.id);
  };
  /** Alice's mails in every engine's Maildir (each node delivers into its own data directory). */
  const warnings = () =>
    engines.flatMap(({ engine }) => {
      const at = join(engine.maildirOf(alice), "new");
      let files: string[] = [];
      try {
        files = readdirSync(at);
      } catch {
        files = [];
      }
      return files.map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(at, f), "utf8"))?.[1]?.trim());
    });

  beforeAll(async () => {
    const now = () => new Date(clock);
    dir = mkdtempSync(join(tmpdir(), "mp-expiry-"));
    store =
      backend.name === "postgres"
        ? await openPostgresStore({
            url: inject("postgresUrl"),
            schema: `expiry_${randomBytes(6).toString("hex")}`,
            now,
          })
        : await openSqliteStore({ path: join(dir, "mailplane.db"), now });
    h = await startHarness(backend, { now, rateLimit: false, store });
    token = (await h.tenant("expiry")).token;
    for (const [path, body] of [
      [`/v1/domains/${domain}`, { name: domain }],
      [`/v1/domains/${domain}/password-policy`, { scope: domain, expiry: { days: 30, warnDays: [7, 2] } }],
      [`/v1/domains/${domain}/users/${alice}`, { address: alice, password: "Correct-Horse-7" }],
    ] as const) {
      const res = await h.call("PUT", path, { token, body });
      expect(res.status, res.text).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    for (const { engine } of engines) await engine.close().catch(() => undefined);
    await h?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("mails the first warning at the first warn day, once, across a restart and a second engine", async () => {
    const a = await startEngine("node-a");
    await round(a, T0 + 20 * DAY);
    expect(warnings()).toEqual([]);
    // 6.5 days left: the 7-day warning is due.
    await round(a, T0 + 23.5 * DAY);
    expect(warnings()).toEqual(["Your password expires in 7 days"]);
    await round(a, T0 + 23.5 * DAY + 2 * HOUR);
    // A restart (the engine's memory of its last scan is gone) and another engine on the same store.
    await a.engine.close();
    engines.splice(engines.indexOf(a), 1);
    const restarted = await startEngine("node-a");
    const b = await startEngine("node-b");
    await Promise.all([round(restarted, T0 + 24 * DAY), round(b, T0 + 24 * DAY)]);
    await round(b, T0 + 25 * DAY);
    expect(warnings()).toHaveLength(1);
  });

  it("mails the second warning at the second warn day, then nothing once the password expired", async () => {
    const node = engines[0]!;
    // Both engines at once: one of them claims the warning.
    await Promise.all(engines.map((e) => round(e, T0 + 28.5 * DAY)));
    expect(warnings().sort()).toEqual(["Your password expires in 2 days", "Your password expires in 7 days"]);
    await round(node, T0 + 29 * DAY);
    await round(node, T0 + 31 * DAY);
    expect(warnings()).toHaveLength(2);
  });

  it("starts over for a new password", async () => {
    const res = await h.call("PUT", `/v1/domains/${domain}/users/${alice}`, {
      token,
      body: { address: alice, password: "Fresh-Horse-8" },
    });
    expect(res.status, res.text).toBeLessThan(300);
    const setAt = clock;
    await round(engines[0]!, setAt + 24 * DAY);
    expect(warnings()).toHaveLength(3);
  });
});
