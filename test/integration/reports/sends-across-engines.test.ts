/**
 * The report scheduler's record of sends lives in the store: two engines on one store (each on its own
 * connection and data directory, as two `mailplane smtp` processes) both run a scheduler, and each
 * digest and domain report goes out once per period — across both engines, across a restart, and
 * after an upgrade from the per-engine `reports-sent.log`. SQLite (one file) and PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ReportScheduler, type ReportSend } from "../../../platform/reports/scheduler.ts";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { openStore, type Store } from "../../../platform/store/index.ts";
import { pdfText } from "../../support/pdf-text.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "../smtp/support/harness.ts";

/** One engine with its own store connection, data directory and scheduler. */
interface Node {
  store: Store;
  engine: EngineOnStore;
  events: EventLog;
  scheduler: ReportScheduler;
  dataDir: string;
}

describe.each(BACKENDS)("report sends shared through the $name store", (backend) => {
  let h: Harness;
  let acme: { id: string; token: string };
  const masterKey = randomBytes(32);
  const domain = uniqueDomain("rs");
  const alice = `alice@${domain}`;
  const bob = `bob@${domain}`;
  const nodes: Node[] = [];
  const dirs: string[] = [];
  let clock = Date.UTC(2026, 11, 3, 9, 0);

  const start = async (dataDir = mkdtempSync(join(tmpdir(), "mp-report-sends-"))): Promise<Node> => {
    dirs.push(dataDir);
    const store = await openStore({
      dataDir: h.dataDir,
      ...(h.database ? { databaseUrl: h.database.url, schema: h.database.schema } : {}),
    });
    const engine = await startSmtpEngineOnStore({
      store,
      policy: { trustAllDomains: true },
      dataDir,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
    });
    await engine.policy.reached(await h.cp.store.revision());
    const scheduler = await ReportScheduler.open({
      store,
      engine,
      masterKey,
      publicUrl: h.url,
      dataDir,
      now: () => clock,
    });
    const node = { store, engine, events: new EventLog(engine), scheduler, dataDir };
    nodes.push(node);
    return node;
  };
  const stop = async (node: Node) => {
    await node.scheduler.close();
    await node.engine.close();
    await node.store.close();
    nodes.splice(nodes.indexOf(node), 1);
  };
  /** Every file in `address`'s Maildir on every running engine whose subject starts with `subject`. */
  const mails = (address: string, subject: string): string[] =>
    nodes.flatMap((n) => {
      const dir = join(n.engine.maildirOf(address), "new");
      let files: string[] = [];
      try {
        files = readdirSync(dir);
      } catch {}
      return files
        .map((f) => readFileSync(join(dir, f), "latin1"))
        .filter((raw) => raw.includes(`Subject: ${subject}`));
    });
  /** Runs every engine's check at once (a race for each send) and waits until what was sent is delivered. */
  const checkAll = async (): Promise<ReportSend[]> => {
    const sent = await Promise.all(nodes.map((n) => n.scheduler.runOnce()));
    for (const [i, sends] of sent.entries()) {
      for (const s of sends) if (s.queueId) await nodes[i]!.events.settled(s.queueId);
    }
    return sent.flat();
  };
  const hold = async (node: Node, to: string, subject: string) => {
    await swaks(node.engine.inboundPort, [
      "--to",
      to,
      "--from",
      "s@outside.example",
      "--header",
      `Subject: ${subject}`,
      "--body",
      GTUBE,
    ]);
    await node.events.next("quarantined", (m) => m.subject === subject);
  };

  beforeAll(async () => {
    h = await startHarness(backend, { rateLimit: false, masterKey });
    acme = await h.tenant("rs");
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { token: acme.token, body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    await put(`/v1/domains/${domain}`, { name: domain });
    for (const a of [alice, bob]) {
      await put(`/v1/domains/${domain}/users/${a}`, { address: a, password: "Report-Secret-1" });
    }
    await put(`/v1/domains/${domain}/report-settings`, {
      scope: domain,
      frequency: "daily",
      userReport: true,
      userReportRecipients: [alice],
      domainReport: true,
      domainReportRecipients: [bob],
      sendWhenEmpty: true,
    });
    const [a, b] = [await start(), await start()];
    // Each engine holds mail for alice: each would owe her a digest on its own.
    await hold(a, alice, "held at engine a");
    await hold(b, alice, "held at engine b");
  });
  afterAll(async () => {
    for (const node of [...nodes]) await stop(node);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  it("sends one digest per user and one domain report per recipient across two engines checking at once", async () => {
    const sent = await checkAll();
    expect(sent.map((s) => [s.kind, s.to]).sort()).toEqual([
      ["digest", alice],
      ["domain-report", bob],
    ]);
    expect(mails(alice, "Quarantine digest")).toHaveLength(1);
    expect(mails(bob, "Protection report")).toHaveLength(1);
    // Checked again by both engines in the same period: nothing more, and the domain report (its
    // statistics, log search and PDF) is not even built.
    const built = nodes.map((n) => vi.spyOn(n.engine.operations, "statistics"));
    expect(await checkAll()).toEqual([]);
    expect(built.map((spy) => spy.mock.calls.length)).toEqual(nodes.map(() => 0));
    for (const spy of built) spy.mockRestore();
  });

  it("sends nothing again in the same period after both engines restart, and once each in the next period", async () => {
    const dataDirs = nodes.map((n) => n.dataDir);
    for (const node of [...nodes]) await stop(node);
    for (const dir of dataDirs) await start(dir);
    expect(await checkAll()).toEqual([]);
    expect(mails(alice, "Quarantine digest")).toHaveLength(1);
    clock += 86_400_000;
    const next = await checkAll();
    expect(next.map((s) => [s.kind, s.to]).sort()).toEqual([
      ["digest", alice],
      ["domain-report", bob],
    ]);
    expect(mails(alice, "Quarantine digest")).toHaveLength(2);
    expect(mails(bob, "Protection report")).toHaveLength(2);
  });

  it("counts the sends an engine's reports-sent.log recorded before the upgrade as made, and renames the file", async () => {
    clock += 86_400_000;
    const [node] = nodes;
    const d = node!.engine.policy.current().domains.get(domain)!;
    const period = new Date(clock).toISOString().slice(0, 10);
    const legacy = join(node!.dataDir, "reports-sent.log");
    writeFileSync(legacy, `${["digest", d.accountId, domain, d.generation, alice, period].join("|")}\n`);
    await stop(node!);
    await start(node!.dataDir);
    expect(readdirSync(node!.dataDir)).toContain("reports-sent.log.imported");
    expect(readdirSync(node!.dataDir)).not.toContain("reports-sent.log");
    // The digest of this period counts as sent; the domain report, not in the old record, goes out.
    expect((await checkAll()).map((s) => [s.kind, s.to])).toEqual([["domain-report", bob]]);
    expect(mails(alice, "Quarantine digest")).toHaveLength(2);
  });

  it("leaves a send another engine claimed alone while the claim holds, and takes it over once it ran out unsent", async () => {
    clock += 86_400_000;
    const d = nodes[0]!.engine.policy.current().domains.get(domain)!;
    const period = new Date(clock).toISOString().slice(0, 10);
    const key = (kind: string, to: string) => [kind, d.accountId, domain, d.generation, to, period].join("|");
    // An engine that claimed both sends and stopped before queueing them: one claim still holds, one ran out.
    expect(
      await h.cp.store.claimReportSend({ key: key("digest", alice), claimant: "gone", forMs: 3_600_000 }),
    ).toBe(true);
    expect(
      await h.cp.store.claimReportSend({ key: key("domain-report", bob), claimant: "gone", forMs: 0 }),
    ).toBe(true);
    expect((await checkAll()).map((s) => [s.kind, s.to])).toEqual([["domain-report", bob]]);
    expect(mails(alice, "Quarantine digest")).toHaveLength(2);
  });

  it("writes each in the settings' language: a German digest, then a French domain report whose PDF shows its accents", async () => {
    const settings = {
      scope: domain,
      frequency: "daily",
      userReport: true,
      userReportRecipients: [alice],
      domainReport: true,
      domainReportRecipients: [bob],
      sendWhenEmpty: true,
    };
    const put = async (body: object) => {
      const res = await h.call("PUT", `/v1/domains/${domain}/report-settings`, { token: acme.token, body });
      expect(res.status, res.text).toBeLessThan(300);
    };
    await put({ ...settings, language: "de", domainReport: false, domainReportRecipients: [] });
    clock += 86_400_000;
    expect((await checkAll()).map((s) => [s.kind, s.to])).toEqual([["digest", alice]]);
    const german = mails(alice, "=?UTF-8?").find((raw) => raw.includes("Content-Type: text/html"))!;
    // The subject is RFC 2047 encoded, the body quoted-printable UTF-8.
    expect(german).toMatch(/^Subject: =\?UTF-8\?Q\?Quarant=C3=A4ne-=C3=9Cbersicht/m);
    const body = Buffer.from(
      german
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      "latin1",
    ).toString("utf8");
    expect(body).toContain(`Ihre tägliche Quarantäne-Übersicht (${domain})`);
    expect(body).toContain("<th>Von</th><th>Betreff</th><th>Datum</th><th>Bewertung</th>");
    // Its release links open the release page in German.
    expect(body).toMatch(/Freigeben: \S+\/release\/r1\.\S+\?lang=de\r?\n/);

    await put({ ...settings, language: "fr", format: "pdf", userReport: false, userReportRecipients: [] });
    clock += 86_400_000;
    expect((await checkAll()).map((s) => [s.kind, s.to])).toEqual([["domain-report", bob]]);
    const french = mails(bob, `Rapport de protection pour ${domain}`).find((raw) =>
      raw.includes("application/pdf"),
    )!;
    expect(french).toBeDefined();
    const part = french.slice(french.indexOf("Content-Type: application/pdf"));
    const base64 = part
      .slice(part.search(/\r?\n\r?\n/))
      .split(/\r?\n--/)[0]!
      .replace(/\s+/g, "");
    const shown = await pdfText(Buffer.from(base64, "base64"));
    expect(shown).toContain(`Rapport de protection : ${domain}`);
    expect(shown).toContain("Totaux");
    expect(shown).toContain("Refusés");
    expect(shown).toContain("Spam refusé, non mis en quarantaine (0)");
  });
});
