/**
 * A control plane killed with SIGKILL in the middle of a tenancy apply, on SQLite and PostgreSQL: the
 * domain's tenancy read afterwards (by another process) is exactly the old one or exactly the new one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openStore } from "../../../platform/store/index.ts";
import { BACKENDS } from "./harness.ts";
import { tenancyDocument } from "./tenancy-fixture.ts";

const CHILD = join(import.meta.dirname, "support", "tenancy-crash-child.ts");
/** Statement numbers to die at: early (before the first write), among the writes, near the commit. */
const KILL_POINTS = [1, 3, 8, 20, 45, 90];

interface Child {
  process: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
}

describe.each(BACKENDS)("a control plane killed during a tenancy apply on $name", (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), "mailplane-crash-"));
  const armFile = join(dataDir, "arm");
  const database =
    backend.name === "postgres"
      ? { url: inject("postgresUrl"), schema: `crash_${randomBytes(6).toString("hex")}` }
      : undefined;
  const domain = `crash-${randomBytes(4).toString("hex")}.example`;
  let account = "";
  let token = "";

  const start = async (killAt: number): Promise<Child> => {
    const child = spawn(process.execPath, [CHILD], {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        CRASH_DATA_DIR: dataDir,
        CRASH_ARM_FILE: armFile,
        CRASH_KILL_AT: String(killAt),
        CRASH_DATABASE_URL: database?.url ?? "",
        CRASH_DATABASE_SCHEMA: database?.schema ?? "",
      },
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once("exit", (code, signal) => resolve(signal ?? code)),
    );
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("READY ")) resolve(line.slice(6));
      });
      void exited.then((how) => reject(new Error(`control plane exited (${how}) before listening`)));
    });
    return { process: child, url, exited };
  };

  const call = async (url: string, method: string, path: string, body?: unknown, bearer = token) => {
    const res = await request(`${url}${path}`, {
      method: method as never,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  };

  /** The tenancy as a store opened by this process sees it: every object's kind, ID, spec and state. */
  const stored = async () => {
    const store = await openStore({
      dataDir,
      databaseUrl: database?.url,
      ...(database ? { schema: database.schema } : {}),
    });
    try {
      const { objects } = await store.tenancyObjects(account, domain);
      const credentials = await Promise.all(
        objects
          .filter((o) => o.kind === "User")
          .map(async (o) => [o.id, (await store.getCredential(o.id, account))?.hash]),
      );
      return JSON.stringify({
        objects: objects.map((o) => [o.kind, o.id, o.enabled, { ...o.spec, dkim: undefined }]),
        credentials,
      });
    } finally {
      await store.close();
    }
  };

  const oldDocument = tenancyDocument(domain, { [`ana@${domain}`]: "Kq7-Secret-0001" });
  const newDocument = (() => {
    const doc = tenancyDocument(domain, {
      [`ana@${domain}`]: "Kq7-Secret-0002",
      [`cy@${domain}`]: "Pm5-Secret-0001",
    }) as Record<string, any>;
    doc.aliases.pop();
    doc.users[1].enabled = true;
    doc.routes.push({ domain, host: "127.0.0.2", port: 25, priority: 20, tls: "none" });
    for (let i = 0; i < 8; i++) doc.users.push({ address: `new${i}@${domain}`, firstName: `New ${i}` });
    return doc;
  })();
  let oldState = "";

  beforeAll(async () => {
    const child = await start(0);
    try {
      const admin = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
      account = `crash${randomBytes(3).toString("hex")}`;
      expect(
        (await call(child.url, "PUT", `/v1/accounts/${account}`, { id: account, name: "Crash" }, admin))
          .status,
      ).toBe(201);
      const minted = await request(`${child.url}/v1/tokens`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${admin}`,
          "mailplane-account": account,
          "content-type": "application/json",
        },
        body: JSON.stringify({ role: "account-admin", domains: [] }),
      });
      token = ((await minted.body.json()) as { token: string }).token;
      const applied = await call(child.url, "PUT", `/v1/domains/${domain}/tenancy`, oldDocument);
      expect(applied.status).toBe(200);
    } finally {
      child.process.kill("SIGTERM");
      await child.exited;
    }
    oldState = await stored();
  }, 60_000);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("leaves exactly the old tenancy after every kill point inside the apply, and exactly the new one once it commits", async () => {
    let killed = 0;
    let committed = false;
    for (const killAt of KILL_POINTS) {
      const child = await start(killAt);
      writeFileSync(armFile, "");
      const answer = await call(child.url, "PUT", `/v1/domains/${domain}/tenancy`, newDocument).catch(
        (error: unknown) => error,
      );
      rmSync(armFile);
      const how = await Promise.race([
        child.exited,
        new Promise((resolve) => setTimeout(() => resolve("alive"), 100)),
      ]);
      if (how === "alive") {
        // The apply committed before this kill point: the new tenancy, and the test is over.
        expect(answer).toMatchObject({ status: 200 });
        child.process.kill("SIGTERM");
        await child.exited;
        committed = true;
        break;
      }
      expect(how).toBe("SIGKILL");
      expect(answer).toBeInstanceOf(Error);
      killed++;
      expect(await stored(), `killed at statement ${killAt}`).toBe(oldState);
    }
    // The kill points must land inside the apply, several of them among its writes.
    expect(killed).toBeGreaterThanOrEqual(4);
    const child = await start(0);
    try {
      if (!committed) {
        expect((await call(child.url, "PUT", `/v1/domains/${domain}/tenancy`, newDocument)).status).toBe(200);
      }
      expect(await stored()).not.toBe(oldState);
      // The committed state is the whole new document.
      const live = await call(child.url, "GET", `/v1/domains/${domain}/tenancy`);
      expect(live.body.document.users).toHaveLength(11);
      expect(live.body.document.aliases).toHaveLength(1);
      expect(live.body.document.routes).toHaveLength(2);
      const again = await call(child.url, "PUT", `/v1/domains/${domain}/tenancy`, newDocument);
      expect(again.body.changes).toEqual([]);
    } finally {
      child.process.kill("SIGTERM");
      await child.exited;
    }
  }, 120_000);
});
