/** RCPT TO on hand-built snapshots: relay control, aliases, lists, users, catch-all, routes, loops, grouping. */
import { describe, expect, it } from "vitest";
import { rcptTo, rcptToPostmaster } from "../../../platform/smtp/phases/rcpt-to.ts";
import { buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";
import { newTransaction } from "../../../platform/smtp/session.ts";
import { inbound, snapshot, submitter } from "./fixtures.ts";

const tx = (from = "sender@outside.example") => newTransaction(from, null);
const reply = (r: ReturnType<typeof rcptTo>) =>
  r.action === "accept" ? "accept" : `${r.code} ${r.enhanced} ${r.message}`;

describe("rcptTo on the inbound listener", () => {
  it("rejects RCPT for unknown domain with 550 5.7.1 relay denied", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "x@unknown.example"))).toBe(
      "550 5.7.1 <x@unknown.example>: Relay access denied",
    );
  });

  it("rewrites a domain alias to the main domain and delivers to the user's mailbox", () => {
    const r = rcptTo(snapshot, inbound(), tx(), "Alice@Example.ORG");
    expect(r.action).toBe("accept");
    if (r.action !== "accept") return;
    expect(r.value.address).toBe("alice@example.com");
    expect(r.value.targets).toEqual([
      { kind: "mailbox", address: "alice@example.com", domain: "example.com" },
    ]);
  });

  it("rejects an alias-domain local part that does not exist on the main domain with 550 5.1.1", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "nobody@example.org"))).toMatch(/^550 5\.1\.1 /);
  });

  it("rejects a local part with a rejected character with 550 5.1.3", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "a%b@example.com"))).toMatch(/^550 5\.1\.3 /);
  });

  it("rejects a blocked sender address and a blocked sender domain with 550 5.7.1", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx("eve@bad.example"), "alice@example.com"))).toMatch(
      /^550 5\.7\.1 Sender <eve@bad\.example> is blocked/,
    );
    expect(reply(rcptTo(snapshot, inbound(), tx("anyone@spam.example"), "alice@example.com"))).toMatch(
      /^550 5\.7\.1 /,
    );
  });

  it("rejects a blocked recipient with 550 5.7.1 even though the user exists", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "closed@example.com"))).toMatch(
      /^550 5\.7\.1 .*rejected by policy/,
    );
  });

  it("refuses a disabled user with 550 5.2.1", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "gone@example.com"))).toMatch(/^550 5\.2\.1 /);
  });

  it("answers a reject alias with 550 and its configured text", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "joe@example.com"))).toBe(
      "550 5.7.1 Joe no longer works here",
    );
  });

  it("expands a forward alias into local mailboxes and remote addresses", () => {
    const r = rcptTo(snapshot, inbound(), tx(), "sales@example.com");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets).toEqual([
      { kind: "mailbox", address: "alice@example.com", domain: "example.com" },
      { kind: "mailbox", address: "bob@example.com", domain: "example.com" },
      { kind: "remote", address: "partner@elsewhere.example" },
    ]);
  });

  it("rejects an alias that only loops with 550 5.4.6", () => {
    expect(reply(rcptTo(snapshot, inbound(), tx(), "loop1@example.com"))).toMatch(/^550 5\.4\.6 /);
  });

  it("cuts the looping branch of a forward and delivers the rest", () => {
    const r = rcptTo(snapshot, inbound(), tx(), "half@example.com");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets).toEqual([{ kind: "mailbox", address: "bob@example.com", domain: "example.com" }]);
  });

  it("turns an auto-reply alias into a reply target plus its copies", () => {
    const r = rcptTo(snapshot, inbound(), tx(), "away@example.com");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets.map((t) => t.kind)).toEqual(["autoreply", "mailbox"]);
  });

  it("relays unknown local parts of a routed domain to its routes", () => {
    const r = rcptTo(snapshot, inbound(), tx(), "anyone@routed.example");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets).toEqual([
      { kind: "relay", address: "anyone@routed.example", domain: "routed.example" },
    ]);
  });

  it("in local-recipients-only mode relays listed recipients and rejects others with 550 5.1.1", () => {
    expect(rcptTo(snapshot, inbound(), tx(), "listed@strict.example").action).toBe("accept");
    expect(reply(rcptTo(snapshot, inbound(), tx(), "other@strict.example"))).toMatch(/^550 5\.1\.1 /);
  });

  it("sends unknown local parts to the catch-all last", () => {
    const r = rcptTo(snapshot, inbound(), tx(), "whoever@catch.example");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets).toEqual([
      { kind: "mailbox", address: "alice@example.com", domain: "example.com" },
    ]);
  });

  it("marks allow-listed senders and recipients as unfiltered", () => {
    const fromFriend = rcptTo(snapshot, inbound(), tx("pal@friend.example"), "bob@example.com");
    const toAbuse = rcptTo(snapshot, inbound(), tx(), "abuse@example.com");
    const plain = rcptTo(snapshot, inbound(), tx(), "bob@example.com");
    expect([fromFriend, toAbuse, plain].map((r) => r.action === "accept" && r.value.filtered)).toEqual([
      false,
      false,
      true,
    ]);
  });

  it("defers a recipient of another domain in the same transaction with 452 4.5.3", () => {
    const t = tx();
    t.groupKey = "example.com|filtered";
    expect(reply(rcptTo(snapshot, inbound(), t, "anyone@routed.example"))).toMatch(/^452 4\.5\.3 /);
  });

  it("refuses a declared SIZE above the domain's limit with 552 5.3.4", () => {
    const t = newTransaction("s@outside.example", 5 * 1024 * 1024);
    expect(reply(rcptTo(snapshot, inbound(), t, "anyone@routed.example"))).toMatch(/^552 5\.3\.4 /);
  });
});

describe("rcptTo for an authenticated submission client", () => {
  it("relays to domains the platform does not host", () => {
    const r = rcptTo(snapshot, submitter(), tx("alice@example.com"), "friend@elsewhere.example");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets).toEqual([{ kind: "remote", address: "friend@elsewhere.example" }]);
    expect(r.value.filtered).toBe(false);
  });

  it("keeps a remote recipient's local-part as the client wrote it (RFC 5321 §2.4)", () => {
    const r = rcptTo(snapshot, submitter(), tx("alice@example.com"), "Friend.Name@Elsewhere.example");
    if (r.action !== "accept") throw new Error(reply(r));
    expect(r.value.targets).toEqual([{ kind: "remote", address: "Friend.Name@Elsewhere.example" }]);
  });

  it("does not apply the sender block list to its own users", () => {
    expect(rcptTo(snapshot, submitter(), tx("eve@bad.example"), "bob@example.com").action).toBe("accept");
  });
});

describe("rcptTo caps", () => {
  const WIDE = 30;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  /** top → a0…a29 → mid → b0…b29 → leaf → 30 users (disabled when `dead`): 27,000 paths, 150 forward entries. */
  const nested = (dead: boolean) =>
    buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [{ name: "lists.example", verified: true }],
          users: range(WIDE).map((i) => ({ address: `u${i}@lists.example`, enabled: !dead })),
          aliases: [
            {
              address: "top@lists.example",
              action: { type: "forward", to: range(WIDE).map((i) => `a${i}@lists.example`) },
            },
            ...range(WIDE).map((i) => ({
              address: `a${i}@lists.example`,
              action: { type: "forward" as const, to: ["mid@lists.example"] },
            })),
            {
              address: "mid@lists.example",
              action: { type: "forward", to: range(WIDE).map((i) => `b${i}@lists.example`) },
            },
            ...range(WIDE).map((i) => ({
              address: `b${i}@lists.example`,
              action: { type: "forward" as const, to: ["leaf@lists.example"] },
            })),
            {
              address: "leaf@lists.example",
              action: { type: "forward", to: range(WIDE).map((i) => `u${i}@lists.example`) },
            },
          ],
        },
      ],
    });

  it("follows each forward entry once however many paths reach it (memo), and refuses what yields nothing", () => {
    const meter = { steps: 0 };
    const r = rcptTo(nested(true), inbound(), tx(), "top@lists.example", {
      maxRecipients: 100,
      maxExpansion: 1_000,
      meter,
    });
    expect(reply(r)).toMatch(/^550 5\.2\.1 /);
    expect(meter.steps).toBe(5 * WIDE);
  });

  it("refuses with 550 5.5.3 naming the alias once the targets pass the cap, counting a reused list again", () => {
    const meter = { steps: 0 };
    const r = rcptTo(nested(false), inbound(), tx(), "top@lists.example", {
      maxRecipients: 100,
      maxExpansion: 50,
      meter,
    });
    expect(reply(r)).toBe(
      "550 5.5.3 <top@lists.example>: alias expands to more than 50 recipients per message (through <leaf@lists.example>)",
    );
    expect(meter.steps).toBeLessThan(WIDE * 3);
    const whole = rcptTo(nested(false), inbound(), tx(), "leaf@lists.example", {
      maxRecipients: 100,
      maxExpansion: 30,
    });
    expect(whole.action).toBe("accept");
  });

  it("stops a walk past ten steps per allowed target even when nothing is produced", () => {
    const meter = { steps: 0 };
    const r = rcptTo(nested(true), inbound(), tx(), "top@lists.example", {
      maxRecipients: 100,
      maxExpansion: 10,
      meter,
    });
    expect(reply(r)).toMatch(/^550 5\.5\.3 <top@lists\.example>: alias expands to more than 10 recipients/);
    expect(meter.steps).toBe(101);
  });

  it("answers RCPT beyond maxRecipients with 452 4.5.3, a repeated recipient not counting twice", () => {
    const t = tx();
    const limits = { maxRecipients: 1, maxExpansion: 1_000 };
    const first = rcptTo(snapshot, inbound(), t, "alice@example.com", limits);
    if (first.action !== "accept") throw new Error(reply(first));
    t.recipients.push(first.value);
    expect(reply(rcptTo(snapshot, inbound(), t, "alice@example.com", limits))).toBe("accept");
    expect(reply(rcptTo(snapshot, inbound(), t, "bob@example.com", limits))).toBe(
      "452 4.5.3 Too many recipients (at most 1 per message)",
    );
  });
});

describe("rcptTo for the reserved addresses postmaster@ and abuse@ (RFC 5321 §4.5.1, RFC 2142)", () => {
  const withContact = (contact: string | null, extra: { users?: string[]; aliases?: string[] } = {}) =>
    buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "acme",
          contact,
          domains: [{ name: "acme.example", verified: true, catchAll: "bin@acme.example" }],
          users: ["it@acme.example", "bin@acme.example", ...(extra.users ?? [])].map((address) => ({
            address,
          })),
          aliases: (extra.aliases ?? []).map((address) => ({
            address,
            action: { type: "reject" as const, message: "declared here" },
          })),
        },
      ],
    });

  it("delivers postmaster@ and abuse@ (any case) to the account's contact, ahead of the catch-all", () => {
    const snap = withContact("it@acme.example");
    for (const rcpt of ["postmaster@acme.example", "Abuse@ACME.example"]) {
      const r = rcptTo(snap, inbound(), tx(), rcpt);
      expect(r.action).toBe("accept");
      if (r.action !== "accept") return;
      expect(r.value.targets).toEqual([
        { kind: "mailbox", address: "it@acme.example", domain: "acme.example" },
      ]);
    }
  });

  it("sends the reserved addresses to a remote contact as a forward", () => {
    const r = rcptTo(withContact("noc@provider.example"), inbound(), tx(), "postmaster@acme.example");
    expect(r.action === "accept" && r.value.targets).toEqual([
      { kind: "remote", address: "noc@provider.example" },
    ]);
  });

  it("lets a declared user or alias of a reserved name win over the contact", () => {
    const snap = withContact("it@acme.example", {
      users: ["postmaster@acme.example"],
      aliases: ["abuse@acme.example"],
    });
    const r = rcptTo(snap, inbound(), tx(), "postmaster@acme.example");
    expect(r.action === "accept" && r.value.targets).toEqual([
      { kind: "mailbox", address: "postmaster@acme.example", domain: "acme.example" },
    ]);
    expect(reply(rcptTo(snap, inbound(), tx(), "abuse@acme.example"))).toBe("550 5.7.1 declared here");
  });

  it("without a contact treats the reserved addresses like any other local part (the catch-all here)", () => {
    const r = rcptTo(withContact(null), inbound(), tx(), "postmaster@acme.example");
    expect(r.action === "accept" && r.value.targets).toEqual([
      { kind: "mailbox", address: "bin@acme.example", domain: "acme.example" },
    ]);
  });

  it("refuses a contact that is the reserved address itself as a routing loop", () => {
    expect(
      reply(rcptTo(withContact("postmaster@acme.example"), inbound(), tx(), "postmaster@acme.example")),
    ).toMatch(/^550 5\.4\.6 /);
  });
});

describe("rcptTo for a group address", () => {
  const groupSnapshot = (senders: "anyone" | "members" | "domain") =>
    buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [{ name: "acme.example", aliases: ["acme.test"], verified: true }],
          users: ["ana", "ben", "cy"].map((u) => ({ address: `${u}@acme.example` })),
          groups: [
            {
              address: "team@acme.example",
              members: ["ana@acme.example", "Ben@ACME.example", "ext@partner.example"],
              senders,
            },
          ],
        },
      ],
    });

  it("delivers to every member: local mailboxes and remote addresses", () => {
    const r = rcptTo(groupSnapshot("anyone"), inbound(), tx("someone@outside.example"), "team@acme.example");
    expect(r.action === "accept" && r.value.targets).toEqual([
      { kind: "mailbox", address: "ana@acme.example", domain: "acme.example" },
      { kind: "mailbox", address: "ben@acme.example", domain: "acme.example" },
      { kind: "remote", address: "ext@partner.example" },
    ]);
  });

  it("refuses a non-member of a members-only group with 550 5.7.1, and admits a member at a domain alias", () => {
    const snap = groupSnapshot("members");
    expect(reply(rcptTo(snap, inbound(), tx("cy@acme.example"), "team@acme.example"))).toBe(
      "550 5.7.1 <team@acme.example>: only its members may send to this group",
    );
    expect(reply(rcptTo(snap, inbound(), tx(""), "team@acme.example"))).toMatch(/^550 5\.7\.1 /);
    expect(rcptTo(snap, inbound(), tx("ana@acme.test"), "team@acme.example").action).toBe("accept");
    expect(rcptTo(snap, inbound(), tx("ext@partner.example"), "team@acme.example").action).toBe("accept");
  });

  it("judges a logged-in user by the login, not the envelope sender", () => {
    const snap = groupSnapshot("members");
    expect(
      rcptTo(snap, submitter("ben@acme.example"), tx("anything@acme.example"), "team@acme.example").action,
    ).toBe("accept");
    expect(
      reply(rcptTo(snap, submitter("cy@acme.example"), tx("ana@acme.example"), "team@acme.example")),
    ).toMatch(/^550 5\.7\.1 /);
  });

  it("admits only addresses of the group's domain (or its aliases) to a domain-only group", () => {
    const snap = groupSnapshot("domain");
    expect(rcptTo(snap, inbound(), tx("cy@acme.test"), "team@acme.example").action).toBe("accept");
    expect(reply(rcptTo(snap, inbound(), tx("ext@partner.example"), "team@acme.example"))).toBe(
      "550 5.7.1 <team@acme.example>: only addresses of acme.example may send to this group",
    );
  });
});

describe("rcptTo for a user's extra addresses", () => {
  const snap = (enabled = true) =>
    buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [{ name: "acme.example", aliases: ["acme.test"], verified: true }],
          users: [
            {
              address: "ana@acme.example",
              enabled,
              addresses: ["a.lopez@acme.example", "elsewhere@other.example"],
            },
          ],
        },
      ],
    });

  it("delivers an extra address (also at a domain alias) to the user's own mailbox", () => {
    for (const rcpt of ["A.Lopez@acme.example", "a.lopez@acme.test"]) {
      const r = rcptTo(snap(), inbound(), tx(), rcpt);
      expect(r.action === "accept" && r.value.targets).toEqual([
        { kind: "mailbox", address: "ana@acme.example", domain: "acme.example" },
      ]);
    }
  });

  it("refuses an extra address of a disabled user with 550 5.2.1, and ignores one outside the user's domain", () => {
    expect(reply(rcptTo(snap(false), inbound(), tx(), "a.lopez@acme.example"))).toMatch(/^550 5\.2\.1 /);
    expect(reply(rcptTo(snap(), inbound(), tx(), "elsewhere@other.example"))).toMatch(/^550 5\.7\.1 .*Relay/);
  });
});

describe("rcptToPostmaster: RCPT TO:<Postmaster> without a domain (RFC 5321 §4.1.1.3)", () => {
  const hosted = buildPolicySnapshot({
    revision: 1,
    accounts: [
      {
        id: "operator",
        contact: "noc@mx.acme.example",
        domains: [{ name: "mx.acme.example", verified: true }],
        users: [{ address: "noc@mx.acme.example" }],
      },
    ],
  });

  it("delivers to the host name's postmaster when that domain is hosted, keeping the client's 'postmaster'", () => {
    const r = rcptToPostmaster(hosted, inbound(), tx(), {
      address: "postmaster@mx.acme.example",
      configured: false,
    });
    expect(r.action === "accept" && r.value).toMatchObject({
      rcpt: "postmaster",
      targets: [{ kind: "mailbox", address: "noc@mx.acme.example", domain: "mx.acme.example" }],
    });
  });

  it("relays to a remote postmaster the operator configured, even for an unauthenticated client", () => {
    const r = rcptToPostmaster(snapshot, inbound(), tx(), {
      address: "NOC@provider.example",
      configured: true,
    });
    expect(r.action === "accept" && r.value).toMatchObject({
      rcpt: "postmaster",
      domain: null,
      filtered: true,
      targets: [{ kind: "remote", address: "noc@provider.example" }],
    });
  });

  it("refuses with 550 5.1.1 naming --postmaster when the default address is not hosted (no open relay by default)", () => {
    expect(
      reply(
        rcptToPostmaster(snapshot, inbound(), tx(), { address: "postmaster@mx.test", configured: false }),
      ),
    ).toBe(
      "550 5.1.1 <postmaster>: no postmaster mailbox on this server (the operator declares postmaster@mx.test or starts the engine with --postmaster)",
    );
  });
});
