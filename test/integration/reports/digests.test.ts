/**
 * Quarantine digests and their release links on SQLite and PostgreSQL: the scheduler sends each
 * listed user a digest (in the Maildir) once per period, across restarts; a link's GET releases
 * nothing, its POST releases exactly that message to exactly that recipient, once; tampered,
 * expired and other-recipient tokens release nothing; the token is in no log line and no audit entry.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseKey, signReleaseToken } from "../../../platform/reports/release-token.ts";
import { ReportScheduler } from "../../../platform/reports/scheduler.ts";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { ownerOf } from "../../../platform/smtp/owners.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "../smtp/support/harness.ts";

/** The body of a message as text: quoted-printable soft breaks joined and escapes decoded. */
function decodedText(raw: string): string {
  return raw
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

describe.each(BACKENDS)("quarantine digests on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let acme: { id: string; token: string };
  let other: { id: string; token: string };
  const masterKey = randomBytes(32);
  const d1 = uniqueDomain("dg");
  const d2 = uniqueDomain("dh");
  const alice = `alice@${d1}`;
  const bob = `bob@${d1}`;
  const carol = `carol@${d2}`;
  const EVIL = `<img src=x onerror=alert(1)> "Q" & co`;
  const held = new Map<string, string>();
  let clock = Date.UTC(2026, 11, 3, 9, 0);
  const schedulers: ReportScheduler[] = [];
  const scheduler = async () => {
    const s = await ReportScheduler.open({
      store: h.cp.store,
      engine: engine!,
      masterKey,
      publicUrl: h.url,
      dataDir: join(h.dataDir, "smtp"),
      now: () => clock,
    });
    schedulers.push(s);
    return s;
  };
  const put = async (t: { token: string }, path: string, body: object) => {
    const res = await h.call("PUT", path, { token: t.token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    await engine?.policy.reached(await h.cp.store.revision());
    return res;
  };
  const maildir = (address: string) => engine!.maildirOf(address);
  const mailbox = (address: string): string[] => {
    try {
      return (require("node:fs") as typeof import("node:fs")).readdirSync(join(maildir(address), "new"));
    } catch {
      return [];
    }
  };
  const read = (address: string, file: string) => readFileSync(join(maildir(address), "new", file), "latin1");
  /** The first digest in a user's Maildir (files are named by delivery time). */
  const firstDigest = (address: string) =>
    mailbox(address)
      .sort()
      .map((f) => read(address, f))
      .find((raw) => raw.includes("Subject: Quarantine digest"))!;
  /** The digest's release links by the subject line that precedes each. */
  const linksOf = (raw: string): Map<string, string> => {
    const text = decodedText(raw);
    const links = new Map<string, string>();
    const re = /^Subject: (.*)\r?\nDate: .*\r?\nRelease: (\S+)\r?$/gm;
    for (const m of text.matchAll(re)) links.set(m[1]!, m[2]!);
    return links;
  };
  const post = (url: string) =>
    request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
  const get = (url: string) =>
    request(url).then(async (r) => ({ status: r.statusCode, text: await r.body.text(), headers: r.headers }));
  const owner = () => ownerOf(engine!.policy.current().domains.get(d1)!);

  beforeAll(async () => {
    h = await startHarness(backend, { smtp: () => engine?.operations, rateLimit: false, masterKey });
    acme = await h.tenant("dg");
    other = await h.tenant("dh");
    await put(acme, `/v1/domains/${d1}`, { name: d1 });
    await put(other, `/v1/domains/${d2}`, { name: d2 });
    for (const [t, a] of [
      [acme, alice],
      [acme, bob],
      [other, carol],
    ] as const) {
      await put(t, `/v1/domains/${a.split("@")[1]}/users/${a}`, { address: a, password: "Digest-Secret-1" });
    }
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: join(h.dataDir, "smtp"),
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
    });
    events = new EventLog(engine);
    for (const [subject, to] of [
      [EVIL, [alice]],
      ["for both", [alice, bob]],
      ["for bob", [bob]],
      ["for carol", [carol]],
    ] as const) {
      await swaks(engine.inboundPort, [
        "--to",
        to.join(","),
        "--from",
        "s@outside.example",
        "--header",
        `Subject: ${subject}`,
        "--body",
        GTUBE,
      ]);
      const [message] = await events.next("quarantined", (m) => m.subject === subject);
      held.set(subject, (message as { id: string }).id);
    }
  });
  afterAll(async () => {
    for (const s of schedulers) await s.close();
    await engine?.close();
    await h?.close();
  });

  it("refuses userReportAutoActivate with 422 on the field while the domain has a catch-all, either kind", async () => {
    const path = `/v1/domains/${d1}/report-settings`;
    const body = { scope: d1, userReport: true, userReportAutoActivate: true };
    await put(acme, `/v1/domains/${d1}`, { name: d1, catchAll: alice });
    let res = await h.call("PUT", path, { token: acme.token, body });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toEqual(["userReportAutoActivate"]);
    await put(acme, `/v1/domains/${d1}`, { name: d1 });
    await put(acme, `/v1/domains/${d1}/aliases/*@${d1}`, {
      address: `*@${d1}`,
      action: { type: "forward", to: [alice] },
    });
    res = await h.call("PUT", path, { token: acme.token, body });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toEqual(["userReportAutoActivate"]);
    // The account default too, while one of the account's domains has a catch-all.
    res = await h.call("PUT", "/v1/report-settings", {
      token: acme.token,
      body: { ...body, scope: "account" },
    });
    expect(res.status).toBe(422);
    expect((await h.call("DELETE", `/v1/domains/${d1}/aliases/*@${d1}`, { token: acme.token })).status).toBe(
      204,
    );
    res = await h.call("PUT", path, { token: acme.token, body });
    expect(res.status).toBeLessThan(300);
    // A domain's whole tenancy is judged by its own Domain and aliases, and refused the same way.
    const d3 = uniqueDomain("di");
    const plan = await h.call("POST", `/v1/domains/${d3}/tenancy/plan`, {
      token: acme.token,
      body: {
        domains: [{ name: d3 }],
        aliases: [{ address: `*@${d3}`, action: { type: "forward", to: [alice] } }],
        reportSettings: [{ scope: d3, userReport: true, userReportAutoActivate: true }],
      },
    });
    expect(plan.status).toBe(422);
    expect(plan.body.errors[0].path).toEqual(["reportSettings", 0, "userReportAutoActivate"]);
    // Back to digests for listed users only.
    await put(acme, path, { scope: d1, userReport: true, userReportRecipients: [alice], frequency: "daily" });
  });

  it("sends a listed user one digest in her Maildir: her held messages, subjects escaped, a release link each", async () => {
    const s = await scheduler();
    const sent = await s.runOnce();
    expect(sent.map((x) => [x.kind, x.to])).toEqual([["digest", alice]]);
    await events.settled(sent[0]!.queueId!);
    expect(mailbox(bob)).toEqual([]);
    const [file] = mailbox(alice);
    const raw = read(alice, file!);
    expect(raw).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
    const links = linksOf(raw);
    expect([...links.keys()].sort()).toEqual([EVIL, "for both"].sort());
    for (const link of links.values()) expect(link.startsWith(`${h.url}/release/r1.`)).toBe(true);
    const html = decodedText(raw.slice(raw.indexOf("Content-Type: text/html")));
    expect(html).toContain("<table");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt; &quot;Q&quot; &amp; co");
    expect(html).not.toContain("<img src=x");
  });

  it("sends nothing more in the same period, even after a restart, and again in the next period", async () => {
    expect(await schedulers[0]!.runOnce()).toEqual([]);
    const restarted = await scheduler();
    expect(await restarted.runOnce()).toEqual([]);
    expect(mailbox(alice)).toHaveLength(1);
    clock += 86_400_000;
    const next = await restarted.runOnce();
    expect(next.map((x) => x.to)).toEqual([alice]);
    await events.settled(next[0]!.queueId!);
    expect(mailbox(alice)).toHaveLength(2);
  });

  it("shows a confirmation page on GET and releases nothing", async () => {
    const links = linksOf(firstDigest(alice));
    const page = await get(links.get(EVIL)!);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    // Nothing on the page may run or be styled from the token's attacker-chosen surroundings.
    expect(page.headers["content-security-policy"]).toBe(
      "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(page.text).toContain('<form method="post">');
    expect(page.text).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page.text).not.toContain("<img");
    expect(engine!.operations.getQuarantined(held.get(EVIL)!, owner())).toBeDefined();
  });

  it("shows the release pages in the language the link names (lang=de, lang=fr), English for any other", async () => {
    const link = linksOf(firstDigest(alice)).get(EVIL)!;
    const de = await get(`${link}?lang=de`);
    expect(de.status).toBe(200);
    expect(de.text).toContain('<html lang="de">');
    expect(de.text).toContain("<h1>Diese Nachricht freigeben?</h1>");
    expect(de.text).toContain("<dt>Betreff</dt><dd>&lt;img src=x onerror=alert(1)&gt;");
    expect(de.text).toContain("In mein Postfach freigeben</button>");
    const other = await get(`${link}?lang=xx`);
    expect(other.text).toContain('<html lang="en">');
    expect(other.text).toContain("<h1>Release this message?</h1>");
    const tampered = await post(`${link.slice(0, -2)}AA?lang=fr`);
    expect(tampered.status).toBe(403);
    expect(tampered.text).toContain("<h1>Lien de libération non valide</h1>");
    expect(engine!.operations.getQuarantined(held.get(EVIL)!, owner())).toBeDefined();
  });

  it("releases on POST exactly that message to exactly that recipient, once", async () => {
    const links = linksOf(firstDigest(alice));
    const id = held.get("for both")!;
    const before = { alice: mailbox(alice).length, bob: mailbox(bob).length };
    const first = await post(links.get("for both")!);
    expect(first.status).toBe(200);
    expect(first.text).toContain("Released");
    const [queued] = await events.next("settled", (m) => m.origin === "release");
    expect((queued as { recipients: { address: string }[] }).recipients.map((r) => r.address)).toEqual([
      alice,
    ]);
    expect(mailbox(alice)).toHaveLength(before.alice + 1);
    expect(mailbox(bob)).toHaveLength(before.bob);
    // Still held for bob, and no longer for alice.
    expect(engine!.operations.getQuarantined(id, owner())?.recipients).toEqual([bob]);
    // The other held message of hers stays held.
    expect(engine!.operations.getQuarantined(held.get(EVIL)!, owner())).toBeDefined();
    const again = await post(links.get("for both")!);
    expect(again.status).toBe(200);
    expect(again.text).toContain("Nothing to release");
    expect(mailbox(alice)).toHaveLength(before.alice + 1);
    expect(engine!.operations.listQueue(owner())).toEqual([]);
  });

  it("refuses a tampered token, an expired one, and releases nothing with one naming another recipient or account", async () => {
    const links = linksOf(firstDigest(alice));
    const link = links.get(EVIL)!;
    const token = link.slice(link.lastIndexOf("/") + 1);
    const [v, payload, mac] = token.split(".") as [string, string, string];
    const fields = JSON.parse(Buffer.from(payload, "base64url").toString());
    // The same MAC over a payload naming bob.
    const forged = Buffer.from(JSON.stringify([fields[0], bob, ...fields.slice(2)])).toString("base64url");
    expect((await post(`${h.url}/release/${v}.${forged}.${mac}`)).status).toBe(403);
    expect((await get(`${h.url}/release/${v}.${payload}.${mac.slice(0, -2)}AA`)).status).toBe(403);
    const key = releaseKey(masterKey);
    const grant = {
      message: held.get(EVIL)!,
      recipient: alice,
      accountId: acme.id,
      domain: d1,
      generation: fields[4],
    };
    const expired = signReleaseToken(key, { ...grant, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    expect((await post(`${h.url}/release/${expired}`)).status).toBe(410);
    // Validly signed, but bob is not a recipient of this message: nothing is released.
    const notHis = signReleaseToken(key, { ...grant, recipient: bob, expiresAt: fields[5] });
    expect((await post(`${h.url}/release/${notHis}`)).text).toContain("Nothing to release");
    // Validly signed for carol's message, but under acme's account: nothing either.
    const foreign = signReleaseToken(key, {
      ...grant,
      message: held.get("for carol")!,
      recipient: carol,
      expiresAt: fields[5],
    });
    expect((await post(`${h.url}/release/${foreign}`)).text).toContain("Nothing to release");
    expect(engine!.operations.getQuarantined(held.get(EVIL)!, owner())).toBeDefined();
    const d2owner = ownerOf(engine!.policy.current().domains.get(d2)!);
    expect(engine!.operations.getQuarantined(held.get("for carol")!, d2owner)).toBeDefined();
  });

  it("writes no token into the logs or the audit entries, and audits the release", async () => {
    const links = [...linksOf(firstDigest(alice)).values()];
    const tokens = links.map((l) => l.slice(l.lastIndexOf("/") + 1));
    const logs = h.logs.join("");
    expect(logs).toContain("/release/[REDACTED]");
    const audit = await h.call("GET", "/v1/audit?action=release", { token: acme.token });
    expect(audit.status).toBe(200);
    expect(audit.body.items.some((e: { objectId: string }) => e.objectId === alice)).toBe(true);
    for (const t of tokens) {
      for (const part of t.split(".").slice(1)) {
        expect(logs).not.toContain(part);
        expect(audit.text).not.toContain(part);
      }
    }
  });

  it("auto-activates digests for every user of the domain with held mail", async () => {
    await put(acme, `/v1/domains/${d1}/report-settings`, {
      scope: d1,
      userReport: true,
      userReportAutoActivate: true,
      frequency: "daily",
    });
    clock += 86_400_000;
    const sent = await schedulers[1]!.runOnce();
    expect(sent.map((x) => x.to).sort()).toEqual([alice, bob]);
    for (const s of sent) await events.settled(s.queueId!);
    expect(mailbox(bob)).toHaveLength(1);
    // A catch-all declared afterwards turns auto-activation off at send time (the listed still get theirs).
    await put(acme, `/v1/domains/${d1}`, { name: d1, catchAll: alice });
    clock += 86_400_000;
    expect(await schedulers[1]!.runOnce()).toEqual([]);
    await put(acme, `/v1/domains/${d1}`, { name: d1 });
  });

  it("serves the on-demand domain report as HTML and PDF to its tenant, and 404 to another", async () => {
    const path = `/v1/domains/${d1}/report`;
    const html = await h.call("GET", path, { token: acme.token });
    expect(html.status).toBe(200);
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect(html.text).toContain(`Protection report: ${d1}`);
    expect(html.text).toContain("<svg");
    expect(html.text).not.toContain("<img src=x");
    const pdf = await request(`${h.url}${path}?format=pdf`, {
      headers: { authorization: `Bearer ${acme.token}` },
    });
    expect(pdf.statusCode).toBe(200);
    expect((await pdf.body.arrayBuffer()).byteLength).toBeGreaterThan(500);
    expect((await h.call("GET", path, { token: other.token })).status).toBe(404);
    expect((await h.call("GET", path)).status).toBe(401);
    expect((await h.call("GET", `${path}?format=docx`, { token: acme.token })).status).toBe(400);
  });

  it("sends the periodic domain report as a PDF attachment once per period", async () => {
    await put(acme, `/v1/domains/${d1}/report-settings`, {
      scope: d1,
      domainReport: true,
      domainReportRecipients: [alice],
      format: "pdf",
      sendWhenEmpty: true,
      frequency: "weekly",
    });
    const before = mailbox(alice).length;
    const sent = await schedulers[1]!.runOnce();
    expect(sent.map((x) => [x.kind, x.to])).toEqual([["domain-report", alice]]);
    await events.settled(sent[0]!.queueId!);
    expect(await schedulers[1]!.runOnce()).toEqual([]);
    const files = mailbox(alice);
    expect(files).toHaveLength(before + 1);
    const raw = files.map((f) => read(alice, f)).find((r) => r.includes("Protection report"))!;
    expect(raw).toMatch(/Content-Type: application\/pdf/);
    expect(raw).toContain(`protection-report-${d1}.pdf`);
  });
});
