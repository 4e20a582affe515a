/**
 * A user's extra addresses end to end on both stores: mail to one lands in the user's own Maildir,
 * the user may submit as it (another user may not), and removing it refuses its mail again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, uniqueDomain } from "../api/harness.ts";
import { swaks } from "./support/harness.ts";
import { startTenantEngine, type TenantEngine } from "./support/tenant-engine.ts";

describe.each(BACKENDS)("a user's extra addresses on $name", (backend) => {
  let t: TenantEngine;
  const domain = uniqueDomain("extra");
  const ana = `ana@${domain}`;
  const extra = `a.lopez@${domain}`;
  const PASSWORD = "Extra-Secret-1";

  const call = (method: string, path: string, body?: object) => t.call(method, path, body);
  const mailbox = (address: string) => t.mailbox(address);
  const submitAs = (login: string, from: string) =>
    swaks(t.engine.submissionPort, [
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
    t = await startTenantEngine(backend, "extra");
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
    await t?.close();
  });

  it("delivers mail for the extra address into the user's own Maildir", async () => {
    const run = await swaks(t.engine.inboundPort, ["--to", extra, "--from", "s@outside.example"]);
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    expect(mailbox(ana)).toHaveLength(1);
  });

  it("lets the user submit as the extra address and refuses another user with 553", async () => {
    const own = await submitAs(ana, extra);
    expect(own.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(own.queueId()!);
    expect(mailbox(`ben@${domain}`)).toHaveLength(1);
    const other = await submitAs(`ben@${domain}`, extra);
    expect(other.replyTo("MAIL FROM")).toMatchObject({ code: 553 });
  });

  it("refuses the address as an unknown user once it is removed from the user", async () => {
    await call("PATCH", `/v1/domains/${domain}/users/${ana}`, { addresses: [] });
    const run = await swaks(t.engine.inboundPort, [
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
    const res = await t.h.call("PATCH", `/v1/domains/${domain}/users/${ana}`, {
      token: t.tenant.token,
      body: { addresses: ["ana@victim.example"] },
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain("addresses[0]");
    expect(res.text).toContain(`must be an address in ${domain}`);
  });
});
