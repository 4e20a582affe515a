/**
 * A user's extra addresses end to end on both stores: mail to one lands in the user's own Maildir,
 * the user may submit as it (another user may not), and removing it refuses its mail again.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/run.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "./support/harness.ts";

describe.each(BACKENDS)("a user's extra addresses on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let tenant: { id: string; token: string };
  const domain = uniqueDomain("extra");
  const ana = `ana@${domain}`;
  const extra = `a.lopez@${domain}`;
  const PASSWORD = "Extra-Secret-1";

  const call = async (method: string, path: string, body?: object) => {
    const res = await h.call(method, path, { token: tenant.token, ...(body ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    await engine?.policy.reached(await h.cp.store.revision());
    return res;
  };
  const mailbox = (address: string) => {
    try {
      return readdirSync(join(engine.maildirOf(address), "new"));
    } catch {
      return [];
    }
  };
  const submitAs = (login: string, from: string) =>
    swaks(engine.submissionPort, [
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      login,
      "--auth-password",
      PASSWORD,
      "--from",
      from,
      "--to",
      `ben@${domain}`,
      "--header",
      `Subject: from ${from} as ${login}`,
    ]);

  beforeAll(async () => {
    h = await startHarness(backend);
    tenant = await h.tenant("extra");
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      dataDir: join(h.dataDir, "smtp"),
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      policy: { trustAllDomains: true },
    });
    events = new EventLog(engine);
    await call("PUT", `/v1/domains/${domain}`, { name: domain });
    await call("PUT", `/v1/domains/${domain}/users/${ana}`, {
      address: ana,
      password: PASSWORD,
      addresses: [extra],
    });
    await call("PUT", `/v1/domains/${domain}/users/ben@${domain}`, {
      address: `ben@${domain}`,
      password: PASSWORD,
    });
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("delivers mail for the extra address into the user's own Maildir", async () => {
    const run = await swaks(engine.inboundPort, ["--to", extra, "--from", "s@outside.example"]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await events.settled(run.queueId()!);
    expect(mailbox(ana)).toHaveLength(1);
  });

  it("lets the user submit as the extra address and refuses another user with 553", async () => {
    const own = await submitAs(ana, extra);
    expect(own.replyTo(".")).toMatchObject({ code: 250 });
    await events.settled(own.queueId()!);
    expect(mailbox(`ben@${domain}`)).toHaveLength(1);
    const other = await submitAs(`ben@${domain}`, extra);
    expect(other.replyTo("MAIL FROM")).toMatchObject({ code: 553 });
  });

  it("refuses the address as an unknown user once it is removed from the user", async () => {
    await call("PATCH", `/v1/domains/${domain}/users/${ana}`, { addresses: [] });
    const run = await swaks(engine.inboundPort, [
      "--to",
      extra,
      "--from",
      "s@outside.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(run.replyTo("RCPT TO")).toMatchObject({ code: 550 });
  });

  it("refuses an extra address in another domain with 422 naming addresses[0]", async () => {
    const res = await h.call("PATCH", `/v1/domains/${domain}/users/${ana}`, {
      token: tenant.token,
      body: { addresses: ["ana@victim.example"] },
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain("addresses[0]");
    expect(res.text).toContain(`must be an address in ${domain}`);
  });
});
