/** Owners of message data: each account's view of a transaction, delivery only into a live Domain lifetime, quarantine per view. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { AutoResponder } from "../../../platform/smtp/delivery/autoreply.ts";
import { MaildirStore } from "../../../platform/smtp/delivery/maildir.ts";
import { Relay } from "../../../platform/smtp/delivery/relay.ts";
import { createDeliver } from "../../../platform/smtp/delivery/worker.ts";
import { type Owner, ownerOf, transactionViews } from "../../../platform/smtp/owners.ts";
import { buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";
import { QuarantineStore } from "../../../platform/smtp/quarantine/store.ts";
import type { QueuedMessage } from "../../../platform/smtp/spool/queued-message.ts";
import { scratchDirs } from "../../support/scratch.ts";

/** Fresh folders per test, removed after it. */
const maildirRoot = scratchDirs("mp-owners-");
const quarantineDir = scratchDirs("mp-q-");

const snapshotWith = (generationOfB: string) =>
  buildPolicySnapshot({
    revision: 1,
    accounts: [
      {
        id: "acme",
        domains: [{ name: "a.example", generation: "ga", verified: true }],
        users: [{ address: "alice@a.example" }, { address: "hidden@a.example" }],
      },
      {
        id: "beta",
        domains: [{ name: "b.example", generation: generationOfB, verified: true }],
        users: [{ address: "bob@b.example" }],
      },
    ],
  });

const recipients = [
  { address: "bob@b.example", domain: "b.example" },
  { address: "hidden@a.example", domain: "a.example" },
  { address: "far@elsewhere.example", domain: null },
];

function message(views: QueuedMessage["views"]): QueuedMessage {
  return {
    id: "q1",
    receivedAt: new Date().toISOString(),
    sender: "s@outside.example",
    client: { ip: "192.0.2.1", helo: "c", tls: false, user: null, listener: "inbound" },
    domain: "a.example",
    subject: "s",
    messageId: null,
    size: 3,
    disposition: "quarantine",
    classification: "spam",
    reason: "gtube",
    score: 10,
    edits: { prepend: [], subjectPrefix: null },
    recipients: [
      {
        rcpt: "alice@a.example",
        address: "alice@a.example",
        targets: [{ kind: "mailbox", address: "alice@a.example", domain: "a.example" }],
      },
      {
        rcpt: "bob@b.example",
        address: "bob@b.example",
        targets: [{ kind: "mailbox", address: "bob@b.example", domain: "b.example" }],
      },
    ],
    origin: "smtp",
    ...(views ? { views } : {}),
  };
}

describe("transactionViews", () => {
  const snapshot = snapshotWith("gb");
  const a = ownerOf(snapshot.domains.get("a.example")!);
  const b = ownerOf(snapshot.domains.get("b.example")!);

  it("gives the authenticated sender's account every recipient and each recipient account only its own", () => {
    const views = transactionViews(
      snapshot,
      { address: "alice@a.example", accountId: "acme", domain: "a.example" },
      recipients,
    );
    expect(views).toEqual([
      { owner: a, recipients: ["bob@b.example", "hidden@a.example", "far@elsewhere.example"] },
      { owner: b, recipients: ["bob@b.example"] },
    ]);
  });

  it("gives an unauthenticated transaction no sender view: each hosted domain sees its own recipients", () => {
    expect(transactionViews(snapshot, null, recipients)).toEqual([
      { owner: b, recipients: ["bob@b.example"] },
      { owner: a, recipients: ["hidden@a.example"] },
    ]);
  });

  it("stamps each view with the domain's generation", () => {
    expect(a).toEqual({ accountId: "acme", domain: "a.example", generation: "ga" });
  });
});

describe("delivery into a Domain's lifetime", () => {
  const run = async (generationNow: string) => {
    const root = maildirRoot();
    const maildir = new MaildirStore(root);
    const snapshot = snapshotWith(generationNow);
    const deliver = createDeliver({
      snapshot: () => snapshot,
      maildir,
      relay: new Relay({ name: "mx.test" }),
      outbound: { resolver: NO_DNS },
      responder: new AutoResponder(null, "mx.test"),
      inject: async () => {},
    });
    // Queued while b.example was in its lifetime "gb".
    const meta = message([
      { owner: { accountId: "beta", domain: "b.example", generation: "gb" }, recipients: ["bob@b.example"] },
    ]);
    const target = {
      key: "k",
      recipient: "bob@b.example",
      target: meta.recipients[1]!.targets[0]!,
      attempts: 0,
      lastError: null,
    };
    const outcomes = await deliver(meta, Buffer.from("Subject: s\r\n\r\nhi\r\n"), [target]);
    await maildir.flush();
    return { root, outcome: outcomes[0]! };
  };

  it("writes into <domain>@<generation> while the Domain is the one the message was queued for", async () => {
    const { root, outcome } = await run("gb");
    expect(outcome.status).toBe("delivered");
    expect(readdirSync(join(root, "b.example@gb", "bob", "new"))).toHaveLength(1);
  });

  it("fails with 5.1.2 and writes nothing when the Domain was deleted and created again since", async () => {
    const { root, outcome } = await run("gnew");
    expect(outcome).toMatchObject({ status: "failed", status_code: "5.1.2" });
    expect(readdirSync(root)).toEqual([]);
  });
});

describe("QuarantineStore per view", () => {
  const a: Owner = { accountId: "acme", domain: "a.example", generation: "ga" };
  const b: Owner = { accountId: "beta", domain: "b.example", generation: "gb" };
  const stranger: Owner = { accountId: "acme", domain: "a.example", generation: "gother" };

  it("lists and shows a held message to each account with its own recipients only", async () => {
    const q = await QuarantineStore.open(quarantineDir());
    await q.put(
      message([
        { owner: a, recipients: ["alice@a.example"] },
        { owner: b, recipients: ["bob@b.example"] },
      ]),
      Buffer.from("x"),
      28,
    );
    expect(q.list({ owner: a })).toMatchObject([
      { id: "q1", domain: "a.example", recipients: ["alice@a.example"] },
    ]);
    expect(q.list({ owner: b })).toMatchObject([
      { id: "q1", domain: "b.example", recipients: ["bob@b.example"] },
    ]);
    expect(JSON.stringify(q.get("q1", b))).not.toContain("alice@");
    expect(q.get("q1", stranger)).toBeUndefined();
    expect(q.list({ owner: stranger })).toEqual([]);
  });

  it("purges a message once every account that sees it has ended, not before", async () => {
    const dir = quarantineDir();
    const q = await QuarantineStore.open(dir);
    await q.put(
      message([
        { owner: a, recipients: ["alice@a.example"] },
        { owner: b, recipients: ["bob@b.example"] },
      ]),
      Buffer.from("x"),
      28,
    );
    expect(await q.purgeOwners((o) => o.domain === "b.example")).toEqual([]);
    expect(existsSync(join(dir, "q1.msg"))).toBe(true);
    expect(await q.purgeOwners(() => true)).toEqual(["q1"]);
    expect(existsSync(join(dir, "q1.msg"))).toBe(false);
  });
});
