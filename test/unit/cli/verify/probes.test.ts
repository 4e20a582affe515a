/** `mailplane verify` probe derivation on fixture tenants: a probe per declared rule, each with the answer the declaration predicts. */
import { describe, expect, it } from "vitest";
import { expectRecipient, rulesOf } from "../../../../cli/verify/expect.ts";
import { DEFAULT_SENDER, deriveProbes, type Probe } from "../../../../cli/verify/probes.ts";
import { tenantFromManifest } from "../../../../cli/verify/tenant.ts";
import { companyTenant, RUN } from "./fixtures.ts";

/** One line per probe: what it sends where and what it expects. */
const lines = (probes: Probe[]) =>
  probes.map((p) => `${p.id} ${p.kind} ${p.from} → ${p.to} [${p.send}] ${p.expect.summary}`);

const S = DEFAULT_SENDER;

describe("deriveProbes on a small company", () => {
  it("derives one probe per declared rule, in domain order, only two of them sending a message", () => {
    const { probes, skipped } = deriveProbes(companyTenant(), { runId: RUN });
    expect(lines(probes)).toEqual([
      `p1 user-receives ${S} → ada@acme.example [message] 250, delivered`,
      `p2 disabled-user ${S} → margaret@acme.example [envelope] 550 (user disabled)`,
      `p3 unknown-recipient ${S} → mpverify-nobody-r1@acme.example [envelope] 550 (no such user)`,
      `p4 reject-alias ${S} → joe@acme.example [envelope] 550 Joe no longer works here`,
      `p5 forward-alias ${S} → sales@acme.example [envelope] 250 (accepted)`,
      `p6 auto-reply-alias ${S} → holiday@acme.example [envelope] 250 (accepted)`,
      `p7 domain-alias ${S} → ada@acme-widgets.example [envelope] 250 (accepted)`,
      "p8 sender-block mpverify-r1@spam.example → ada@acme.example [envelope] 550 (sender blocked)",
      "p9 sender-block offers@junk.example → ada@acme.example [envelope] 550 (sender blocked)",
      `p10 recipient-block ${S} → linus@acme.example [envelope] 550 (recipient blocked)`,
      `p11 quarantine ${S} → ada@acme.example [message] 550 after DATA, quarantined`,
      `p12 unknown-recipient ${S} → mpverify-nobody-r1@lab.example [envelope] 250 (relayed to the domain's routes)`,
    ]);
    expect(skipped).toEqual([
      {
        kind: "quarantine",
        domain: "lab.example",
        checks: "quarantine of lab.example",
        reason: "no enabled user to send the test spam to",
      },
    ]);
  });

  it("marks each probe with a token of the run and the probe, and only the quarantine probe carries GTUBE", () => {
    const { probes } = deriveProbes(companyTenant(), { runId: RUN });
    expect(probes.map((p) => p.token)).toEqual(probes.map((p) => `mpv-r1-${p.id}`));
    expect(probes.filter((p) => p.gtube).map((p) => p.kind)).toEqual(["quarantine"]);
  });

  it("expects the reject alias's own text and a refusal at RCPT, the quarantine's after the data", () => {
    const { probes } = deriveProbes(companyTenant(), { runId: RUN });
    expect(probes.find((p) => p.kind === "reject-alias")!.expect.smtp).toEqual({
      verdict: "refuse",
      code: 550,
      at: "envelope",
      text: "Joe no longer works here",
    });
    expect(probes.find((p) => p.kind === "quarantine")!.expect).toMatchObject({
      smtp: { verdict: "refuse", code: 550, at: "data" },
      after: "quarantined",
    });
  });

  it("--deliver sends forward aliases a whole message and expects it delivered", () => {
    const { probes } = deriveProbes(companyTenant(), { runId: RUN, deliver: true });
    expect(probes.find((p) => p.kind === "forward-alias")).toMatchObject({
      send: "message",
      expect: { smtp: { verdict: "accept" }, after: "delivered", summary: "250, delivered" },
    });
    // An auto-reply would answer the made-up sender: it stays envelope only.
    expect(probes.find((p) => p.kind === "auto-reply-alias")!.send).toBe("envelope");
  });

  it("--from changes the sender of every probe but the blocked-sender ones", () => {
    const { probes } = deriveProbes(companyTenant(), { runId: RUN, sender: "Probe@Ops.Example.net" });
    expect(new Set(probes.filter((p) => p.kind !== "sender-block").map((p) => p.from))).toEqual(
      new Set(["probe@ops.example.net"]),
    );
  });
});

describe("deriveProbes: only what is declared, as the declaration decides it", () => {
  it("a bare domain gets only the unknown-local-part probe", () => {
    const tenant = tenantFromManifest({ domains: [{ name: "bare.example" }] });
    expect(lines(deriveProbes(tenant, { runId: RUN }).probes)).toEqual([
      `p1 unknown-recipient ${S} → mpverify-nobody-r1@bare.example [envelope] 550 (no such user)`,
    ]);
  });

  it("a catch-all alias decides unknown local parts: forward accepts, reject answers its text", () => {
    const forward = tenantFromManifest({
      domains: [{ name: "c.example" }],
      users: [{ address: "ann@c.example" }],
      aliases: [{ address: "*@c.example", action: { type: "forward", to: ["ann@c.example"] } }],
    });
    const reject = tenantFromManifest({
      domains: [{ name: "c.example" }],
      aliases: [{ address: "*@c.example", action: { type: "reject", message: "Nobody here by that name" } }],
    });
    const unknownOf = (t: ReturnType<typeof tenantFromManifest>) =>
      deriveProbes(t, { runId: RUN }).probes.find((p) => p.kind === "unknown-recipient")!.expect.summary;
    expect(unknownOf(forward)).toBe("250 (catch-all)");
    expect(unknownOf(reject)).toBe("550 Nobody here by that name");
    // The catch-all alias is a rule about unknown local parts, not an alias to probe by its own address.
    expect(deriveProbes(reject, { runId: RUN }).probes.map((p) => p.kind)).toEqual(["unknown-recipient"]);
  });

  it("Domain.catchAll accepts for a live destination; one that refuses lets the recipient fall through to 550", () => {
    const tenantWith = (enabled: boolean) =>
      tenantFromManifest({
        domains: [{ name: "d.example", catchAll: "ops@d.example" }],
        users: [{ address: "ops@d.example", enabled }],
      });
    const unknownOf = (enabled: boolean) =>
      deriveProbes(tenantWith(enabled), { runId: RUN }).probes.find((p) => p.kind === "unknown-recipient")!
        .expect.summary;
    expect(unknownOf(true)).toBe("250 (catch-all)");
    expect(unknownOf(false)).toBe("550 (no such user)");
  });

  it("local-recipients-only refuses unknown local parts even when routes would relay them", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "l.example", localRecipientsOnly: true, localRecipients: ["info"] }],
      routes: [{ domain: "l.example", host: "mx.l.example" }],
    });
    expect(deriveProbes(tenant, { runId: RUN }).probes[0]!.expect.summary).toBe(
      "550 (not a local recipient)",
    );
  });

  it("a made-up local part avoids the domain's rejected characters and existing addresses", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "r.example", rejectedLocalPartChars: "-" }],
      users: [{ address: "mpverify.nobody.r1@r.example" }],
    });
    const unknown = deriveProbes(tenant, { runId: RUN }).probes.find((p) => p.kind === "unknown-recipient")!;
    expect(unknown.to).toBe("mpverify.nobody.r1x@r.example");
    expect(unknown.expect.summary).toBe("550 (no such user)");
  });

  it("an alias the declaration decides otherwise is reported, not probed as something else", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "s.example" }],
      users: [{ address: "ann@s.example" }],
      aliases: [{ address: "joe@s.example", action: { type: "reject", message: "Gone" } }],
      senderLists: [{ domain: "s.example", kind: "block", target: "recipient", entries: ["joe"] }],
    });
    const { probes, skipped } = deriveProbes(tenant, { runId: RUN });
    expect(probes.map((p) => `${p.kind} ${p.to}`)).toContain("recipient-block joe@s.example");
    expect(probes.some((p) => p.kind === "reject-alias")).toBe(false);
    expect(skipped).toContainEqual({
      kind: "reject-alias",
      domain: "s.example",
      checks: "reject alias joe@s.example",
      reason: "the declaration decides it otherwise: s.example blocks recipient joe@s.example",
    });
  });

  it("a forward alias whose destinations all refuse is expected to refuse", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "f.example" }],
      users: [{ address: "old@f.example", enabled: false }],
      aliases: [{ address: "team@f.example", action: { type: "forward", to: ["old@f.example"] } }],
    });
    const forward = deriveProbes(tenant, { runId: RUN, deliver: true }).probes.find(
      (p) => p.kind === "forward-alias",
    )!;
    expect(forward.send).toBe("envelope");
    expect(forward.expect.summary).toBe("550 (no deliverable destination)");
  });

  it("a blocked sender needs an address that would otherwise accept, or it is skipped", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "b.example" }],
      senderLists: [{ domain: "b.example", kind: "block", target: "sender", entries: ["spam.example"] }],
    });
    const { probes, skipped } = deriveProbes(tenant, { runId: RUN });
    expect(probes.map((p) => p.kind)).toEqual(["unknown-recipient"]);
    expect(skipped.filter((s) => s.kind === "sender-block")).toEqual([
      {
        kind: "sender-block",
        domain: "b.example",
        checks: "blocked sender *@spam.example",
        reason: "no address of b.example accepts mail, so a block could not be told from a refusal",
      },
    ]);
  });

  it("a domain alias is tried with a forward alias's local part when the domain has no user", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "m.example", aliases: ["m.example.net"] }],
      aliases: [{ address: "info@m.example", action: { type: "forward", to: ["desk@elsewhere.example"] } }],
    });
    const probe = deriveProbes(tenant, { runId: RUN }).probes.find((p) => p.kind === "domain-alias")!;
    expect(probe.to).toBe("info@m.example.net");
    expect(probe.expect.summary).toBe("250 (accepted)");
  });

  it("--max-per-kind samples each kind per domain and reports the rest; 0 probes them all", () => {
    const tenant = tenantFromManifest({
      domains: [{ name: "n.example" }],
      aliases: ["a", "b", "c"].map((l) => ({
        address: `${l}@n.example`,
        action: { type: "reject", message: `${l} left` },
      })),
    });
    const two = deriveProbes(tenant, { runId: RUN, maxPerKind: 2 });
    expect(two.probes.filter((p) => p.kind === "reject-alias").map((p) => p.to)).toEqual([
      "a@n.example",
      "b@n.example",
    ]);
    expect(two.skipped.filter((s) => s.kind === "reject-alias")).toEqual([
      {
        kind: "reject-alias",
        domain: "n.example",
        checks: "reject alias c@n.example",
        reason: "beyond --max-per-kind 2",
      },
    ]);
    expect(deriveProbes(tenant, { runId: RUN, maxPerKind: 0 }).probes).toHaveLength(4);
  });
});

describe("deriveProbes: the quarantine probe follows the effective filter settings", () => {
  const base = {
    domains: [{ name: "q.example" }],
    users: [{ address: "ann@q.example" }, { address: "bea@q.example" }],
  };
  const quarantineOf = (input: object, options: { accountFiltersUnknown?: boolean } = {}) => {
    const derived = deriveProbes(tenantFromManifest({ ...base, ...input }, options), { runId: RUN });
    return {
      probe: derived.probes.find((p) => p.kind === "quarantine"),
      skipped: derived.skipped.filter((s) => s.kind === "quarantine").map((s) => s.reason),
    };
  };

  it("defaults: quarantine on, answered 550 after the data", () => {
    expect(quarantineOf({}).probe?.expect.summary).toBe("550 after DATA, quarantined");
  });

  it("quarantineResponse accept: 250, then the quarantine holds it", () => {
    const { probe } = quarantineOf({
      filterSettings: [{ scope: "q.example", quarantineResponse: "accept" }],
    });
    expect(probe?.expect).toMatchObject({ smtp: { verdict: "accept" }, summary: "250, quarantined" });
  });

  it("the account-wide settings apply to a domain without its own; the domain's own win", () => {
    const account = { scope: "account", quarantineEnabled: false };
    expect(quarantineOf({ filterSettings: [account] })).toEqual({ probe: undefined, skipped: [] });
    expect(
      quarantineOf({ filterSettings: [account, { scope: "q.example", quarantineEnabled: true }] }).probe,
    ).toBeDefined();
  });

  it("an allow-listed recipient is passed over for one the filter applies to; an allow-listed sender skips it", () => {
    const recipientAllowed = quarantineOf({
      senderLists: [{ domain: "q.example", kind: "allow", target: "recipient", entries: ["ann"] }],
    });
    expect(recipientAllowed.probe?.to).toBe("bea@q.example");
    const senderAllowed = quarantineOf({
      senderLists: [
        { domain: "q.example", kind: "allow", target: "sender", entries: ["verify.mailplane.invalid"] },
      ],
    });
    expect(senderAllowed).toEqual({
      probe: undefined,
      skipped: [`the sender allow list exempts ${S} from filtering`],
    });
  });

  it("settings that cannot be read (a domain admin, no settings of the domain's own) skip it and say why", () => {
    expect(quarantineOf({}, { accountFiltersUnknown: true })).toEqual({
      probe: undefined,
      skipped: ["its effective filter settings could not be read with this token"],
    });
  });
});

describe("expectRecipient", () => {
  const rules = rulesOf(companyTenant());

  it("applies the sender block list before the recipient's own rule", () => {
    expect(expectRecipient(rules, "x@spam.example", "joe@acme.example")).toMatchObject({
      verdict: "refuse",
      by: "sender-block",
    });
  });

  it("rewrites a domain alias to the main domain", () => {
    expect(expectRecipient(rules, S, "joe@acme-widgets.example")).toMatchObject({
      verdict: "refuse",
      text: "Joe no longer works here",
    });
  });

  it("says nothing about domains the tenant does not hold", () => {
    expect(expectRecipient(rules, S, "someone@elsewhere.example").verdict).toBe("unknown");
  });

  it("cuts forwarding loops: an alias forwarding only around a loop refuses", () => {
    const looped = rulesOf(
      tenantFromManifest({
        domains: [{ name: "o.example" }],
        aliases: [
          { address: "a@o.example", action: { type: "forward", to: ["b@o.example"] } },
          { address: "b@o.example", action: { type: "forward", to: ["a@o.example"] } },
        ],
      }),
    );
    expect(expectRecipient(looped, S, "a@o.example")).toMatchObject({ verdict: "refuse", code: 550 });
  });
});
