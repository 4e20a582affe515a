/** The engine fed by the store: a write through one store connection is enforced by an engine on another (SQLite file, PostgreSQL). */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hashPassword } from "../../../platform/api/access/passwords.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openPostgresStore, openSqliteStore, type Store } from "../../../platform/store/index.ts";
import { AliasSpec, DomainSpec, SenderListSpec, UserSpec } from "../../../sdk/src/models/index.ts";
import { HOSTNAME, pythonSmtp, stepLine, swaks } from "./support/harness.ts";

const sys = { actor: "system" };

interface Backend {
  name: string;
  /** Two independent connections to one store: one for the writer (the API), one for the engine. */
  open(): Promise<{ writer: Store; engineStore: Store; cleanup: () => void }>;
}

const backends: Backend[] = [
  {
    name: "SQLite (one file, two connections)",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "mp-store-"));
      const path = join(dir, "mailplane.db");
      const writer = await openSqliteStore({ path });
      const engineStore = await openSqliteStore({ path });
      return { writer, engineStore, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "PostgreSQL (LISTEN/NOTIFY between two connections)",
    async open() {
      const url = inject("postgresUrl");
      const schema = `smtp_${randomBytes(6).toString("hex")}`;
      const writer = await openPostgresStore({ url, schema });
      const engineStore = await openPostgresStore({ url, schema });
      return { writer, engineStore, cleanup: () => {} };
    },
  },
];

async function put(
  store: Store,
  kind: string,
  id: string,
  domain: string | null,
  spec: object,
  extra: object = {},
) {
  const { object } = await store.putObject(
    { accountId: "acme", kind, id, domain, spec: spec as Record<string, unknown>, ...extra },
    sys,
  );
  return object;
}

describe.each(backends)("engine following the store on $name", (backend) => {
  let writer: Store;
  let engineStore: Store;
  let engine: EngineOnStore;
  let cleanup: () => void;
  let dataDir: string;

  beforeAll(async () => {
    ({ writer, engineStore, cleanup } = await backend.open());
    await writer.putAccount({ id: "acme", spec: { name: "Acme" } }, sys);
    await put(
      writer,
      "Domain",
      "example.com",
      "example.com",
      DomainSpec.parse({ name: "example.com", aliases: ["example.org"] }),
    );
    const alice = UserSpec.parse({ address: "alice@example.com" });
    await put(writer, "User", "alice@example.com", "example.com", alice, {
      credential: { hash: await hashPassword("Alice-Secret-1"), keep: { count: 4, days: 365 } },
    });
    dataDir = mkdtempSync(join(tmpdir(), "mp-engine-store-"));
    engine = await startSmtpEngineOnStore({
      store: engineStore,
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
      dataDir,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
    });
  });
  afterAll(async () => {
    await engine.close();
    await engineStore.close();
    await writer.close();
    rmSync(dataDir, { recursive: true, force: true });
    cleanup();
  });

  it("enforces the tenancy it loaded at start: the user exists, unknown addresses are refused", async () => {
    const steps = await pythonSmtp({
      port: engine.inboundPort,
      messages: [
        {
          from: "s@outside.example",
          to: ["alice@example.org", "sales@example.com"],
          data: "Subject: x\r\n\r\ny\r\n",
        },
      ],
    });
    expect(steps.filter((s) => s.cmd === "RCPT").map(stepLine)).toEqual([
      expect.stringMatching(/^250 /),
      "550 5.1.1 <sales@example.com>: Recipient address rejected: user unknown",
    ]);
  });

  it("accepts a new alias as soon as the engine reached the write's revision, and refuses it again after deletion", async () => {
    await put(
      writer,
      "Alias",
      "sales@example.com",
      "example.com",
      AliasSpec.parse({
        address: "sales@example.com",
        action: { type: "forward", to: ["alice@example.com"] },
      }),
    );
    await engine.policy.reached(await writer.revision());
    const ok = await swaks(engine.inboundPort, [
      "--to",
      "sales@example.com",
      "--from",
      "s@outside.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(ok.replyTo("RCPT")).toMatchObject({ code: 250 });
    await writer.deleteObject({ accountId: "acme", kind: "Alias", id: "sales@example.com" }, sys);
    await engine.policy.reached(await writer.revision());
    const gone = await swaks(engine.inboundPort, [
      "--to",
      "sales@example.com",
      "--from",
      "s@outside.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(gone.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.1.1" });
  });

  it("blocks a sender once a block list is written", async () => {
    await put(
      writer,
      "SenderList",
      "example.com/sender-lists/block-sender",
      "example.com",
      SenderListSpec.parse({
        domain: "example.com",
        kind: "block",
        target: "sender",
        entries: ["spam.example"],
      }),
    );
    await engine.policy.reached(await writer.revision());
    const run = await swaks(engine.inboundPort, [
      "--to",
      "alice@example.com",
      "--from",
      "x@spam.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(run.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.7.1" });
  });

  it("authenticates against the store's argon2id hash and refuses a user disabled through the store", async () => {
    const good = await pythonSmtp({
      port: engine.submissionPort,
      starttls: true,
      logins: [{ user: "alice@example.com", password: "Alice-Secret-1" }],
    });
    expect(stepLine(good.find((s) => s.cmd === "AUTH"))).toMatch(/^235 /);
    await put(
      writer,
      "User",
      "alice@example.com",
      "example.com",
      UserSpec.parse({ address: "alice@example.com", enabled: false }),
      { enabled: false },
    );
    await engine.policy.reached(await writer.revision());
    const disabled = await pythonSmtp({
      port: engine.submissionPort,
      source: "127.0.0.3",
      starttls: true,
      logins: [{ user: "alice@example.com", password: "Alice-Secret-1" }],
    });
    expect(stepLine(disabled.find((s) => s.cmd === "AUTH"))).toBe("535 5.7.8 Account disabled");
    const rcpt = await swaks(engine.inboundPort, [
      "--to",
      "alice@example.com",
      "--from",
      "s@outside.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(rcpt.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.2.1" });
  });
});
