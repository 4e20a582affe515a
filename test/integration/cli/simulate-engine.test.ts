/**
 * plan-summary --simulate against the real thing, on both stores: a tenancy built through the API,
 * an SMTP engine on the same store, and every sample sent with swaks. The live fates the simulation
 * computes (from the tenancy read through the SDK) are the replies the engine gives; the planned
 * fates (a preview's steps applied to the live tenancy) are the replies it gives once the same change
 * is made through the API.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLiveTenancy } from "../../../cli/simulate/live.ts";
import { applyPreview } from "../../../cli/simulate/planned.ts";
import { parseSamples, type Sample } from "../../../cli/simulate/samples.ts";
import { type Fate, fatesOf, policyOf, type SimulatedTenancy } from "../../../cli/simulate/simulate.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { HOSTNAME, type SwaksRun, swaks } from "../smtp/support/harness.ts";

const type = (kind: string) => `pulumi-nodejs:dynamic/mailplane:${kind}`;
const urn = (kind: string, name: string) => `urn:pulumi:dev::p::${type(kind)}::${name}`;

/** The reply the client got to the command of the phase that decided. */
function replyOf(run: SwaksRun, fate: Fate) {
  const command = fate.phase === "MAIL" ? "MAIL" : fate.phase === "RCPT" ? "RCPT" : ".";
  return run.replyTo(command)?.code;
}

describe.each(BACKENDS)("the simulation answers as the engine on $name", (backend) => {
  const domain = uniqueDomain("sim");
  let h: Harness;
  let client: MailplaneClient;
  let admin: MailplaneClient;
  let engine: EngineOnStore;
  let samples: Sample[];

  /** Sends one sample recipient through the engine's inbound listener. */
  const send = (sample: Sample, rcpt: string) =>
    swaks(engine.inboundPort, [
      "--from",
      sample.from,
      "--to",
      rcpt,
      "--ehlo",
      sample.helo,
      "--header",
      `Subject: ${sample.subject ?? "simulated"}`,
      ...Object.entries(sample.headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).flatMap((v) => ["--header", `${name}: ${v}`]),
      ),
      ...sample.attachments.flatMap((name) => [
        "--attach-type",
        "application/octet-stream",
        "--attach-name",
        name,
        "--attach",
        "attachment body",
      ]),
    ]);

  /** Every sample recipient: the simulated fate and the engine's reply code to the deciding command. */
  const compare = async (tenancy: SimulatedTenancy) => {
    const simulated = fatesOf(policyOf(tenancy), samples);
    const real: { label: string; code: number | undefined }[] = [];
    let i = 0;
    for (const sample of samples) {
      for (const rcpt of sample.to) {
        const run = await send(sample, rcpt);
        real.push({ label: simulated[i]!.label, code: replyOf(run, simulated[i]!.fate) });
        i++;
      }
    }
    return { simulated, real };
  };

  beforeAll(async () => {
    h = await startHarness(backend);
    const tenant = await h.tenant("sim");
    client = new MailplaneClient({ endpoint: h.url, token: tenant.token });
    // Reserved addresses go to the account's contact; only a platform admin reads it.
    await h.call("PUT", `/v1/accounts/${tenant.id}`, {
      token: h.adminToken,
      body: { id: tenant.id, name: `Tenant ${tenant.id}`, contact: "it@contact.example" },
    });
    admin = new MailplaneClient({ endpoint: h.url, token: h.adminToken, account: tenant.id });
    await client.domains.put({ name: domain });
    await h.call("POST", `/v1/domains/${domain}/verify`, {
      token: h.adminToken,
      account: tenant.id,
      body: { method: "admin" },
    });
    await client.users.put({ address: `linus@${domain}`, password: "Kernel-Hacker-1991" });
    await client.users.put({ address: `ada@${domain}`, password: "Analytical-1843", enabled: false });
    await client.aliases.put({
      address: `joe@${domain}`,
      action: { type: "reject", message: "Joe no longer works here" },
    });
    await client.aliases.put({
      address: `sales@${domain}`,
      action: { type: "forward", to: [`linus@${domain}`] },
    });
    await client.senderLists.put({ domain, kind: "block", target: "sender", entries: ["*@spam.example"] });
    await client.filterSettings.put({ scope: domain, blockedExtensions: ["bat", "exe", "js"] });
    await client.groups.put({ address: `team@${domain}`, members: [`linus@${domain}`], senders: "members" });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      dataDir: join(h.dataDir, "smtp"),
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
    });
    await engine.policy.reached(await h.cp.store.revision());
    samples = parseSamples(
      [
        "samples:",
        "  - from: offers@spam.example",
        `    to: linus@${domain}`,
        "  - from: grace@partner.example",
        `    to: [joe@${domain}, sales@${domain}, ada@${domain}, nobody@${domain}, linus@${domain}]`,
        "  - from: billing@phish.example",
        `    to: linus@${domain}`,
        "  - from: accounts@vendor.example",
        `    to: linus@${domain}`,
        "    attachments: [invoice.pdf, invoice.js]",
        "  - from: grace@partner.example",
        `    to: linus@${domain}`,
        `    headers: { Delivered-To: linus@${domain} }`,
        "  - from: grace@partner.example",
        "    to: someone@elsewhere.example",
        "  - from: grace@partner.example",
        `    to: postmaster@${domain}`,
        "  - from: grace@partner.example",
        `    to: team@${domain}`,
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    await engine?.close();
    await client?.close();
    await admin?.close();
    await h?.close();
  });

  it("gives every live fate the reply code the engine gives", async () => {
    // A platform admin's read: the account's contact is known.
    const live = await readLiveTenancy(admin);
    expect(live.contact).toBe("it@contact.example");
    const { simulated, real } = await compare(live);
    // The samples cover refusals at RCPT, quarantine and loops at DATA, and delivery.
    expect(simulated.map((s) => `${s.fate.phase} ${s.fate.code} ${s.fate.outcome}`)).toEqual([
      "RCPT 550 refused",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "RCPT 550 refused",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "DATA 250 delivered",
      "DATA 550 quarantined",
      "DATA 554 refused",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "RCPT 550 refused",
    ]);
    expect(simulated.at(-2)?.fate.text).toBe("delivered: forwarded to it@contact.example");
    expect(real).toEqual(simulated.map((s) => ({ label: s.label, code: s.fate.code })));
  });

  it("simulates reserved addresses as unknown when the token cannot read the account, and says so", async () => {
    const live = await readLiveTenancy(client);
    expect(live.contact).toBeUndefined();
    const [fate] = fatesOf(policyOf(live), [samples.at(-2)!]);
    expect(fate?.fate.code).toBe(550);
  });

  it("gives every planned fate the reply code the engine gives once the change is made", async () => {
    const live = await readLiveTenancy(admin);
    const list = { domain, kind: "block", target: "sender" };
    // What `pulumi preview --json` shows for this change (inputs only, as the provider's check gives them).
    const { manifest, skipped } = applyPreview(live.manifest, {
      steps: [
        {
          op: "update",
          urn: urn("SenderList", "blocked"),
          oldState: { type: type("SenderList"), inputs: { ...list, entries: ["*@spam.example"] } },
          newState: { type: type("SenderList"), inputs: { ...list, entries: ["*@phish.example"] } },
        },
        {
          op: "delete",
          urn: urn("Alias", "joe"),
          oldState: {
            type: type("Alias"),
            inputs: {
              address: `joe@${domain}`,
              action: { type: "reject", message: "Joe no longer works here" },
            },
          },
        },
        {
          op: "update",
          urn: urn("User", "ada"),
          oldState: { type: type("User"), inputs: { address: `ada@${domain}`, enabled: false } },
          newState: {
            type: type("User"),
            inputs: { address: `ada@${domain}`, enabled: true, password: "[secret]" },
          },
        },
        {
          op: "update",
          urn: urn("Group", "team"),
          oldState: {
            type: type("Group"),
            inputs: { address: `team@${domain}`, members: [`linus@${domain}`], senders: "members" },
          },
          newState: {
            type: type("Group"),
            inputs: { address: `team@${domain}`, members: [`linus@${domain}`], senders: "anyone" },
          },
        },
        {
          op: "delete",
          urn: urn("FilterSettings", "filter"),
          oldState: {
            type: type("FilterSettings"),
            inputs: { scope: domain, blockedExtensions: ["bat", "exe", "js"] },
          },
        },
      ],
    });
    expect(skipped).toEqual([]);
    const planned: SimulatedTenancy = { ...live, manifest };

    // `pulumi up`: the same change through the API.
    await client.senderLists.put({ ...list, kind: "block", target: "sender", entries: ["*@phish.example"] });
    await client.aliases.delete(`joe@${domain}`);
    await client.users.patch(`ada@${domain}`, { enabled: true });
    await client.filterSettings.reset(domain);
    await client.groups.put({ address: `team@${domain}`, members: [`linus@${domain}`], senders: "anyone" });
    await engine.policy.reached(await h.cp.store.revision());

    const { simulated, real } = await compare(planned);
    expect(simulated.map((s) => `${s.fate.phase} ${s.fate.code} ${s.fate.outcome}`)).toEqual([
      "DATA 250 delivered",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "DATA 250 delivered",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "DATA 554 refused",
      "RCPT 550 refused",
      "DATA 250 delivered",
      "DATA 250 delivered",
    ]);
    expect(real).toEqual(simulated.map((s) => ({ label: s.label, code: s.fate.code })));
    // And the simulation of the new live tenancy is the planned one.
    const after = fatesOf(policyOf(await readLiveTenancy(admin)), samples).map((f) => f.fate.text);
    expect(after).toEqual(simulated.map((s) => s.fate.text));
  });
});
