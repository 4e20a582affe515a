/** Virus scanning by a real clamd over its socket with a signature database the test builds (EICAR): quarantine as `virus`, statistics, clean mail, scanner down → 451 4.7.1. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTransport } from "nodemailer";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClamdScanner, clamdAddress } from "../../../platform/smtp/content/clamav.ts";
import { ownerOf } from "../../../platform/smtp/owners.ts";
import { type Harness, startHarness } from "../api/harness.ts";
import { EICAR, FOUND, writeEicarDatabase } from "./support/eicar.ts";
import { freePort, startTestEngine, swaks, type TestEngine } from "./support/harness.ts";

const CLI = fileURLToPath(new URL("../../../cli/mailplane.ts", import.meta.url));

const CLAMD = "/usr/sbin/clamd";

/** Resolves when clamd answers PING with PONG on its socket (it loads its database first). */
async function clamdReady(socket: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}`);
    const pong = await new Promise<boolean>((resolve) => {
      const s = connect(socket);
      let reply = "";
      s.on("connect", () => s.write("zPING\0"));
      s.on("data", (d) => {
        reply += d.toString();
      });
      s.on("end", () => resolve(reply.startsWith("PONG")));
      s.on("error", () => resolve(false));
    });
    if (pong) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("clamd did not answer PING in 60 s");
}

/** Sends through nodemailer and returns the final reply (code and text), accepted or not. */
async function send(
  port: number,
  subject: string,
  attachment: { filename: string; content: string } | null,
  text = "Please see the attached file.",
): Promise<{ code: number; text: string }> {
  const transport = createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({
      from: "sender@outside.example",
      to: "alice@example.com",
      subject,
      text,
      ...(attachment ? { attachments: [attachment] } : {}),
    });
    return { code: Number(info.response.slice(0, 3)), text: info.response };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    return { code: e.responseCode ?? 0, text: e.response ?? String(err) };
  } finally {
    transport.close();
  }
}

let dir: string;
let socket: string;
let clamd: ChildProcess;

async function stopClamd(): Promise<void> {
  if (clamd && clamd.exitCode === null) {
    const exited = new Promise((r) => clamd.once("exit", r));
    clamd.kill("SIGTERM");
    await exited;
  }
}

// One clamd for the file, on a signature database the test writes; the last test stops it.
beforeAll(async () => {
  if (!existsSync(CLAMD)) {
    throw new Error(
      "clamd must be installed for this test (make test installs the Debian package clamav-daemon)",
    );
  }
  dir = mkdtempSync(join(tmpdir(), "mp-clamav-"));
  // A hash signature of the EICAR file: no signature download.
  const db = writeEicarDatabase(join(dir, "db"));
  socket = join(dir, "clamd.sock");
  writeFileSync(
    join(dir, "clamd.conf"),
    [
      "Foreground yes",
      `DatabaseDirectory ${db}`,
      `LocalSocket ${socket}`,
      `TemporaryDirectory ${dir}`,
      `PidFile ${join(dir, "clamd.pid")}`,
      "MaxThreads 2",
      "",
    ].join("\n"),
  );
  clamd = spawn(CLAMD, ["-c", join(dir, "clamd.conf")], { stdio: "ignore" });
  await clamdReady(socket, clamd);
}, 120_000);
afterAll(async () => {
  await stopClamd();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("mailplane smtp --clamd", () => {
  let h: Harness;
  let acme: { id: string; token: string };
  let child: ChildProcess;
  let output = "";
  let smtpPort: number;
  let api: string;

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" });
    acme = await h.tenant("acme");
    const res = await h.call("PUT", "/v1/domains/virus-cli.example", {
      token: acme.token,
      body: { name: "virus-cli.example" },
    });
    expect(res.status, res.text).toBe(201);
    const user = await h.call("PUT", "/v1/domains/virus-cli.example/users/alice@virus-cli.example", {
      token: acme.token,
      body: { address: "alice@virus-cli.example", password: "Correct-Horse-7" },
    });
    expect(user.status, user.text).toBe(201);
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
        "--rspamd",
        "off",
        "--clamd",
        socket,
        "--api-listen",
        "127.0.0.1:0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (c) => (output += c));
    child.stderr!.on("data", (c) => (output += c));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    api = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", () => {
        const m = /SMTP engine listening: .*, API (http:\/\/\S+) /.exec(output);
        if (m && output.includes("virus scanning:")) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`mailplane smtp exited ${code}: ${output}`)));
    });
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await h?.close();
  });

  it("says at start that clamd scans, quarantines EICAR as virus and counts it in the statistics API", async () => {
    expect(output).toContain(`mailplane: virus scanning: clamd at ${socket}`);
    const sent = await swaks(smtpPort, [
      "--to",
      "alice@virus-cli.example",
      "--from",
      "s@outside.example",
      "--header",
      "Subject: eicar through the CLI",
      "--attach-type",
      "application/octet-stream",
      "--attach-name",
      "invoice.txt",
      "--attach",
      EICAR,
    ]);
    expect(sent.replyTo("."), sent.output).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(sent.replyTo(".")!.text).toContain(`virus ${FOUND}`);
    const since = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    const res = await request(`${api}/v1/domains/virus-cli.example/statistics?since=${since}`, {
      headers: { authorization: `Bearer ${acme.token}` },
    });
    const stats = (await res.body.json()) as Record<string, unknown>;
    expect(res.statusCode).toBe(200);
    expect(stats).toMatchObject({ viruses: 1, quarantined: 1, total: 1 });
  });

  it("refuses a --clamd that is neither a socket path nor host:port, naming the flag", async () => {
    const bad = spawn(
      process.execPath,
      [CLI, "smtp", "--data-dir", "/nonexistent/mp", "--clamd", "clamd.sock"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    bad.stderr!.on("data", (c) => (out += c));
    const code = await new Promise((resolve) => bad.on("exit", resolve));
    expect(code, out).toBe(2);
    expect(out).toContain('--clamd must be a socket path (/…) or host:port, got "clamd.sock"');
  });
});

describe("virus scanning by clamd", () => {
  let t: TestEngine;
  let port: number;

  beforeAll(async () => {
    t = await startTestEngine(
      {
        revision: 1,
        accounts: [
          { id: "acme", domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] },
        ],
      },
      // Bodies past 8 KiB go to their own file: clamd must be given those bytes too.
      { clamd: new ClamdScanner({ address: clamdAddress(socket), timeoutMs: 10_000 }), inlineLimit: 8192 },
    );
    port = t.engine.inboundPort;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("quarantines a message with the EICAR file attached as `virus` and answers 550 5.7.1", async () => {
    const reply = await send(port, "invoice attached", { filename: "invoice.txt", content: EICAR });
    expect(reply).toMatchObject({ code: 550 });
    expect(reply.text).toContain(`5.7.1 Message rejected and quarantined: virus ${FOUND}`);
    const held = await t.events.next("quarantined", (meta) => meta.subject === "invoice attached");
    expect(t.engine.quarantine.get(held[0].id)).toMatchObject({
      classification: "virus",
      reason: `virus ${FOUND}`,
    });
    const raw = (await t.engine.quarantine.raw(held[0].id))!.toString("utf8");
    expect(raw).toContain(`X-Mailplane-Virus: ${FOUND}`);
    expect(t.mailbox("alice@example.com").some((m) => m.includes("invoice attached"))).toBe(false);
  });

  it("finds the virus in a message spilled to its own file (past the inline limit)", async () => {
    const padding = "Quarterly figures, every region, every product line.\r\n".repeat(400);
    const reply = await send(port, "large invoice", { filename: "figures.txt", content: EICAR }, padding);
    expect(reply.text).toContain(`5.7.1 Message rejected and quarantined: virus ${FOUND}`);
    const held = await t.events.next("quarantined", (meta) => meta.subject === "large invoice");
    expect(held[0].size).toBeGreaterThan(8192);
    expect(t.engine.quarantine.get(held[0].id)).toMatchObject({ classification: "virus" });
  });

  it("delivers a clean message with an attachment", async () => {
    const reply = await send(port, "clean report", {
      filename: "report.txt",
      content: "All systems nominal.\n",
    });
    expect(reply.code).toBe(250);
    await t.events.settled(/queued as (\S+)/.exec(reply.text)![1]!);
    expect(t.mailbox("alice@example.com").some((m) => m.includes("Subject: clean report"))).toBe(true);
  });

  it("counts the infected messages as viruses blocked in the domain's statistics and message log", async () => {
    const owner = ownerOf(t.policy.current().domains.get("example.com")!);
    const stats = await t.engine.operations.statistics(owner, {}, "UTC");
    expect(stats).toMatchObject({ viruses: 2, clean: 1, quarantined: 2, rejected: 0, total: 3 });
    expect(stats.days[0]).toMatchObject({ viruses: 2 });
    const log = await t.engine.operations.searchLog(owner, { classification: "virus", limit: 10 });
    expect(log.map((e) => e.subject).sort()).toEqual(["invoice attached", "large invoice"]);
  });

  // Last in the file: it stops clamd.
  it("answers 451 4.7.1 while clamd is down, so the sender keeps the message and nothing unscanned gets in", async () => {
    await stopClamd();
    const reply = await send(port, "while down", { filename: "invoice.txt", content: EICAR });
    expect(reply.code).toBe(451);
    expect(reply.text).toContain("4.7.1 Virus scanner unavailable, try again later");
    const clean = await send(port, "clean while down", null);
    expect(clean.code).toBe(451);
    const owner = ownerOf(t.policy.current().domains.get("example.com")!);
    const deferred = await t.engine.operations.searchLog(owner, { classification: "deferred", limit: 10 });
    expect(deferred.map((e) => e.subject).sort()).toEqual(["clean while down", "while down"]);
    expect(t.mailbox("alice@example.com").some((m) => m.includes("while down"))).toBe(false);
    expect(t.engine.quarantine.list().map((e) => e.subject)).not.toContain("while down");
  });
});
