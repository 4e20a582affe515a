/**
 * `mailplane smtp` as a process of its own beside a control plane on the same SQLite file: it
 * enforces the tenancy and, given --api-listen, answers the operations API for its engine.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { type Harness, startHarness } from "../api/harness.ts";
import { freePort, swaks } from "../smtp/support/harness.ts";

const CLI = fileURLToPath(new URL("../../../cli/mailplane.ts", import.meta.url));
const SHARED_WARNING =
  "mailplane smtp: warning: address sales@shared-cli.example is held by more than one recipient " +
  "(User ana@shared-cli.example (extra address), User bob@shared-cli.example (extra address)); remove it from all but one\n";

describe("mailplane smtp --api-listen", () => {
  let h: Harness;
  let acme: { id: string; token: string };
  let child: ChildProcess;
  let output = "";
  let exited: Promise<number | null>;
  let smtpPort: number;
  let api: string;

  beforeAll(async () => {
    // The control plane in this process, without an engine; the engine runs in the child.
    h = await startHarness({ name: "sqlite" });
    acme = await h.tenant("acme");
    for (const [path, body] of [
      ["/v1/domains/ops-cli.example", { name: "ops-cli.example" }],
      [
        "/v1/domains/ops-cli.example/users/alice@ops-cli.example",
        { address: "alice@ops-cli.example", password: "Correct-Horse-7" },
      ],
      [
        "/v1/domains/ops-cli.example/report-settings",
        { scope: "ops-cli.example", userReport: true, userReportRecipients: ["alice@ops-cli.example"] },
      ],
    ] as const) {
      const res = await h.call("PUT", path, { token: acme.token, body });
      expect(res.status, res.text).toBeLessThan(300);
    }
    // Old data (before one address, one recipient covered extra addresses) gives sales@ to two users.
    const shared = "shared-cli.example";
    for (const [path, body] of [
      [`/v1/domains/${shared}`, { name: shared }],
      [
        `/v1/domains/${shared}/users/ana@${shared}`,
        { address: `ana@${shared}`, password: "Correct-Horse-7", addresses: [`sales@${shared}`] },
      ],
      [
        `/v1/domains/${shared}/users/bob@${shared}`,
        { address: `bob@${shared}`, password: "Correct-Horse-7" },
      ],
    ] as const) {
      const res = await h.call("PUT", path, { token: acme.token, body });
      expect(res.status, res.text).toBeLessThan(300);
    }
    const db = new DatabaseSync(join(h.dataDir, "mailplane.db"));
    try {
      db.exec(
        `UPDATE objects SET spec = '{"address":"bob@${shared}","addresses":["sales@${shared}"]}' WHERE kind = 'User' AND id = 'bob@${shared}';
         INSERT INTO recipient_addresses (account_id, address, kind, id) VALUES ('${acme.id}', 'sales@${shared}', 'User', 'bob@${shared}');`,
      );
    } finally {
      db.close();
    }
    smtpPort = await freePort();
    child = spawn(
      process.execPath,
      [
        CLI,
        "smtp",
        "--data-dir",
        h.dataDir,
        "--smtp-listen",
        `127.0.0.1:${smtpPort}`,
        "--submission-listen",
        "off",
        "--no-dns",
        "--trust-all-domains",
        "--api-listen",
        "127.0.0.1:0",
        "--public-url",
        "https://mail.ops-cli.example",
        "--report-check-interval",
        "200",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (c) => (output += c));
    child.stderr!.on("data", (c) => (output += c));
    exited = new Promise((resolve) => child.on("exit", resolve));
    api = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", () => {
        const m = /SMTP engine listening: .*, API (http:\/\/\S+) /.exec(output);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`mailplane smtp exited ${code}: ${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await h?.close();
  });

  const get = async (base: string, path: string) => {
    const res = await request(`${base}${path}`, { headers: { authorization: `Bearer ${acme.token}` } });
    return { status: res.statusCode, body: (await res.body.json()) as any };
  };

  it("serves the engine's metrics on its API to platform admins", async () => {
    const res = await request(`${api}/metrics`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(res.statusCode).toBe(200);
    const text = await res.body.text();
    expect(text).toMatch(/^mailplane_smtp_queue_messages \d+$/m);
    expect(text).toMatch(/^mailplane_store_up 1$/m);
  });

  it("warns at start of an address old data gives to two users, naming both holders", async () => {
    // Standard error is a pipe of its own: the warning may arrive after the start-up line did.
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes(SHARED_WARNING)) resolve();
      };
      check();
      child.stderr!.on("data", check);
      void exited.then((code) => reject(new Error(`mailplane smtp exited ${code}: ${output}`)));
    });
  });

  it("quarantines spam for a domain declared through the other process, and lists it through its own API", async () => {
    const sent = await swaks(smtpPort, [
      "--to",
      "alice@ops-cli.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: held by the engine process",
      "--body",
      GTUBE,
    ]);
    expect(sent.replyTo("RCPT")).toMatchObject({ code: 250 });
    expect(sent.replyTo(".")).toMatchObject({ code: 550, enhanced: "5.7.1" });

    let listed: { status: number; body: any } | undefined;
    for (let i = 0; i < 50; i++) {
      listed = await get(api, "/v1/domains/ops-cli.example/quarantine");
      if (listed.body.items?.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed!.status).toBe(200);
    expect(listed!.body.items).toEqual([
      expect.objectContaining({ subject: "held by the engine process", classification: "spam" }),
    ]);
    // The control plane without an engine says where the operations are answered.
    const elsewhere = await get(h.url, "/v1/domains/ops-cli.example/quarantine");
    expect(elsewhere.status).toBe(503);
    expect(elsewhere.body.detail).toContain("--api-listen");
  });

  it("runs the report scheduler: alice's digest of the held message arrives, its links at --public-url", async () => {
    expect(output).toContain(
      "mailplane: reports: every 200 ms, release links at https://mail.ops-cli.example\n",
    );
    const root = join(h.dataDir, "smtp", "mail");
    let digest: string | undefined;
    for (let i = 0; i < 100 && !digest; i++) {
      const home = existsSync(root)
        ? readdirSync(root).find((d) => d.startsWith("ops-cli.example@"))
        : undefined;
      const inbox = home ? join(root, home, "alice", "new") : "";
      if (inbox && existsSync(inbox)) {
        digest = readdirSync(inbox)
          .map((f) => readFileSync(join(inbox, f), "latin1"))
          .find((raw) => raw.includes("Subject: Quarantine digest"));
      }
      if (!digest) await new Promise((r) => setTimeout(r, 100));
    }
    expect(digest).toContain("held by the engine process");
    // Quoted-printable soft line breaks joined.
    expect(digest?.replace(/=\r?\n/g, "")).toContain("https://mail.ops-cli.example/release/");
  });

  it("applies the same tenant isolation on its API and stops on SIGTERM, having warned of the shared address once", async () => {
    const other = await h.tenant("other");
    const res = await request(`${api}/v1/domains/ops-cli.example/quarantine`, {
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain("SIGTERM, shutting down");
    // Once, though --api-listen starts the control plane too (whose own report is not logged here).
    expect(output.split(SHARED_WARNING)).toHaveLength(2);
    expect(output).not.toContain(acme.token);
  });
});

describe("mailplane smtp options", () => {
  it("refuses a --burst-hold that is not a whole number of ms, naming the flag, before opening anything", async () => {
    for (const value of ["soon", "-1", "2.5"]) {
      const child = spawn(
        process.execPath,
        [CLI, "smtp", "--data-dir", "/nonexistent/mp", `--burst-hold=${value}`],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      child.stderr!.on("data", (c) => (out += c));
      const code = await new Promise((resolve) => child.on("exit", resolve));
      expect(code, out).toBe(2);
      expect(out).toContain(`--burst-hold must be a whole number of ms, not "${value}"`);
      expect(out).toContain("usage: mailplane smtp");
    }
  });

  it("refuses a --deleted-domain-data other than purge or keep, naming the flag", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "smtp", "--data-dir", "/nonexistent/mp", "--deleted-domain-data=later"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stderr!.on("data", (c) => (out += c));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code, out).toBe(2);
    expect(out).toContain('--deleted-domain-data must be purge or keep, got "later"');
  });

  it("refuses a --log-entries-in-memory or --log-file-bytes that is not a whole number of at least 1, naming the flag", async () => {
    for (const [flag, value] of [
      ["log-entries-in-memory", "0"],
      ["log-file-bytes", "big"],
    ]) {
      const child = spawn(
        process.execPath,
        [CLI, "smtp", "--data-dir", "/nonexistent/mp", `--${flag}=${value}`],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      child.stderr!.on("data", (c) => (out += c));
      const code = await new Promise((resolve) => child.on("exit", resolve));
      expect(code, out).toBe(2);
      expect(out).toContain(`--${flag} must be a whole number ≥ 1, not "${value}"`);
    }
  });
});
