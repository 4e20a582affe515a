/**
 * Forward on delete end to end on both stores (the seeds' mail-robot option): deleting a user with
 * `forwardOnDelete` leaves its address forwarding, in the same transaction; declaring the address
 * again ends the forward; the domain's deletion takes it along.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/run.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "./support/harness.ts";

describe.each(BACKENDS)("forward on delete on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let tenant: { id: string; token: string };
  const domain = uniqueDomain("departed");
  const leaver = `leaver@${domain}`;
  const boss = `boss@${domain}`;

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
  const send = (to: string) => swaks(engine.inboundPort, ["--to", to, "--from", "s@outside.example"]);

  beforeAll(async () => {
    h = await startHarness(backend);
    tenant = await h.tenant("departed");
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
    await call("PUT", `/v1/domains/${domain}/users/${boss}`, {
      address: boss,
      password: "Departed-Secret-1",
    });
    await call("PUT", `/v1/domains/${domain}/users/${leaver}`, {
      address: leaver,
      password: "Departed-Secret-1",
      forwardOnDelete: boss,
    });
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
  });

  it("forwards a deleted user's mail to forwardOnDelete, and audits the forward", async () => {
    await call("PATCH", `/v1/domains/${domain}/users/${leaver}`, { enabled: false });
    await call("DELETE", `/v1/domains/${domain}/users/${leaver}`);
    const run = await send(leaver);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await events.settled(run.queueId()!);
    expect(mailbox(boss)).toHaveLength(1);
    const audit = await h.call("GET", "/v1/audit?kind=DepartedAddress", { token: tenant.token });
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: "create",
        objectId: leaver,
        after: expect.objectContaining({ forwardTo: boss }),
      }),
    ]);
  });

  it("ends the forward when the address is declared again, and does not bring it back on that object's delete", async () => {
    await call("PUT", `/v1/domains/${domain}/aliases/${leaver}`, {
      address: leaver,
      action: { type: "reject", message: "Gone for good" },
    });
    expect((await send(leaver)).replyTo("RCPT TO")).toMatchObject({ code: 550 });
    await call("DELETE", `/v1/domains/${domain}/aliases/${leaver}`);
    const run = await swaks(engine.inboundPort, [
      "--to",
      leaver,
      "--from",
      "s@outside.example",
      "--quit-after",
      "RCPT",
    ]);
    expect(run.replyTo("RCPT TO")).toMatchObject({ code: 550 });
  });

  it("lets the domain be deleted with a departed user's forward in it", async () => {
    await call("PUT", `/v1/domains/${domain}/users/temp@${domain}`, {
      address: `temp@${domain}`,
      password: "Departed-Secret-1",
      forwardOnDelete: "someone@elsewhere.example",
      enabled: false,
    });
    await call("DELETE", `/v1/domains/${domain}/users/temp@${domain}`);
    await call("PATCH", `/v1/domains/${domain}/users/${boss}`, { enabled: false });
    await call("DELETE", `/v1/domains/${domain}/users/${boss}`);
    await call("DELETE", `/v1/domains/${domain}`);
    expect((await h.call("GET", `/v1/domains/${domain}`, { token: tenant.token })).status).toBe(404);
  });
});
