/**
 * `mailplane verify` against a real control plane and a real SMTP engine on 127.0.0.1:0, in process: a
 * tenant declared through the API verifies clean; an engine that stopped following the store (a frozen
 * policy, then a new declaration) is caught, and the probe that differs is named.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { startSmtpEngine, staticPolicy } from "../../../platform/smtp/engine.ts";
import type { SmtpEngine } from "../../../platform/smtp/engine-contract.ts";
import { startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { type CliRun, runCli } from "../../support/cli.ts";

/** The probes of a `--json` report, as the tests read them. */
interface ReportProbe {
  id: string;
  token: string;
  kind: string;
  checks: string;
  to: string;
  send: string;
  status?: string;
  actual?: string;
  expected: { summary: string };
  quarantine?: { id: string; deleted: boolean } | null;
}
interface Report {
  runId: string;
  probes: ReportProbe[];
  skipped: unknown[];
  summary?: { probes: number; matched: number; mismatched: number; errors: number };
}

describe("mailplane verify against a control plane and an SMTP engine (SQLite)", () => {
  let cp: ControlPlane;
  let engine: SmtpEngine | undefined;
  let dataDir: string;
  let token: string;
  let client: MailplaneClient;
  /** Whether the control plane reaches the engine's operations (else it answers 503, as without one in its process). */
  let operationsVisible = true;

  /** Runs the CLI in process with the endpoint, token and the current engine's inbound listener. */
  const run = (args: string[]) =>
    runCli(["verify", ...args], {
      MAILPLANE_ENDPOINT: cp.url,
      MAILPLANE_TOKEN: token,
      MAILPLANE_SMTP: `127.0.0.1:${engine!.inboundPort}`,
    });
  const reportOf = (r: CliRun) => JSON.parse(r.stdout) as Report;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mailplane-verify-int-"));
    cp = await startControlPlane({
      dataDir,
      listen: "127.0.0.1:0",
      rateLimit: false,
      logger: false,
      // The operations API (message log, quarantine) reads whichever engine runs now.
      smtp: () => (operationsVisible ? engine?.operations : undefined),
    });
    const admin = new MailplaneClient({
      endpoint: cp.url,
      token: readFileSync(cp.adminTokenPath!, "utf8").trim(),
    });
    await admin.accounts.put({ id: "acme", name: "ACME" });
    token = (await admin.tokens.create({ role: "account-admin" }, { account: "acme" })).token;
    await admin.close();

    client = new MailplaneClient({ endpoint: cp.url, token });
    await client.domains.put({ name: "example.test", aliases: ["example-alias.test"] });
    await client.domains.put({ name: "second.test" });
    await client.users.put({ address: "alice@example.test", password: "Wonder-Land-1865" });
    await client.users.put({ address: "bob@example.test", password: "Builder-Bob-1999", enabled: false });
    await client.users.put({ address: "dan@example.test", password: "Dan-Dare-1950" });
    await client.users.put({ address: "carol@second.test", password: "Christmas-Carol-1843" });
    await client.aliases.put({
      address: "joe@example.test",
      action: { type: "reject", message: "Joe no longer works here" },
    });
    await client.aliases.put({
      address: "sales@example.test",
      action: { type: "forward", to: ["alice@example.test"] },
    });
    await client.aliases.put({
      address: "away@example.test",
      action: { type: "autoReply", subject: "Away", body: "Back on Monday." },
    });
    await client.aliases.put({
      address: "*@second.test",
      action: { type: "forward", to: ["carol@second.test"] },
    });
    await client.senderLists.put({
      domain: "example.test",
      kind: "block",
      target: "sender",
      entries: ["spam.example", "offers@junk.example"],
    });
    // dan is a user who would receive mail: a refusal can only be the block's.
    await client.senderLists.put({
      domain: "example.test",
      kind: "block",
      target: "recipient",
      entries: ["dan"],
    });
    await client.filterSettings.put({ scope: "second.test", quarantineResponse: "accept" });

    engine = await startSmtpEngineOnStore({
      store: cp.store,
      // Single-tenant test platform: its domains are local without DNS verification.
      policy: { trustAllDomains: true },
      dataDir: join(dataDir, "smtp-live"),
      hostname: "mx.verify.test",
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
    });
    // The engine follows the store's change feed; start probing once it enforces every write above.
    await (engine as Awaited<ReturnType<typeof startSmtpEngineOnStore>>).policy.reached(
      await cp.store.revision(),
    );
  });

  afterAll(async () => {
    await client?.close();
    await engine?.close();
    await cp?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("--dry-run lists a probe per declared rule and sends nothing", async () => {
    const result = await run(["--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = reportOf(result);
    expect(report.summary).toBeUndefined();
    expect(report.probes.map((p) => `${p.kind} ${p.to} ${p.send}`)).toEqual([
      "user-receives alice@example.test message",
      "disabled-user bob@example.test envelope",
      `unknown-recipient mpverify-nobody-${report.runId}@example.test envelope`,
      "reject-alias joe@example.test envelope",
      "forward-alias sales@example.test envelope",
      "auto-reply-alias away@example.test envelope",
      "domain-alias alice@example-alias.test envelope",
      `sender-block alice@example.test envelope`,
      "sender-block alice@example.test envelope",
      "recipient-block dan@example.test envelope",
      "quarantine alice@example.test message",
      "user-receives carol@second.test message",
      `unknown-recipient mpverify-nobody-${report.runId}@second.test envelope`,
      "quarantine carol@second.test message",
    ]);
    const log = await client.operations.searchLog("example.test", { subject: `mpv-${report.runId}` });
    expect(log.items).toEqual([]);
  });

  it("a tenant as declared: every probe matches, exit 0, and the quarantined probe messages are deleted", async () => {
    const result = await run(["--json", "--deliver"]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const report = reportOf(result);
    expect(report.summary).toEqual({ probes: 14, matched: 14, mismatched: 0, errors: 0 });
    const actual = Object.fromEntries(report.probes.map((p) => [`${p.kind} ${p.to}`, p.actual]));
    expect(actual["reject-alias joe@example.test"]).toBe("550 Joe no longer works here");
    expect(actual["disabled-user bob@example.test"]).toMatch(/^550 /);
    expect(actual["forward-alias sales@example.test"]).toBe("250, delivered");
    expect(actual["user-receives alice@example.test"]).toBe("250, delivered");
    expect(actual["quarantine alice@example.test"]).toBe("550, quarantined");
    expect(actual["quarantine carol@second.test"]).toBe("250, quarantined");
    expect(actual[`unknown-recipient mpverify-nobody-${report.runId}@second.test`]).toBe("250 (accepted)");
    const held = report.probes.filter((p) => p.kind === "quarantine").map((p) => p.quarantine);
    expect(held).toEqual([
      { id: expect.any(String), deleted: true },
      { id: expect.any(String), deleted: true },
    ]);
    for (const domain of ["example.test", "second.test"]) {
      const left = await client.operations.listQuarantine(domain, { subject: `mpv-${report.runId}` });
      expect(left.items).toEqual([]);
    }
    // The delivered probe is marked: its header names the probe, so a mailbox rule can file it away.
    const inbox = join(engine!.maildirOf("alice@example.test"), "new");
    const marked = readdirSync(inbox)
      .map((f) => readFileSync(join(inbox, f), "utf8"))
      .filter((m) => new RegExp(`^X-Mailplane-Probe: mpv-${report.runId}-p1\r?$`, "m").test(m));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toContain(
      `Subject: [mailplane verify mpv-${report.runId}-p1] user alice@example.test receives`,
    );
  });

  it("the table shows expected against actual for people, progress on stderr", async () => {
    const result = await run([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /p4 +reject alias joe@example\.test +joe@example\.test +550 Joe no longer works here +✓ 550 Joe no longer works here/,
    );
    expect(result.stdout).toContain("14/14 probes as declared");
    expect(result.stderr).toContain("mailplane verify: 14 probes (4 with a message), 0 not probed");
  });

  it("a control plane without the engine in its process: the SMTP answers decide, and the notes say what was not seen", async () => {
    operationsVisible = false;
    const result = await run(["--json", "--domain", "second.test"]).finally(() => {
      operationsVisible = true;
    });
    expect(result.code, result.stderr).toBe(0);
    const report = reportOf(result);
    const queued = expect.stringMatching(/^250 Ok: queued as \S+, fate not visible$/);
    expect(report.probes).toMatchObject([
      { kind: "user-receives", status: "match", actual: queued },
      { kind: "unknown-recipient", status: "match", actual: "250 (accepted)" },
      { kind: "quarantine", status: "match", actual: queued },
    ]);
    const notes = report.probes.map((p) => (p as { notes?: string[] }).notes);
    expect(notes[0]).toEqual([
      "the message log is not visible through this control plane (MP_UNAVAILABLE): only the SMTP answer was checked",
    ]);
    expect(notes[2]).toContain(
      `the probe message may stay in the quarantine of second.test (subject contains ${report.probes[2]!.token})`,
    );
  });

  it("an engine that stopped following the store: verify exits 1 and names the probe whose rule it does not enforce", async () => {
    // Behind the declaration's back: the engine keeps enforcing the policy it has now and misses every
    // later change — as one whose change feed died would. Then a new reject alias is declared.
    const frozen = engine!.snapshot();
    await engine!.close();
    engine = await startSmtpEngine({
      dataDir: join(dataDir, "smtp-frozen"),
      policy: staticPolicy(frozen),
      hostname: "mx.verify.test",
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
    });
    await client.aliases.put({
      address: "dave@example.test",
      action: { type: "reject", message: "Dave has left the company" },
    });

    const result = await run(["--json"]);
    expect(result.code, result.stderr).toBe(1);
    const report = reportOf(result);
    expect(report.summary).toMatchObject({ probes: 15, mismatched: 1, errors: 0 });
    const differing = report.probes.filter((p) => p.status !== "match");
    expect(differing).toMatchObject([
      {
        kind: "reject-alias",
        to: "dave@example.test",
        expected: { summary: "550 Dave has left the company" },
        actual: "550 <dave@example.test>: Recipient address rejected: user unknown",
      },
    ]);

    const table = await run([]);
    expect(table.code).toBe(1);
    const id = differing[0]!.id;
    expect(table.stdout).toMatch(
      new RegExp(`${id} +reject alias dave@example\\.test .*✗ 550 <dave@example\\.test>`),
    );
    expect(table.stdout).toContain(
      `14/15 probes as declared; not as declared: ${id} (reject alias dave@example.test)`,
    );
  });
});
