/**
 * Groups end to end on both stores: declared through the API, a group address delivers one copy to
 * each member's Maildir, a members-only group refuses other senders at RCPT, and a change of the
 * members takes effect on the next message.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/run.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "./support/harness.ts";

describe.each(BACKENDS)("groups on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore;
  let events: EventLog;
  let tenant: { id: string; token: string };
  const domain = uniqueDomain("groups");
  const team = `team@${domain}`;

  const call = async (method: string, path: string, body?: object) => {
    const res = await h.call(method, path, { token: tenant.token, ...(body ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    await engine?.policy.reached(await h.cp.store.revision());
    return res;
  };
  const mailbox = (local: string) => {
    try {
      return readdirSync(join(engine.maildirOf(`${local}@${domain}`), "new"));
    } catch {
      return [];
    }
  };
  const send = (from: string, subject: string) =>
    swaks(engine.inboundPort, ["--to", team, "--from", from, "--header", `Subject: ${subject}`]);

  beforeAll(async () => {
    h = await startHarness(backend);
    tenant = await h.tenant("groups");
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
    for (const local of ["ana", "ben", "cy"]) {
      await call("PUT", `/v1/domains/${domain}/users/${local}@${domain}`, {
        address: `${local}@${domain}`,
        password: "Groups-Secret-1",
      });
    }
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
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
    await events.settled(run.queueId()!);
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
    await events.settled(member.queueId()!);
    expect(mailbox("ben")).toHaveLength(2);
  });

  it("refuses a group that lists itself, naming the member", async () => {
    const res = await h.call("PUT", `/v1/domains/${domain}/groups/loop@${domain}`, {
      token: tenant.token,
      body: { address: `loop@${domain}`, members: [`loop@${domain}`] },
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain("members[0]");
    expect(res.text).toContain("its own member");
  });
});
