/**
 * The reserved addresses end to end on both stores: `postmaster@` and `abuse@` of every domain of
 * an account reach the account's contact (RFC 5321 §4.5.1, RFC 2142) as soon as a platform admin
 * sets it, and a declared user of that name takes them back.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/run.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "./support/harness.ts";

describe.each(BACKENDS)("reserved addresses on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let tenant: { id: string; token: string };
  const domain = uniqueDomain("reserved");

  const call = async (method: string, path: string, body: object | undefined, token = tenant.token) => {
    const res = await h.call(method, path, { token, account: tenant.id, ...(body ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    await engine?.policy.reached(await h.cp.store.revision());
    return res;
  };
  const setContact = (contact: string | null) =>
    call("PUT", `/v1/accounts/${tenant.id}`, { id: tenant.id, name: "Reserved", contact }, h.adminToken);
  const mailbox = (address: string) => {
    try {
      return readdirSync(join(engine.maildirOf(address), "new"));
    } catch {
      return [];
    }
  };
  const send = (to: string) =>
    swaks(engine.inboundPort, [
      "--to",
      to,
      "--from",
      "reporter@outside.example",
      "--header",
      `Subject: to ${to}`,
    ]);

  beforeAll(async () => {
    h = await startHarness(backend);
    tenant = await h.tenant("reserved");
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
    for (const local of ["it", "postmaster-person"]) {
      await call("PUT", `/v1/domains/${domain}/users/${local}@${domain}`, {
        address: `${local}@${domain}`,
        password: "Reserved-Secret-1",
      });
    }
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("refuses postmaster@ as an unknown user while the account has no contact", async () => {
    const run = await send(`postmaster@${domain}`);
    expect(run.replyTo("RCPT TO")).toMatchObject({ code: 550 });
  });

  it("delivers postmaster@ and abuse@ to the contact once the admin sets it on the account", async () => {
    await setContact(`it@${domain}`);
    for (const to of [`postmaster@${domain}`, `ABUSE@${domain}`]) {
      const run = await send(to);
      expect(run.replyTo(".")).toMatchObject({ code: 250 });
      await events.settled(run.queueId()!);
    }
    expect(mailbox(`it@${domain}`)).toHaveLength(2);
  });

  it("lets a declared alias of a reserved name take it back from the contact", async () => {
    await call("PUT", `/v1/domains/${domain}/aliases/postmaster@${domain}`, {
      address: `postmaster@${domain}`,
      action: { type: "forward", to: [`postmaster-person@${domain}`] },
    });
    const run = await send(`postmaster@${domain}`);
    await events.settled(run.queueId()!);
    expect(mailbox(`postmaster-person@${domain}`)).toHaveLength(1);
    expect(mailbox(`it@${domain}`)).toHaveLength(2);
  });

  it("shows the contact on the account and refuses one that is not an address, naming the field", async () => {
    const got = await h.call("GET", `/v1/accounts/${tenant.id}`, { token: h.adminToken });
    expect(got.body.contact).toBe(`it@${domain}`);
    const bad = await h.call("PUT", `/v1/accounts/${tenant.id}`, {
      token: h.adminToken,
      body: { id: tenant.id, name: "Reserved", contact: "not an address" },
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("contact");
  });
});
