/**
 * Crash test: the engine runs as its own process (`mailplane smtp` on a SQLite store) under load from
 * Python smtplib clients and is killed with SIGKILL at random moments; every message a client got 250
 * for must be in the recipient's Maildir once the engine ran again. Duplicates are counted and reported.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openSqliteStore } from "../../../platform/store/index.ts";
import { DomainSpec, UserSpec } from "../../../sdk/src/models/index.ts";
import { freePort } from "./support/harness.ts";

const ROUNDS = 12;
const ROOT = join(import.meta.dirname, "..", "..", "..");
const sys = { actor: "system" };

/** Starts `mailplane smtp` and resolves once it says it is listening. */
async function startEngineProcess(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "cli", "mailplane.ts"),
      "smtp",
      "--data-dir",
      dataDir,
      "--smtp-listen",
      `127.0.0.1:${port}`,
      "--submission-listen",
      "off",
      "--smtp-hostname",
      "mx.crash.test",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, MAILPLANE_DATABASE_URL: "", MAILPLANE_TRUST_ALL_DOMAINS: "1" },
    },
  );
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line.includes("SMTP engine listening")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`engine exited with ${code} before listening`)));
  });
  return child;
}

function tokensIn(maildir: string): string[] {
  const dir = join(maildir, "new");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => /^X-Token: (\S+)/m.exec(readFileSync(join(dir, f), "utf8"))?.[1] ?? "?");
}

describe("the engine as a separate process on SQLite, killed with SIGKILL under load", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mp-crash-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(`delivers every message a client got 250 for, across ${ROUNDS} kill -9 rounds`, {
    timeout: 240_000,
  }, async () => {
    const store = await openSqliteStore({ path: join(dataDir, "mailplane.db") });
    await store.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
    await store.putObject(
      {
        accountId: "acme",
        kind: "Domain",
        id: "crash.example",
        domain: "crash.example",
        spec: DomainSpec.parse({ name: "crash.example" }),
      },
      sys,
    );
    await store.putObject(
      {
        accountId: "acme",
        kind: "User",
        id: "sink@crash.example",
        domain: "crash.example",
        spec: UserSpec.parse({ address: "sink@crash.example" }),
      },
      sys,
    );

    const port = await freePort();
    const stopFile = join(dataDir, "stop-load");
    const acked = new Set<string>();
    let ackWaiter: { target: number; resolve: () => void } | null = null;
    let engine = await startEngineProcess(dataDir, port);
    const load = spawn(
      "python3",
      [
        join(import.meta.dirname, "support", "load_client.py"),
        "--port",
        String(port),
        "--threads",
        "8",
        "--to",
        "sink@crash.example",
        "--stop",
        stopFile,
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    createInterface({ input: load.stdout! }).on("line", (line) => {
      const m = /^ACK (\S+)$/.exec(line);
      if (!m) return;
      acked.add(m[1]!);
      if (ackWaiter && acked.size >= ackWaiter.target) {
        ackWaiter.resolve();
        ackWaiter = null;
      }
    });
    const acks = (target: number) =>
      acked.size >= target
        ? Promise.resolve()
        : new Promise<void>((resolve) => (ackWaiter = { target, resolve }));

    for (let round = 0; round < ROUNDS; round++) {
      // A random amount of acknowledged traffic, so the kill lands at a random point of some transaction.
      await acks(acked.size + 5 + Math.floor(Math.random() * 80));
      engine.kill("SIGKILL");
      await once(engine, "exit");
      engine = await startEngineProcess(dataDir, port);
    }
    writeFileSync(stopFile, "");
    await once(load, "exit");
    engine.kill("SIGTERM");
    await once(engine, "exit");

    // One more start (in this process, to await the queue): it recovers whatever the last run left.
    const final = await startSmtpEngineOnStore({
      store,
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
      dataDir: join(dataDir, "smtp"),
      resolver: NO_DNS,
      inbound: false,
      submission: false,
      hostname: "mx.crash.test",
    });
    while (final.queue.size > 0) await once(final.events, "settled");
    const sinkDir = final.maildirOf("sink@crash.example");
    await final.close();
    await store.close();

    const delivered = tokensIn(sinkDir);
    const counts = new Map<string, number>();
    for (const t of delivered) counts.set(t, (counts.get(t) ?? 0) + 1);
    const missing = [...acked].filter((t) => !counts.has(t));
    const duplicates = [...counts].filter(([, n]) => n > 1);
    const unacknowledged = [...counts.keys()].filter((t) => !acked.has(t));
    console.log(
      `crash test: ${ROUNDS} SIGKILL rounds, ${acked.size} messages acknowledged with 250, ${delivered.length} Maildir files, ` +
        `${missing.length} lost, ${duplicates.length} duplicated (${duplicates.map(([t, n]) => `${t}×${n}`).join(", ") || "none"}), ` +
        `${unacknowledged.length} delivered without a 250 seen by the client (killed between commit and reply)`,
    );
    expect(acked.size).toBeGreaterThan(ROUNDS * 5);
    expect(missing).toEqual([]);
  });
});
