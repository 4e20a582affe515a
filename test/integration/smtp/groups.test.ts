/**
 * Groups end to end on both stores: declared through the API, a group address delivers one copy to
 * each member's Maildir, a members-only group refuses other senders at RCPT, and a change of the
 * members takes effect on the next message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, uniqueDomain } from "../api/harness.ts";
import { swaks } from "./support/harness.ts";
import { startTenantEngine, type TenantEngine } from "./support/tenant-engine.ts";

describe.each(BACKENDS)("groups on $name", (backend) => {
  let t: TenantEngine;
  const domain = uniqueDomain("groups");
  const team = `team@${domain}`;

  const call = (method: string, path: string, body?: object) => t.call(method, path, body);
  const mailbox = (local: string) => t.mailbox(`${local}@${domain}`);
  const send = (from: string, subject: string) =>
    swaks(t.engine.inboundPort, ["--to", team, "--from", from, "--header", `Subject: ${subject}`]);

  beforeAll(async () => {
    t = await startTenantEngine(backend, "groups");
    await call("PUT", `/v1/domains/${domain}`, { name: domain });
    for (const local of ["ana", "ben", "cy"]) {
      await call("PUT", `/v1/domains/${domain}/users/${local}@${domain}`, {
        address: `${local}@${domain}`,
        password: "Groups-Secret-1",
      });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it("stores a group with its members sorted and once each, and returns it", async () => {
    const put = await call("PUT", `/v1/domains/${domain}/groups/${team}`, {
      address: team,
      name: "Team",
      members: [`ben@${domain}`, `ANA@${domain}`, `ben@${domain}`],
    });
    expect(put.body).toMatchObject({
      address: team,
      members: [`ana@${domain}`, `ben@${domain}`],
      senders: "anyone",
      domain,
    });
  });

  it("delivers one copy of a message to the group to each member's Maildir", async () => {
    const run = await send("someone@outside.example", "hello team");
    expect(run.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(run.queueId()!);
    expect(mailbox("ana")).toHaveLength(1);
    expect(mailbox("ben")).toHaveLength(1);
    expect(mailbox("cy")).toHaveLength(0);
  });

  it("refuses a non-member at RCPT once the group is members-only, and still takes a member's mail", async () => {
    await call("PATCH", `/v1/domains/${domain}/groups/${team}`, { senders: "members" });
    const outsider = await send("someone@outside.example", "let me in");
    expect(outsider.replyTo("RCPT TO")).toMatchObject({ code: 550 });
    expect(outsider.replyTo("RCPT TO")?.text).toContain("only its members may send to this group");
    const member = await send(`ana@${domain}`, "from a member");
    expect(member.replyTo(".")).toMatchObject({ code: 250 });
    await t.events.settled(member.queueId()!);
    expect(mailbox("ben")).toHaveLength(2);
  });

  it("refuses a group that lists itself, naming the member", async () => {
    const res = await t.h.call("PUT", `/v1/domains/${domain}/groups/loop@${domain}`, {
      token: t.tenant.token,
      body: { address: `loop@${domain}`, members: [`loop@${domain}`] },
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain("members[0]");
    expect(res.text).toContain("its own member");
  });
});
