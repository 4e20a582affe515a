/**
 * Forward on delete end to end on both stores (the seeds' mail-robot option): deleting a user with
 * `forwardOnDelete` leaves its address forwarding, in the same transaction; declaring the address
 * again ends the forward; the domain's deletion takes it along.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, uniqueDomain } from "../api/harness.ts";
import { swaks } from "./support/harness.ts";
import { startTenantEngine, type TenantEngine } from "./support/tenant-engine.ts";

describe.each(BACKENDS)("forward on delete on $name", (backend) => {
  let t: TenantEngine;
  const domain = uniqueDomain("departed");
  const leaver = `leaver@${domain}`;
  const boss = `boss@${domain}`;

  const call = (method: string, path: string, body?: object) => t.call(method, path, body);
  const mailbox = (address: string) => t.mailbox(address);
  const send = (to: string) => swaks(t.engine.inboundPort, ["--to", to, "--from", "s@outside.example"]);

  beforeAll(async () => {
    t = await startTenantEngine(backend, "departed");
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
    await t?.close();
  });

  it("forwards a deleted user's mail to forwardOnDelete, and audits the forward", async () => {
    await call("PATCH", `/v1/domains/${domain}/users/${leaver}`, { enabled: false });
    await call("DELETE", `/v1/domains/${domain}/users/${leaver}`);
    const run = await send(leaver);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    expect(mailbox(boss)).toHaveLength(1);
    const audit = await t.h.call("GET", "/v1/audit?kind=DepartedAddress", { token: t.tenant.token });
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
    const run = await swaks(t.engine.inboundPort, [
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
    expect((await t.h.call("GET", `/v1/domains/${domain}`, { token: t.tenant.token })).status).toBe(404);
  });
});
