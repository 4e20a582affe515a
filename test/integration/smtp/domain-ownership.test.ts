/**
 * Domain ownership end to end on both stores: the control plane over HTTP and an SMTP engine on the
 * same store (not in trusted mode), DNS from a table the test publishes into. A name another tenant
 * declared but did not verify never receives a tenant's mail; a verified name cannot be claimed by
 * another account; an unverified hold gives way to the account that publishes its record.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startDomainChecks, verificationToken } from "../../../platform/api/domains/domain-ownership.ts";
import { type DnsResolver, NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import type { DomainClaim } from "../../../platform/store/index.ts";
import { DomainSpec } from "../../../sdk/src/models/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, type Sink, startSink, swaks } from "./support/harness.ts";

type Tenant = { id: string; token: string };

/** TXT records the test has published, by owner name (everything else does not exist), and every lookup. */
function publishedDns(): {
  resolver: DnsResolver;
  publish(name: string, text: string): void;
  lookups: string[];
} {
  const txt = new Map<string, string[][]>();
  const lookups: string[] = [];
  return {
    lookups,
    resolver: async (name, rrtype) => {
      lookups.push(`${rrtype} ${name}`);
      const answer = rrtype === "TXT" ? txt.get(name.toLowerCase()) : undefined;
      if (answer) return answer;
      throw Object.assign(new Error(`${rrtype} ${name}: not found`), { code: "ENOTFOUND" });
    },
    publish: (name, text) => txt.set(name, [...(txt.get(name) ?? []), [text]]),
  };
}

describe.each(BACKENDS)("domain ownership on $name", (backend) => {
  const dns = publishedDns();
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let smarthost: Sink;
  let alice: Tenant;
  let mallory: Tenant;
  // Alice's verified domain, whose user submits; Mallory's unverified squat on a name, and her
  // verified domain carrying an unverified domain alias.
  const aliceDomain = uniqueDomain("alice");
  const squat = uniqueDomain("victim");
  const malloryDomain = uniqueDomain("mallory");
  const squatAlias = uniqueDomain("victim-alias");

  const as = (t: Tenant) => ({ token: t.token });
  const put = async (t: Tenant, path: string, body: object) => {
    const res = await h.call("PUT", path, { ...as(t), body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res;
  };
  /** Publishes `t`'s verification record of `name` in the test's DNS. */
  const publishRecordOf = (t: Tenant, name: string) =>
    dns.publish(`_mailplane-verify.${name}`, `mailplane-verification=${verificationToken(t.id, name)}`);
  /** Messages in a user's Maildir of the domain's current lifetime. */
  const mailbox = (address: string) => {
    try {
      return readdirSync(join(engine.maildirOf(address), "new"));
    } catch {
      return [];
    }
  };
  /** Every Maildir folder of a domain, of any lifetime: none means nothing was ever delivered there. */
  const mailFolders = (domain: string) => {
    try {
      return readdirSync(engine.mailRoot).filter((f) => f === domain || f.startsWith(`${domain}@`));
    } catch {
      return [];
    }
  };

  const submit = (to: string[], subject: string) =>
    swaks(engine.submissionPort, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      `alice@${aliceDomain}`,
      "--auth-password",
      "Alice-Secret-1",
      "--from",
      `alice@${aliceDomain}`,
      "--to",
      to.join(","),
      "--header",
      `Subject: ${subject}`,
    ]);

  beforeAll(async () => {
    smarthost = await startSink();
    h = await startHarness(backend, { resolver: dns.resolver });
    alice = await h.tenant("alice");
    mallory = await h.tenant("mallory");

    // Alice's domain, verified by a platform admin; her user submits the mail under test.
    await put(alice, `/v1/domains/${aliceDomain}`, { name: aliceDomain });
    const marked = await h.call("POST", `/v1/domains/${aliceDomain}/verify`, {
      token: h.adminToken,
      account: alice.id,
      body: { method: "admin" },
    });
    expect(marked.body.verification).toMatchObject([{ status: "verified", method: "admin" }]);
    await put(alice, `/v1/domains/${aliceDomain}/users/alice@${aliceDomain}`, {
      address: `alice@${aliceDomain}`,
      password: "Alice-Secret-1",
    });

    // Mallory declares a name she does not own, with a user and a catch-all to collect its mail…
    await put(mallory, `/v1/domains/${squat}`, { name: squat, catchAll: `bob@${squat}` });
    await put(mallory, `/v1/domains/${squat}/users/bob@${squat}`, {
      address: `bob@${squat}`,
      password: "Mallory-Secret-1",
    });
    // …and her own domain, verified through DNS, with another name she does not own as a domain alias.
    await put(mallory, `/v1/domains/${malloryDomain}`, { name: malloryDomain, aliases: [squatAlias] });
    await put(mallory, `/v1/domains/${malloryDomain}/users/bob@${malloryDomain}`, {
      address: `bob@${malloryDomain}`,
      password: "Mallory-Secret-2",
    });
    publishRecordOf(mallory, malloryDomain);
    const checked = await h.call("POST", `/v1/domains/${malloryDomain}/verify`, { ...as(mallory), body: {} });
    expect(checked.body.verification).toMatchObject([
      { name: malloryDomain, status: "verified", method: "dns", lastCheck: { result: "verified" } },
      { name: squatAlias, status: "pending", lastCheck: { result: "missing" } },
    ]);

    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      dataDir: join(h.dataDir, "smtp"),
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      smarthost: { host: "127.0.0.1", port: smarthost.port, tls: "none" },
    });
    events = new EventLog(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await smarthost?.stop();
  });

  it("sends a tenant's submission to another tenant's unverified domain and domain alias out as remote mail, never into its mailboxes", async () => {
    const run = await submit([`bob@${squat}`, `bob@${squatAlias}`, `bob@${malloryDomain}`], "for bob");
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await events.settled(run.queueId()!);
    // The verified name is Mallory's: its mail is hers (the test would pass vacuously otherwise).
    expect(mailbox(`bob@${malloryDomain}`)).toHaveLength(1);
    // The names she only declared are not local: their mail left through the smarthost.
    expect(mailFolders(squat)).toEqual([]);
    const out = smarthost.messages().find((m) => m.includes("Subject: for bob"));
    expect(out).toContain(`X-Rcpt-Args: <bob@${squat}>`);
    expect(out).toContain(`X-Rcpt-Args: <bob@${squatAlias}>`);
    expect(out).not.toContain(`X-Rcpt-Args: <bob@${malloryDomain}>`);
  });

  it("refuses inbound mail for an unverified name as relaying, and refuses its users' logins", async () => {
    const inbound = await swaks(engine.inboundPort, [
      "--to",
      `bob@${squat}`,
      "--from",
      "s@outside.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(inbound.replyTo("RCPT")).toMatchObject({ code: 550, enhanced: "5.7.1" });
    const login = await swaks(engine.submissionPort, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      `bob@${squat}`,
      "--auth-password",
      "Mallory-Secret-1",
      "--quit-after",
      "AUTH",
    ]);
    expect(login.replyTo("AUTH")?.code).toBe(535);
  });

  it("refuses a name another account verified with 409 MP_DOMAIN_TAKEN, even to one that publishes its own record", async () => {
    const carol = await h.tenant("carol");
    const taken = uniqueDomain("carol");
    await put(carol, `/v1/domains/${taken}`, { name: taken });
    publishRecordOf(carol, taken);
    const verified = await h.call("POST", `/v1/domains/${taken}/verify`, { ...as(carol), body: {} });
    expect(verified.body.verification).toMatchObject([{ status: "verified", method: "dns" }]);

    // Mallory's own record at the name as well (say she once controlled its DNS): still refused.
    publishRecordOf(mallory, taken);
    const looked = dns.lookups.length;
    for (const [path, body] of [
      [`/v1/domains/${taken}`, { name: taken }],
      [`/v1/domains/${malloryDomain}`, { name: malloryDomain, aliases: [squatAlias, taken] }],
    ] as const) {
      const res = await h.call("PUT", path, { ...as(mallory), body });
      expect(res.status, path).toBe(409);
      expect(res.body.code).toBe("MP_DOMAIN_TAKEN");
      expect(res.body.errors).toContainEqual(
        expect.objectContaining({ message: "is already in use on this platform" }),
      );
      expect(res.text).not.toContain(carol.id);
    }
    // A verified name is not even looked up for a claim: nothing DNS says can hand it over.
    expect(dns.lookups.slice(looked)).not.toContain(`TXT _mailplane-verify.${taken}`);
    // The store holds the line on its own: a write that claims the name as proven (as if DNS had
    // answered for Mallory) is refused inside the transaction, the verified hold never evicted.
    const refuse = (holders: DomainClaim[]) => Object.assign(new Error("taken"), { holders });
    const write = h.cp.store.putObject(
      {
        accountId: mallory.id,
        kind: "Domain",
        id: taken,
        domain: taken,
        spec: DomainSpec.parse({ name: taken }) as Record<string, unknown>,
        claims: { names: [taken], proven: [{ name: taken, detail: "found" }], refuse },
      },
      { actor: "system" },
    );
    await expect(write).rejects.toMatchObject({
      message: "taken",
      holders: [{ accountId: carol.id, domain: taken, names: [taken], verified: [taken] }],
    });
    // Carol keeps the name, verified.
    const kept = await h.call("GET", `/v1/domains/${taken}`, as(carol));
    expect(kept.body.verification).toMatchObject([{ status: "verified" }]);
  });

  it("hands a name held unverified to the account that publishes its record, and only then", async () => {
    const dave = await h.tenant("dave");
    const held = uniqueDomain("held");
    await put(mallory, `/v1/domains/${held}`, { name: held });
    await put(mallory, `/v1/domains/${held}/users/bob@${held}`, {
      address: `bob@${held}`,
      password: "Mallory-3-x",
    });

    // Without Dave's record: refused, and told exactly what to publish.
    const record = `_mailplane-verify.${held} TXT "mailplane-verification=${verificationToken(dave.id, held)}"`;
    const refused = await h.call("PUT", `/v1/domains/${held}`, { ...as(dave), body: { name: held } });
    expect(refused.body).toMatchObject({ code: "MP_DOMAIN_TAKEN", errors: [{ path: ["name"] }] });
    expect(refused.body.errors[0].message).toContain(`publish ${record}`);
    expect(refused.body.errors[0].message).toContain(`no TXT record at _mailplane-verify.${held}`);
    expect((await h.call("GET", `/v1/domains/${held}`, as(mallory))).status).toBe(200);

    publishRecordOf(dave, held);
    const claimed = await h.call("PUT", `/v1/domains/${held}`, { ...as(dave), body: { name: held } });
    expect(claimed.status).toBe(201);
    expect(claimed.body.verification).toMatchObject([{ name: held, status: "verified", method: "dns" }]);
    // Mallory's squat and everything under it are gone, audited in her account without naming Dave.
    expect((await h.call("GET", `/v1/domains/${held}`, as(mallory))).status).toBe(404);
    expect((await h.call("GET", `/v1/domains/${held}/users/bob@${held}`, as(mallory))).status).toBe(404);
    const audit = await h.call("GET", `/v1/audit?objectId=${held}&limit=50`, as(mallory));
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain("evict");
    expect(audit.text).not.toContain(dave.id);

    // The engine follows: the name is Dave's now, and a tenant's mail for it reaches his mailbox.
    await put(dave, `/v1/domains/${held}/users/bob@${held}`, {
      address: `bob@${held}`,
      password: "Dave-Secret-1",
    });
    await engine.policy.reached(await h.cp.store.revision());
    const run = await submit([`bob@${held}`], "for dave");
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await events.settled(run.queueId()!);
    expect(mailbox(`bob@${held}`)).toHaveLength(1);
  });

  it("makes a name given up (domain deleted, alias dropped) pending again when it is held again", async () => {
    const erin = await h.tenant("erin");
    const name = uniqueDomain("erin");
    const alias = uniqueDomain("erin-alias");
    await put(erin, `/v1/domains/${name}`, { name, aliases: [alias] });
    const mark = () =>
      h.call("POST", `/v1/domains/${name}/verify`, {
        token: h.adminToken,
        account: erin.id,
        body: { method: "admin" },
      });
    expect((await mark()).body.verification.map((v: { status: string }) => v.status)).toEqual([
      "verified",
      "verified",
    ]);
    const statuses = async () =>
      (await h.call("GET", `/v1/domains/${name}`, as(erin))).body.verification.map(
        (v: { name: string; status: string }) => `${v.name} ${v.status}`,
      );

    await put(erin, `/v1/domains/${name}`, { name, aliases: [] });
    await put(erin, `/v1/domains/${name}`, { name, aliases: [alias] });
    expect(await statuses()).toEqual([`${name} verified`, `${alias} pending`]);

    expect((await h.call("DELETE", `/v1/domains/${name}`, as(erin))).status).toBe(204);
    await put(erin, `/v1/domains/${name}`, { name });
    expect(await statuses()).toEqual([`${name} pending`]);
  });

  it("verifies a pending name in the background once its record is published (startDomainChecks)", async () => {
    const frank = await h.tenant("frank");
    const name = uniqueDomain("frank");
    await put(frank, `/v1/domains/${name}`, { name });
    publishRecordOf(frank, name);
    const stop = startDomainChecks({
      store: h.cp.store,
      resolver: dns.resolver,
      token: verificationToken,
      intervalMs: 60_000,
    });
    try {
      // The first round runs at once; no request to /verify.
      await vi.waitFor(async () => {
        const got = await h.call("GET", `/v1/domains/${name}`, as(frank));
        expect(got.body.verification).toMatchObject([{ status: "verified", method: "dns" }]);
      });
    } finally {
      stop();
    }
    const audit = await h.call("GET", `/v1/audit?objectId=${name}&limit=50`, as(frank));
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ action: "verify", actor: { tokenId: null, role: null } }),
    );
  });

  it("keeps a name verified for one account at most, in the database itself", async () => {
    // Below the claims check (a write without claims, as no route makes): one account's Domain lists
    // as an alias a name another account holds verified; marking it verified too breaks the index.
    const grace = await h.tenant("grace");
    const other = await h.tenant("other");
    const name = uniqueDomain("grace");
    const host = uniqueDomain("other");
    await put(grace, `/v1/domains/${name}`, { name });
    await h.call("POST", `/v1/domains/${name}/verify`, {
      token: h.adminToken,
      account: grace.id,
      body: { method: "admin" },
    });
    await h.cp.store.putObject(
      {
        accountId: other.id,
        kind: "Domain",
        id: host,
        domain: host,
        spec: DomainSpec.parse({ name: host, aliases: [name] }) as Record<string, unknown>,
      },
      { actor: "system" },
    );
    const second = h.cp.store.recordDomainCheck(
      { accountId: other.id, domain: host, name, verifiedBy: "admin" },
      { actor: "system" },
    );
    await expect(second).rejects.toThrow();
    const held = await h.cp.store.domainNames([name]);
    expect(held.filter((x) => x.verification?.status === "verified").map((x) => x.accountId)).toEqual([
      grace.id,
    ]);
  });

  it("lets only a platform admin mark a name verified (403 MP_FORBIDDEN for an account admin)", async () => {
    const self = await h.call("POST", `/v1/domains/${squat}/verify`, {
      ...as(mallory),
      body: { method: "admin" },
    });
    expect(self).toMatchObject({ status: 403, body: { code: "MP_FORBIDDEN" } });
    const still = await h.call("GET", `/v1/domains/${squat}`, as(mallory));
    expect(still.body.verification).toMatchObject([{ name: squat, status: "pending" }]);
  });
});
