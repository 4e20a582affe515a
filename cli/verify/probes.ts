/** Probe derivation for `mailplane verify`: one small SMTP transaction per declared rule, with the answer the declaration predicts. */
import { type Decider, type Expected, expectRecipient, listed, type Rules, rulesOf } from "./expect.ts";
import type { VerifyTenant } from "./tenant.ts";

/** The kinds of probe, in the order they run per domain. */
export const PROBE_KINDS = [
  "user-receives",
  "disabled-user",
  "unknown-recipient",
  "reject-alias",
  "forward-alias",
  "auto-reply-alias",
  "domain-alias",
  "sender-block",
  "recipient-block",
  "quarantine",
] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** The default envelope sender: `.invalid` (RFC 2606) exists nowhere, so SPF answers `none` without a lookup that could fail. */
export const DEFAULT_SENDER = "mailplane-verify@verify.mailplane.invalid";

/** What a probe expects to see. */
export interface ProbeExpectation {
  /**
   * The SMTP answer: `accept` — 2xx at RCPT (and at the end of DATA for a message); `refuse` — `code`
   * at MAIL FROM or RCPT TO (`at: "envelope"`) or after the message (`at: "data"`), with `text` as the
   * reply's text when the declaration configures one.
   */
  smtp: { verdict: "accept" } | { verdict: "refuse"; code: number; at: "envelope" | "data"; text?: string };
  /** What the operations API must show afterwards (message probes only). */
  after?: "delivered" | "quarantined";
  /** In words, for the table: `550 Joe no longer works here`, `250, delivered`. */
  summary: string;
  /** The declared rule behind it. */
  why: string;
}

/** One probe: an envelope (and perhaps a message) and its expected fate. */
export interface Probe {
  /** `p1`, `p2`… in run order. */
  id: string;
  /** `mpv-<run>-<id>`: in the `X-Mailplane-Probe` header and the subject, and what the log is searched for. */
  token: string;
  kind: ProbeKind;
  /** The main domain the probe belongs to. */
  domain: string;
  /** The declaration it checks, in words. */
  checks: string;
  from: string;
  to: string;
  /**
   * `envelope`: MAIL FROM and RCPT TO, then RSET — nothing is delivered. `message`: the whole
   * transaction, then the message log or quarantine is read.
   */
  send: "envelope" | "message";
  /** The message carries the GTUBE string (quarantine probes). */
  gtube: boolean;
  expect: ProbeExpectation;
}

/** A declared thing that gets no probe, and why. */
export interface SkippedProbe {
  kind: ProbeKind;
  domain: string;
  checks: string;
  reason: string;
}

/** Options of {@link deriveProbes}. */
export interface DeriveOptions {
  /** Short random run ID (`[a-z0-9]+`): made-up local parts and probe tokens carry it. */
  runId: string;
  /** Envelope sender of the probes; default {@link DEFAULT_SENDER}. */
  sender?: string;
  /** Most probes of one kind per domain (aliases, disabled users, list entries); 0 for no limit. Default 5. */
  maxPerKind?: number;
  /** Send forward aliases a whole message and check the log shows it delivered. Default false (envelope only). */
  deliver?: boolean;
}

const REFUSAL_WORDS: Record<Decider, string> = {
  "not-hosted": "not hosted",
  "rejected-character": "rejected character",
  "sender-block": "sender blocked",
  "recipient-block": "recipient blocked",
  user: "user",
  "disabled-user": "user disabled",
  alias: "no deliverable destination",
  "local-recipients-only": "not a local recipient",
  "catch-all": "catch-all refuses",
  routes: "routes",
  unknown: "no such user",
};

const ACCEPT_WORDS: Partial<Record<Decider, string>> = {
  "catch-all": "250 (catch-all)",
  routes: "250 (relayed to the domain's routes)",
};

/** The envelope-stage expectation for a predicted answer. */
function envelopeExpectation(expected: Expected & { verdict: "accept" | "refuse" }): ProbeExpectation {
  if (expected.verdict === "accept") {
    return {
      smtp: { verdict: "accept" },
      summary: ACCEPT_WORDS[expected.by] ?? "250 (accepted)",
      why: expected.why,
    };
  }
  return {
    smtp: {
      verdict: "refuse",
      code: expected.code,
      at: "envelope",
      ...(expected.text === undefined ? {} : { text: expected.text }),
    },
    summary: `${expected.code} ${expected.text ?? `(${REFUSAL_WORDS[expected.by]})`}`,
    why: expected.why,
  };
}

/** A made-up local part of `words` joined by a separator the domain does not reject. */
function madeUpLocal(rules: Rules, domain: string, words: string[]): string {
  const rejected = rules.domainOf.get(domain)?.rejectedLocalPartChars ?? "";
  const sep = ["-", ".", "_", ""].find((c) => c === "" || !rejected.includes(c))!;
  let local = words.join(sep);
  // A run ID is random, but an existing address would turn the probe into another one.
  while (rules.users.has(`${local}@${domain}`) || rules.aliases.has(`${local}@${domain}`)) local += "x";
  return local;
}

const byAddress = <T extends { address: string }>(a: T, b: T) => a.address.localeCompare(b.address);
const at = (address: string) => address.slice(address.lastIndexOf("@") + 1);

/**
 * Derives the probes for a tenant: per domain (in name order) a user receives; disabled users refuse;
 * an unknown local part refuses (or what catch-all, local-recipients-only or routes make of it); reject
 * aliases answer 550 with their text; forward and auto-reply aliases accept; domain aliases accept an
 * existing local part; blocked senders and recipients are refused; GTUBE to a user is quarantined.
 * Each only when declared. Only the user and quarantine probes (and forward aliases with `deliver`)
 * send a message; the others stop after RCPT TO.
 * @example const { probes, skipped } = deriveProbes(tenant, { runId: "k3x9a2" });
 */
export function deriveProbes(
  tenant: VerifyTenant,
  options: DeriveOptions,
): { probes: Probe[]; skipped: SkippedProbe[] } {
  const rules = rulesOf(tenant);
  const sender = (options.sender ?? DEFAULT_SENDER).toLowerCase();
  const max = options.maxPerKind ?? 5;
  const probes: Probe[] = [];
  const skipped: SkippedProbe[] = [];
  const add = (p: Omit<Probe, "id" | "token" | "gtube"> & { gtube?: boolean }) => {
    const id = `p${probes.length + 1}`;
    probes.push({ ...p, id, token: `mpv-${options.runId}-${id}`, gtube: p.gtube ?? false });
  };
  /** The first `max` items; the rest are reported as skipped. */
  const sample = <T>(kind: ProbeKind, domain: string, items: T[], name: (t: T) => string): T[] => {
    if (max <= 0 || items.length <= max) return items;
    for (const item of items.slice(max)) {
      skipped.push({ kind, domain, checks: name(item), reason: `beyond --max-per-kind ${max}` });
    }
    return items.slice(0, max);
  };

  for (const domain of [...tenant.domains].sort((a, b) => a.name.localeCompare(b.name))) {
    const name = domain.name;
    const lists = rules.lists.get(name)!;
    const users = tenant.users.filter((u) => at(u.address) === name).sort(byAddress);
    const aliases = tenant.aliases.filter((a) => at(a.address) === name && !a.address.startsWith("*@"));
    aliases.sort(byAddress);
    const predict = (to: string, from = sender) => expectRecipient(rules, from, to);

    // 1. A user receives: the first enabled user the declaration lets mail through to.
    const receiver = users.find((u) => {
      const e = predict(u.address);
      return e.verdict === "accept" && e.by === "user";
    });
    if (receiver) {
      add({
        kind: "user-receives",
        domain: name,
        checks: `user ${receiver.address} receives`,
        from: sender,
        to: receiver.address,
        send: "message",
        expect: {
          smtp: { verdict: "accept" },
          after: "delivered",
          summary: "250, delivered",
          why: `user ${receiver.address} is enabled`,
        },
      });
    } else if (users.length > 0) {
      skipped.push({
        kind: "user-receives",
        domain: name,
        checks: `users of ${name}`,
        reason: "no enabled user that the declaration lets mail through to",
      });
    }

    // 2. Disabled users refuse.
    const disabled = users.filter((u) => !u.enabled);
    for (const u of sample("disabled-user", name, disabled, (x) => `disabled user ${x.address}`)) {
      const e = predict(u.address);
      if (e.verdict === "unknown") continue;
      add({
        kind: "disabled-user",
        domain: name,
        checks: `disabled user ${u.address} refuses`,
        from: sender,
        to: u.address,
        send: "envelope",
        expect: envelopeExpectation(e),
      });
    }

    // 3. An unknown local part: 550, unless catch-all, local-recipients-only or routes decide otherwise.
    const nobody = `${madeUpLocal(rules, name, ["mpverify", "nobody", options.runId])}@${name}`;
    const unknown = predict(nobody);
    if (unknown.verdict !== "unknown") {
      add({
        kind: "unknown-recipient",
        domain: name,
        checks: `unknown local part at ${name}`,
        from: sender,
        to: nobody,
        send: "envelope",
        expect: envelopeExpectation(unknown),
      });
    }

    // 4–6. Aliases, each by what it does; an alias the declaration shadows (a user of the same
    // address, a blocked recipient) is reported rather than probed as something else.
    const byType = (type: string) => aliases.filter((a) => a.action.type === type);
    const aliasKinds = [
      ["reject-alias", "reject", "reject alias"],
      ["forward-alias", "forward", "forward alias"],
      ["auto-reply-alias", "autoReply", "auto-reply alias"],
    ] as const;
    for (const [kind, type, words] of aliasKinds) {
      for (const a of sample(kind, name, byType(type), (x) => `${words} ${x.address}`)) {
        const e = predict(a.address);
        if (e.verdict === "unknown" || e.by !== "alias") {
          skipped.push({
            kind,
            domain: name,
            checks: `${words} ${a.address}`,
            reason: `the declaration decides it otherwise: ${e.why}`,
          });
          continue;
        }
        const whole = kind === "forward-alias" && options.deliver === true && e.verdict === "accept";
        add({
          kind,
          domain: name,
          checks: `${words} ${a.address}`,
          from: sender,
          to: a.address,
          send: whole ? "message" : "envelope",
          expect: whole
            ? { smtp: { verdict: "accept" }, after: "delivered", summary: "250, delivered", why: e.why }
            : envelopeExpectation(e),
        });
      }
    }

    // 7. Domain aliases accept an existing local part (rewritten to the main domain).
    const existing =
      receiver ??
      aliases.find((a) => {
        const e = predict(a.address);
        return e.verdict === "accept" && e.by === "alias";
      });
    for (const alias of sample(
      "domain-alias",
      name,
      [...domain.aliases].sort(),
      (x) => `domain alias ${x}`,
    )) {
      if (!existing) {
        skipped.push({
          kind: "domain-alias",
          domain: name,
          checks: `domain alias ${alias}`,
          reason: `${name} has no address that accepts mail to try it with`,
        });
        continue;
      }
      const to = `${existing.address.slice(0, existing.address.lastIndexOf("@"))}@${alias}`;
      const e = predict(to);
      if (e.verdict === "unknown") continue;
      add({
        kind: "domain-alias",
        domain: name,
        checks: `domain alias ${alias} → ${name}`,
        from: sender,
        to,
        send: "envelope",
        expect: envelopeExpectation(e),
      });
    }

    // 8. Blocked senders, against a recipient that otherwise accepts, so a refusal is the block's.
    const acceptor = existing?.address ?? (unknown.verdict === "accept" ? nobody : undefined);
    const blockedSenders = [...lists.senderBlock].sort();
    for (const entry of sample("sender-block", name, blockedSenders, (x) => `blocked sender ${x}`)) {
      if (!acceptor) {
        skipped.push({
          kind: "sender-block",
          domain: name,
          checks: `blocked sender ${entry}`,
          reason: `no address of ${name} accepts mail, so a block could not be told from a refusal`,
        });
        continue;
      }
      // For a whole blocked domain any local part will do; a made-up one names the run.
      const from = entry.startsWith("*@") ? `mpverify-${options.runId}${entry.slice(1)}` : entry;
      const e = predict(acceptor, from);
      if (e.verdict === "unknown") continue;
      add({
        kind: "sender-block",
        domain: name,
        checks: `blocked sender ${entry}`,
        from,
        to: acceptor,
        send: "envelope",
        expect: envelopeExpectation(e),
      });
    }

    // 9. Blocked recipients.
    const blockedRecipients = [...lists.recipientBlock].sort();
    for (const entry of sample("recipient-block", name, blockedRecipients, (x) => `blocked recipient ${x}`)) {
      const to = entry.startsWith("*@")
        ? `${madeUpLocal(rules, name, ["mpverify", "blocked", options.runId])}${entry.slice(1)}`
        : entry;
      const e = predict(to);
      if (e.verdict === "unknown") continue;
      add({
        kind: "recipient-block",
        domain: name,
        checks: `blocked recipient ${entry}`,
        from: sender,
        to,
        send: "envelope",
        expect: envelopeExpectation(e),
      });
    }

    // 10. GTUBE to a user the filter applies to is quarantined, answered per the quarantine response.
    const filter = tenant.filters[name];
    const quarantineSkip = (reason: string) =>
      skipped.push({ kind: "quarantine", domain: name, checks: `quarantine of ${name}`, reason });
    // Allow-listed recipients and senders skip every filter, so the spam would simply be delivered.
    const filtered = users.find((u) => {
      const e = predict(u.address);
      return e.verdict === "accept" && e.by === "user" && !listed(lists.recipientAllow, u.address);
    });
    if (filter === null || filter === undefined) {
      quarantineSkip("its effective filter settings could not be read with this token");
    } else if (!filter.quarantineEnabled) {
      // Nothing to probe: the declaration turns the quarantine off.
    } else if (listed(lists.senderAllow, sender)) {
      quarantineSkip(`the sender allow list exempts ${sender} from filtering`);
    } else if (!filtered) {
      quarantineSkip(
        receiver
          ? "every enabled user is on the recipient allow list (no filtering)"
          : "no enabled user to send the test spam to",
      );
    } else {
      const reject = filter.quarantineResponse === "reject";
      add({
        kind: "quarantine",
        domain: name,
        checks: "spam (GTUBE) is quarantined",
        from: sender,
        to: filtered.address,
        send: "message",
        gtube: true,
        expect: {
          smtp: reject ? { verdict: "refuse", code: 550, at: "data" } : { verdict: "accept" },
          after: "quarantined",
          summary: reject ? "550 after DATA, quarantined" : "250, quarantined",
          why: `quarantine on, quarantineResponse ${filter.quarantineResponse}`,
        },
      });
    }
  }
  return { probes, skipped };
}
