/**
 * The reserved addresses end to end on both stores: `postmaster@` and `abuse@` of every domain of
 * an account reach the account's contact (RFC 5321 §4.5.1, RFC 2142) as soon as a platform admin
 * sets it, and a declared user of that name takes them back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, uniqueDomain } from "../api/harness.ts";
import { swaks } from "./support/harness.ts";
import { startTenantEngine, type TenantEngine } from "./support/tenant-engine.ts";

describe.each(BACKENDS)("reserved addresses on $name", (backend) => {
  let t: TenantEngine;
  const domain = uniqueDomain("reserved");

  const call = (method: string, path: string, body: object | undefined, token?: string) =>
    t.call(method, path, body, token);
  const setContact = (contact: string | null) =>
    call(
      "PUT",
      `/v1/accounts/${t.tenant.id}`,
      { id: t.tenant.id, name: "Reserved", contact },
      t.h.adminToken,
    );
  const mailbox = (address: string) => t.mailbox(address);
  const send = (to: string) =>
    swaks(t.engine.inboundPort, [
      "--to",
      to,
      "--from",
      "reporter@outside.example",
      "--header",
      `Subject: to ${to}`,
    ]);

  beforeAll(async () => {
    t = await startTenantEngine(backend, "reserved");
    await call("PUT", `/v1/domains/${domain}`, { name: domain });
    for (const local of ["it", "postmaster-person"]) {
      await call("PUT", `/v1/domains/${domain}/users/${local}@${domain}`, {
        address: `${local}@${domain}`,
        password: "Reserved-Secret-1",
      });
    }
  });
  afterAll(async () => {
    await t?.close();
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
      await t.events.settled(run.queueId()!);
    }
    expect(mailbox(`it@${domain}`)).toHaveLength(2);
  });

  it("lets a declared alias of a reserved name take it back from the contact", async () => {
    await call("PUT", `/v1/domains/${domain}/aliases/postmaster@${domain}`, {
      address: `postmaster@${domain}`,
      action: { type: "forward", to: [`postmaster-person@${domain}`] },
    });
    const run = await send(`postmaster@${domain}`);
    await t.events.settled(run.queueId()!);
    expect(mailbox(`postmaster-person@${domain}`)).toHaveLength(1);
    expect(mailbox(`it@${domain}`)).toHaveLength(2);
  });

  it("shows the contact on the account and refuses one that is not an address, naming the field", async () => {
    const got = await t.h.call("GET", `/v1/accounts/${t.tenant.id}`, { token: t.h.adminToken });
    expect(got.body.contact).toBe(`it@${domain}`);
    const bad = await t.h.call("PUT", `/v1/accounts/${t.tenant.id}`, {
      token: t.h.adminToken,
      body: { id: t.tenant.id, name: "Reserved", contact: "not an address" },
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("contact");
  });
});

describe.each(BACKENDS)("RCPT TO:<Postmaster> without a domain on $name (RFC 5321 §4.1.1.3)", (backend) => {
  const domain = uniqueDomain("operator");
  const send = (port: number) =>
    swaks(port, [
      "--to",
      "postmaster",
      "--from",
      "reporter@outside.example",
      "--header",
      "Subject: hello postmaster",
    ]);

  it("delivers to the address given with --postmaster", async () => {
    const t = await startTenantEngine(backend, "operator", { postmaster: `noc@${domain}` });
    try {
      await t.call("PUT", `/v1/domains/${domain}`, { name: domain });
      await t.call("PUT", `/v1/domains/${domain}/users/noc@${domain}`, {
        address: `noc@${domain}`,
        password: "Operator-Secret-1",
      });
      const run = await send(t.engine.inboundPort);
      expect(run.replyTo("RCPT TO")).toMatchObject({ code: 250 });
      await t.events.settled(run.queueId()!);
      expect(t.mailbox(`noc@${domain}`)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it("refuses it with 550 5.1.1 naming --postmaster when the host name's postmaster is not hosted", async () => {
    const t = await startTenantEngine(backend, "no-operator");
    try {
      const run = await send(t.engine.inboundPort);
      expect(run.replyTo("RCPT TO")).toMatchObject({ code: 550 });
      expect(run.replyTo("RCPT TO")?.text).toContain("--postmaster");
    } finally {
      await t.close();
    }
  });
});
