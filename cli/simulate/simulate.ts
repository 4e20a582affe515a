/**
 * Mail-flow simulation: sample envelopes run through the SMTP engine's own policy code (snapshot
 * builder, MAIL, RCPT and DATA phases) against a tenancy, and the fates that differ between two.
 */
import { randomUUID } from "node:crypto";
import type { Classification } from "../../platform/smtp/content/classify.ts";
import type { ScanResult } from "../../platform/smtp/content/scan.ts";
import { dataVerdict } from "../../platform/smtp/phases/data.ts";
import { mailFrom, senderAllowed } from "../../platform/smtp/phases/mail-from.ts";
import { rcptTo } from "../../platform/smtp/phases/rcpt-to.ts";
import { isRefusal, type Refusal } from "../../platform/smtp/phases/result.ts";
import { accountInputs } from "../../platform/smtp/policy/from-store.ts";
import { buildPolicySnapshot, type PolicySnapshot } from "../../platform/smtp/policy/snapshot.ts";
import { type ConnectionContext, type DeliveryTarget, newTransaction } from "../../platform/smtp/session.ts";
import type { StoredObject } from "../../platform/store/contract/object-store.ts";
import { tenancyKinds } from "../../sdk/src/models/kinds.ts";
import type { TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import type { Sample } from "./samples.ts";

/** A tenancy to simulate against: the declared objects and which domain names are verified. */
export interface SimulatedTenancy {
  account: string;
  manifest: TenancyManifest;
  /**
   * Verified names per domain (the name and its domain aliases), as the platform reports them; or
   * `"all"` for a platform run with `--trust-all-domains`. The engine hosts only verified names.
   */
  verified: ReadonlyMap<string, readonly string[]> | "all";
  /**
   * The account's contact, where `postmaster@` and `abuse@` of its domains go unless declared
   * (RFC 5321 §4.5.1, RFC 2142); null: none. Undefined: not known (only platform admins read
   * accounts), simulated as none.
   */
  contact?: string | null;
}

/** One sample recipient's fate: where in the SMTP dialogue it was decided and what happened. */
export interface Fate {
  /** MAIL, RCPT or DATA: the phase that answered. */
  phase: "MAIL" | "RCPT" | "DATA";
  outcome: "refused" | "deferred" | "delivered" | "quarantined";
  /** The reply code the client hears to that phase's command (250 for accepted mail). */
  code: number;
  /** One line for a reviewer: `550 5.7.1 refused at RCPT: Sender <…> is blocked by example.org`. */
  text: string;
}

/** A sample recipient whose fate differs between two tenancies. */
export interface FateChange {
  label: string;
  before: Fate;
  after: Fate;
}

/**
 * Content is not scored: rspamd and the built-in rules judge a message's body, which a sample does
 * not have. A score of 0 lets the policy decisions (lists, aliases, attachments, size) show alone.
 */
const NOT_SCORED: Classification = { score: 0, hits: [] };

/**
 * The engine's policy snapshot of a tenancy, built by the engine's own code: the store-to-input
 * mapping (`accountInputs`) and `buildPolicySnapshot`, from objects shaped as the store keeps them.
 *
 * @example const snapshot = policyOf({ account: "acme", manifest, verified: "all" });
 */
export function policyOf(tenancy: SimulatedTenancy): PolicySnapshot {
  const collections = tenancy.manifest as unknown as Record<string, Record<string, unknown>[]>;
  const objects: StoredObject[] = [];
  for (const kind of tenancyKinds) {
    for (const spec of collections[kind.plural] ?? []) {
      const name = String(spec["name"] ?? "");
      const verified =
        tenancy.verified === "all" ? [] : kind.name === "Domain" ? (tenancy.verified.get(name) ?? []) : [];
      objects.push({
        accountId: tenancy.account,
        kind: kind.name,
        id: kind.id(spec as never),
        domain: null,
        spec,
        // As the store keeps users: a disabled user is a disabled object.
        enabled: spec["enabled"] !== false,
        etag: "",
        version: 1,
        createdAt: "",
        updatedAt: "",
        secretSetAt: null,
        generation: "",
        managedBy: null,
        ...(kind.name === "Domain"
          ? { verification: verified.map((n) => ({ name: n, status: "verified" }) as never) }
          : {}),
      });
    }
  }
  const contacts = new Map(tenancy.contact ? [[tenancy.account, tenancy.contact]] : []);
  return buildPolicySnapshot({
    revision: 0,
    accounts: accountInputs(objects, tenancy.verified === "all", contacts),
  });
}

/** Header values of a sample by lower-case name. */
function header(sample: Sample, name: string): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(sample.headers)) {
    if (key.toLowerCase() === name) values.push(...(Array.isArray(value) ? value : [value]));
  }
  return values;
}

/** What DATA would learn from the sample's message (no body: sizes, names and the fields given). */
function scanOf(sample: Sample): ScanResult {
  const from = header(sample, "from")[0];
  return {
    size: sample.size,
    headers: {
      subject: sample.subject,
      from: from?.toLowerCase(),
      messageId: undefined,
      date: undefined,
      autoSubmitted: undefined,
      precedence: undefined,
      list: false,
      received: header(sample, "received").length,
      deliveredTo: header(sample, "delivered-to").map((v) => v.trim().toLowerCase()),
      authservIds: [],
    },
    overlongLine: 0,
    attachments: sample.attachments,
    gtube: false,
  };
}

function refusal(phase: Fate["phase"], r: Refusal): Fate {
  const outcome = r.action === "defer" ? "deferred" : "refused";
  return {
    phase,
    outcome,
    code: r.code,
    text: `${r.code} ${r.enhanced} ${outcome} at ${phase}: ${r.message}`,
  };
}

function describeTarget(snapshot: PolicySnapshot, t: DeliveryTarget): string {
  switch (t.kind) {
    case "mailbox":
      return `mailbox ${t.address}`;
    case "relay": {
      const route = snapshot.domains.get(t.domain)?.routes[0];
      return `relayed for ${t.address}${route ? ` to ${route.host}:${route.port}` : ""}`;
    }
    case "remote":
      return `forwarded to ${t.address}`;
    case "autoreply":
      return `auto-reply from ${t.alias}`;
  }
}

/**
 * One recipient's fate, through the engine's phases in their order: MAIL FROM (`mailFrom`), RCPT TO
 * (`rcptTo`: relay control, sender and recipient lists, users, aliases, groups, catch-all, routes, declared
 * SIZE), then the DATA verdict (`dataVerdict`: hop and Delivered-To loops, size limit, allow lists,
 * line length, blocked attachment extensions) — on the inbound listener, unauthenticated, as mail
 * from outside arrives. SPF, DMARC, virus scanning and content scoring are not simulated.
 *
 * @example fateOf(snapshot, sample, "linus@example.org").text // "delivered: mailbox linus@example.org"
 */
export function fateOf(snapshot: PolicySnapshot, sample: Sample, rcpt: string): Fate {
  const conn: ConnectionContext = {
    id: `simulation-${randomUUID()}`,
    listener: "inbound",
    remoteAddress: sample.clientIp,
    helo: sample.helo,
    secure: false,
    user: null,
  };
  const mail = mailFrom(snapshot, conn, sample.from);
  if (isRefusal(mail)) return refusal("MAIL", mail);
  const tx = newTransaction(mail.value, sample.size);
  const accepted = rcptTo(snapshot, conn, tx, rcpt);
  if (isRefusal(accepted)) return refusal("RCPT", accepted);
  const recipient = accepted.value;
  const domain = recipient.domain ? (snapshot.domains.get(recipient.domain) ?? null) : null;
  // As receive.ts does after DATA; the From: header counts only when DMARC-aligned, which needs
  // DNS: only the envelope sender is checked here.
  const filtered = recipient.filtered && !(domain !== null && senderAllowed(domain, tx.mailFrom, undefined));
  const verdict = dataVerdict({
    domain,
    filtered,
    authenticated: false,
    sender: tx.mailFrom,
    recipients: [recipient.address],
    remoteAddress: conn.remoteAddress,
    scan: scanOf(sample),
    spf: null,
    dmarc: null,
    classification: NOT_SCORED,
    virus: null,
  });
  if (isRefusal(verdict)) return refusal("DATA", verdict);
  const d = verdict.value;
  if (d.disposition === "quarantine") {
    const reply =
      d.reply === "accept" ? "250 to the client" : `${d.reply.code} ${d.reply.enhanced} to the client`;
    return {
      phase: "DATA",
      outcome: "quarantined",
      code: d.reply === "accept" ? 250 : d.reply.code,
      text: `quarantined at DATA: ${d.reason} (${reply})`,
    };
  }
  const targets = recipient.targets.map((t) => describeTarget(snapshot, t)).join(", ");
  const how = d.classification === "allowlisted" ? " (allow-listed: not filtered)" : "";
  return { phase: "DATA", outcome: "delivered", code: 250, text: `delivered: ${targets}${how}` };
}

/** A sample recipient's label: its name, or `mail from <sender> to <recipient>`. */
export function labelOf(sample: Sample, rcpt: string): string {
  const envelope = `mail from ${sample.from === "" ? "<>" : sample.from} to ${rcpt}`;
  if (!sample.name) return envelope;
  return sample.to.length > 1 ? `${sample.name} (${rcpt})` : sample.name;
}

/** Every sample recipient's fate under a snapshot, in file order. */
export function fatesOf(
  snapshot: PolicySnapshot,
  samples: readonly Sample[],
): { label: string; fate: Fate }[] {
  return samples.flatMap((sample) =>
    sample.to.map((rcpt) => ({ label: labelOf(sample, rcpt), fate: fateOf(snapshot, sample, rcpt) })),
  );
}

/** The result of {@link simulatePlan}. */
export interface Simulation {
  /** Sample recipients simulated. */
  total: number;
  changes: FateChange[];
}

/**
 * Runs every sample recipient against the live and the planned tenancy and keeps the ones whose
 * fate differs.
 *
 * @example
 * const { changes } = simulatePlan(samples, live, planned);
 * // [{ label: "mail from offers@spam.example to linus@example.org", before: { …"550 5.7.1 refused at RCPT…" }, after: { …"delivered: …" } }]
 */
export function simulatePlan(
  samples: readonly Sample[],
  live: SimulatedTenancy,
  planned: SimulatedTenancy,
): Simulation {
  const before = fatesOf(policyOf(live), samples);
  const after = fatesOf(policyOf(planned), samples);
  const changes: FateChange[] = [];
  for (const [i, b] of before.entries()) {
    const a = after[i]!;
    if (a.fate.text !== b.fate.text) changes.push({ label: b.label, before: b.fate, after: a.fate });
  }
  return { total: before.length, changes };
}
