/**
 * Spool faults: a large quarantined message survives its release, lost bytes bounce instead of
 * retrying forever, a failed bounce does not deliver twice, an aborted DATA closes its file, and
 * mail that waited follows the policy in force.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { AutoResponder } from "../../../platform/smtp/delivery/autoreply.ts";
import { MaildirStore, maildirOf } from "../../../platform/smtp/delivery/maildir.ts";
import { Relay } from "../../../platform/smtp/delivery/relay.ts";
import { createDeliver } from "../../../platform/smtp/delivery/worker.ts";
import { FileMessageLog } from "../../../platform/smtp/message-log/log.ts";
import { rcptTo } from "../../../platform/smtp/phases/rcpt-to.ts";
import { buildPolicySnapshot, type TenancyInput } from "../../../platform/smtp/policy/snapshot.ts";
import { receiveMessage } from "../../../platform/smtp/receive.ts";
import { type ConnectionContext, newTransaction } from "../../../platform/smtp/session.ts";
import { nodeFs, type SpoolFile, type SpoolFs } from "../../../platform/smtp/spool/fs.ts";
import { Queue } from "../../../platform/smtp/spool/queue.ts";
import type {
  Bounce,
  Deliver,
  DeliveryOutcome,
  QueuedMessage,
  TargetState,
} from "../../../platform/smtp/spool/queued-message.ts";
import { queuedMessage } from "../../support/queued-message.ts";
import { scratchDirs } from "../../support/scratch.ts";
import { HOSTNAME, startTestEngine, type TestEngine } from "./support/harness.ts";

const scratch = scratchDirs("mp-spool-faults-");

/** example.com with alice and bob; messages over 1 MB are quarantined and answered 250. */
function tenancy(opts: { bobEnabled?: boolean } = {}): TenancyInput {
  return {
    revision: opts.bobEnabled === false ? 2 : 1,
    accounts: [
      {
        id: "acme",
        domains: [{ name: "example.com", verified: true }],
        users: [
          { address: "alice@example.com" },
          { address: "bob@example.com", enabled: opts.bobEnabled ?? true },
        ],
        filterSettings: [
          {
            scope: "example.com",
            sizeLimitMb: 1,
            oversizedAction: "quarantine",
            quarantineResponse: "accept",
            skipSpf: true,
          },
        ],
      },
    ],
  };
}

function message(id: string, locals: string[], extra: Partial<QueuedMessage> = {}): QueuedMessage {
  return queuedMessage(id, locals, {
    sender: "carol@example.net",
    client: { ip: "192.0.2.1", helo: "client.test", tls: false, user: null, listener: "inbound" },
    ...extra,
  });
}

/** The account that holds example.com (declared without a generation). */
const ACME = { accountId: "acme", domain: "example.com", generation: "" };

/** A message of about `bytes` bytes, every line distinct, CRLF line ends. */
function bigMessage(to: string, subject: string, bytes: number): Buffer {
  const head = `From: carol@example.net\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.net>\r\n\r\n`;
  const lines: string[] = [];
  for (let n = 0, size = head.length; size < bytes; n++) {
    const line = `line ${String(n).padStart(8, "0")} ${"abcdefghijklmnopqrstuvwxyz0123456789".repeat(2)}\r\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(head + lines.join(""));
}

async function sendRaw(port: number, to: string[], raw: Buffer): Promise<string> {
  const transport = createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ envelope: { from: "carol@example.net", to }, raw });
    return info.response;
  } finally {
    transport.close();
  }
}

/** The files of a user's Maildir new/, as bytes. */
function mailboxFiles(t: TestEngine, address: string): Buffer[] {
  const dir = join(t.engine.maildirOf(address), "new");
  try {
    return readdirSync(dir).map((f) => readFileSync(join(dir, f)));
  } catch {
    return [];
  }
}

describe("releasing quarantined mail (engine, nodemailer client)", () => {
  let t: TestEngine;
  const errors: Error[] = [];
  beforeAll(async () => {
    t = await startTestEngine(tenancy(), { onError: (e) => errors.push(e) });
  });
  afterAll(() => t.close());

  it("releases a 5 MB quarantined message and delivers it byte-identical", async () => {
    const raw = bigMessage("alice@example.com", "five megabytes", 5 * 1024 * 1024);
    const reply = await sendRaw(t.engine.inboundPort, ["alice@example.com"], raw);
    expect(reply).toMatch(/^250 /);
    const [held] = await t.events.next("quarantined", (meta) => meta.subject === "five megabytes");
    expect(mailboxFiles(t, "alice@example.com")).toEqual([]);
    // The queue let the message go: its own body file is gone; the quarantine copy is all there is.
    await t.events.settled(held.id);
    const queueId = await t.engine.operations.releaseQuarantined(held.id);
    expect(queueId).toBeTruthy();
    await t.events.settled(queueId!);
    const files = mailboxFiles(t, "alice@example.com");
    expect(files).toHaveLength(1);
    const delivered = files[0]!;
    expect(delivered.length).toBeGreaterThan(raw.length);
    expect(delivered.subarray(delivered.length - raw.length).equals(raw)).toBe(true);
    expect(t.engine.operations.getQuarantined(held.id, ACME)).toBeUndefined();
    expect(errors).toEqual([]);
  }, 60_000);

  it("releases to the recipients that accept mail now: a user disabled while it was held gets nothing", async () => {
    const raw = bigMessage("alice@example.com, bob@example.com", "held for two", 1_200_000);
    await sendRaw(t.engine.inboundPort, ["alice@example.com", "bob@example.com"], raw);
    const [held] = await t.events.next("quarantined", (meta) => meta.subject === "held for two");
    const before = mailboxFiles(t, "alice@example.com").length;
    t.policy.set(buildPolicySnapshot(tenancy({ bobEnabled: false })));
    try {
      const queueId = await t.engine.operations.releaseQuarantined(held.id);
      await t.events.settled(queueId!);
      expect(mailboxFiles(t, "alice@example.com")).toHaveLength(before + 1);
      expect(mailboxFiles(t, "bob@example.com").some((m) => m.includes("held for two"))).toBe(false);
      // Resolved again at release, not refused at delivery: bob is not a recipient of the released copy.
      expect(t.events.all("failed").filter(([meta]) => meta.id === queueId)).toEqual([]);
    } finally {
      t.policy.set(buildPolicySnapshot(tenancy()));
    }
  }, 60_000);

  it("refuses to release a message none of whose recipients accepts mail now, and keeps it held", async () => {
    const raw = bigMessage("bob@example.com", "held for bob", 1_200_000);
    await sendRaw(t.engine.inboundPort, ["bob@example.com"], raw);
    const [held] = await t.events.next("quarantined", (meta) => meta.subject === "held for bob");
    t.policy.set(buildPolicySnapshot(tenancy({ bobEnabled: false })));
    try {
      await expect(t.engine.operations.releaseQuarantined(held.id)).rejects.toMatchObject({
        code: "MP_CONFLICT",
      });
      expect(t.engine.operations.getQuarantined(held.id, ACME)).toBeDefined();
    } finally {
      t.policy.set(buildPolicySnapshot(tenancy()));
    }
  }, 60_000);

  it("tells the operator about a queue error instead of dropping it", () => {
    const before = errors.length;
    t.engine.queue.emit("error", new Error("probe: the spool could not read a message"));
    expect(errors.slice(before).map((e) => e.message)).toEqual(["probe: the spool could not read a message"]);
  });
});

/** A queue over a scratch folder whose deliver, bounce and errors the test sees. */
async function openQueue(deliver: Deliver, bounce: Bounce, fs: SpoolFs = nodeFs) {
  const queue = await Queue.open({
    dir: scratch(),
    deliver,
    quarantine: async () => {},
    bounce,
    retryBaseMs: 10,
    fs,
  });
  const errors: Error[] = [];
  queue.on("error", (e: Error) => errors.push(e));
  return { queue, errors };
}

/** The next `settled` (events.once would reject on the `error` these tests expect first). */
const settledOnce = (queue: Queue) => new Promise<void>((resolve) => queue.once("settled", () => resolve()));

describe("Queue faults", () => {
  it("bounces a message whose body file is gone with 5.3.0 once, reports it, and lets it go", async () => {
    const delivered: string[] = [];
    const bounces: string[][] = [];
    const { queue, errors } = await openQueue(
      async (_m, _b, targets) => {
        delivered.push(...targets.map((x) => x.key));
        return [];
      },
      async (_m, _b, failed) => {
        bounces.push(failed.map((f) => `${f.target.recipient} ${f.outcome.status_code}`));
      },
    );
    // The body file was never written (or removed by a fault): its bytes are gone for good.
    await queue.accept(message("lost1", ["alice"], { bodyFile: "lost1" }), []);
    await settledOnce(queue);
    expect(bounces).toEqual([["alice@example.com 5.3.0"]]);
    expect(delivered).toEqual([]);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(["MP_SPOOL_UNREADABLE"]);
    expect(queue.size).toBe(0);
    await queue.close();
  });

  it("does not deliver a delivered target again when the bounce for another target failed", async () => {
    const attempts: string[][] = [];
    let bounceCalls = 0;
    const { queue, errors } = await openQueue(
      async (_m, _b, targets: TargetState[]) => {
        attempts.push(targets.map((x) => x.key));
        return targets.map(
          (x): DeliveryOutcome =>
            x.recipient === "alice@example.com"
              ? { key: x.key, status: "delivered", detail: "ok", status_code: "2.0.0" }
              : { key: x.key, status: "failed", detail: "no such user", status_code: "5.1.1" },
        );
      },
      async () => {
        bounceCalls++;
        if (bounceCalls === 1) throw new Error("ENOSPC: no space left on device");
      },
    );
    await queue.accept(message("b1", ["alice", "bob"]), Buffer.from("hello"));
    await settledOnce(queue);
    expect(attempts).toEqual([
      ["mailbox:alice@example.com", "mailbox:bob@example.com"],
      ["mailbox:bob@example.com"],
    ]);
    expect(bounceCalls).toBe(2);
    expect(errors.map((e) => e.message)).toEqual(["ENOSPC: no space left on device"]);
    await queue.close();
  });
});

/** node:fs, counting the files opened and closed through the seam. */
function countingFs(): SpoolFs & { opened: string[]; closed: string[] } {
  const opened: string[] = [];
  const closed: string[] = [];
  return {
    ...nodeFs,
    opened,
    closed,
    async open(path, flags) {
      const file = await nodeFs.open(path, flags);
      opened.push(path);
      const counted: SpoolFile = {
        writev: (b, p) => file.writev(b, p),
        read: (b, o, l, p) => file.read(b, o, l, p),
        datasync: () => file.datasync(),
        sync: () => file.sync(),
        truncate: (l) => file.truncate(l),
        close: async () => {
          closed.push(path);
          await file.close();
        },
      };
      return counted;
    },
  };
}

describe("receiving DATA", () => {
  it("closes and removes the spill file of a DATA the client aborted, and answers 451", async () => {
    const fs = countingFs();
    const { queue } = await openQueue(
      async () => [],
      async () => {},
      fs,
    );
    const snapshot = buildPolicySnapshot(tenancy());
    const conn: ConnectionContext = {
      id: "conn-abort",
      listener: "inbound",
      remoteAddress: "192.0.2.1",
      helo: "client.test",
      secure: false,
      user: null,
    };
    const tx = newTransaction("carol@example.net", null);
    const verdict = rcptTo(snapshot, conn, tx, "alice@example.com");
    if (verdict.action !== "accept") throw new Error(verdict.message);
    tx.recipients.push(verdict.value);
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let sent = 0;
    // Past the inline limit (so the body spills to a file), then the connection drops.
    const stream = Object.assign(
      new Readable({
        read() {
          if (sent++ < 4) this.push(chunk);
          else this.destroy(new Error("ECONNRESET: the client went away"));
        },
      }),
      { sizeExceeded: false },
    );
    const result = await receiveMessage(
      {
        snapshot: () => snapshot,
        queue,
        log: await FileMessageLog.open({ dir: null, retentionDays: () => 28 }),
        resolver: NO_DNS,
        hostname: HOSTNAME,
        inlineLimit: 8 * 1024,
      },
      conn,
      tx,
      stream,
    );
    expect(result).toMatchObject({ action: "defer", code: 451 });
    const spills = fs.opened.filter((p) => p.startsWith(queue.bodiesDir));
    expect(spills).toHaveLength(1);
    expect(fs.closed.filter((p) => p.startsWith(queue.bodiesDir))).toEqual(spills);
    expect(readdirSync(queue.bodiesDir)).toEqual([]);
    await queue.close();
  });
});

describe("delivery of mail that waited", () => {
  it("fails a target whose user was disabled since the message arrived with 5.2.1, and delivers the others", async () => {
    const root = scratch();
    const maildir = new MaildirStore(root);
    const deliver = createDeliver({
      snapshot: () => buildPolicySnapshot(tenancy({ bobEnabled: false })),
      maildir,
      relay: new Relay({ name: HOSTNAME }),
      outbound: { resolver: NO_DNS },
      responder: new AutoResponder(null, HOSTNAME),
      inject: async () => {},
    });
    const meta = message("w1", ["alice", "bob"]);
    const targets: TargetState[] = meta.recipients.map((r) => ({
      key: `mailbox:${r.address}`,
      recipient: r.address,
      target: r.targets[0]!,
      attempts: 1,
      lastError: null,
    }));
    const outcomes = await deliver(meta, Buffer.from("Subject: waited\r\n\r\nhello\r\n"), targets);
    await Promise.all(outcomes.map((o) => o.durable));
    expect(
      outcomes.map((o) => [o.key, o.status, o.status_code]).sort((a, b) => a[0]!.localeCompare(b[0]!)),
    ).toEqual([
      ["mailbox:alice@example.com", "delivered", "2.0.0"],
      ["mailbox:bob@example.com", "failed", "5.2.1"],
    ]);
    const bobNew = join(maildirOf(root, "bob@example.com"), "new");
    expect(() => readdirSync(bobNew)).toThrow();
  });
});
