/** Delivery of one queued message to its targets: Maildir, the domain's routes, remote MX/smarthost, auto-replies. */
import { editedParts } from "../content/headers.ts";
import type { DnsResolver } from "../content/spf.ts";
import { splitMailbox } from "../policy/matchers.ts";
import type { PolicySnapshot } from "../policy/snapshot.ts";
import type { DeliveryTarget } from "../session.ts";
import {
  type Bounce,
  type Deliver,
  type DeliveryOutcome,
  type QueuedMessage,
  type TargetState,
  writtenByEngine,
} from "../spool/queued-message.ts";
import { arcSealed, arcSealerFor } from "./arc-seal.ts";
import type { AutoResponder } from "./autoreply.ts";
import { dkimSigned, dkimSignerFor, signsRelayed } from "./dkim-sign.ts";
import { buildDsn } from "./dsn.ts";
import type { MaildirStore } from "./maildir.ts";
import { targetRefusal } from "./recheck.ts";
import type { Hop, Relay, RelayResult } from "./relay.ts";
import { srsForward } from "./srs.ts";

/** Injects a message the engine itself writes (bounce, auto-reply) into the queue, from the null sender. */
export type Inject = (input: {
  origin: "bounce" | "autoreply" | "notice";
  to: string;
  body: Buffer;
  domain: string | null;
  subject: string;
  /** RFC 8689 §5: the DSN of a REQUIRETLS message is relayed under REQUIRETLS too. */
  requireTls?: boolean;
}) => Promise<string | undefined>;

/** Where mail for domains the platform does not host goes. */
export interface OutboundOptions {
  /** Send everything through this host (a smarthost) instead of looking up MX records. */
  smarthost?: Hop;
  /** Resolver for MX lookups (RFC 5321 §5.1). */
  resolver: DnsResolver;
}

/** Dependencies of {@link createDeliver}. */
export interface DeliverDeps {
  snapshot: () => PolicySnapshot;
  maildir: MaildirStore;
  relay: Relay;
  outbound: OutboundOptions;
  responder: AutoResponder;
  inject: Inject;
  /** Told when a message could not be DKIM-signed or ARC-sealed (it is sent without). */
  onDkimError?: (meta: QueuedMessage, why: string) => void;
}

/**
 * The hops for a remote domain: the smarthost, or its MX hosts by preference; with no MX the
 * domain itself (RFC 5321 §5.1 implicit MX). A null MX (RFC 7505) means the domain takes no mail.
 */
export async function hopsFor(domain: string, outbound: OutboundOptions): Promise<Hop[] | "null-mx"> {
  if (outbound.smarthost) return [{ ...outbound.smarthost, source: "smarthost" }];
  try {
    const mx = (await outbound.resolver(domain, "MX")) as { exchange: string; priority: number }[];
    if (mx.length === 1 && (mx[0]!.exchange === "" || mx[0]!.exchange === ".")) return "null-mx";
    return mx
      .slice()
      .sort((a, b) => a.priority - b.priority)
      .map((m) => ({ host: m.exchange, port: 25, tls: "opportunistic" as const, source: "mx" as const }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOTFOUND" || code === "ENODATA")
      return [{ host: domain, port: 25, tls: "opportunistic", source: "mx" }];
    throw err;
  }
}

const outcome = (key: string, r: RelayResult): DeliveryOutcome => ({
  key,
  status: r.status,
  detail: r.detail,
  status_code: r.statusCode,
  ...(r.remoteMta ? { remoteMta: r.remoteMta } : {}),
});

/**
 * Builds the queue's delivery function. Header edits (verdict headers, subject tag) are applied
 * once per message; each Maildir copy also gets Return-Path and Delivered-To (RFC 5321 §4.4).
 * Relay and remote targets are grouped so each destination sees one transaction with all its
 * recipients. Mailbox and relay targets are checked against the policy in force first (see
 * {@link targetRefusal}): mail that waited in the queue or the quarantine follows later changes.
 */
export function createDeliver(deps: DeliverDeps): Deliver {
  return async (meta, body, targets) => {
    const parts = editedParts(body, meta.edits);
    // Joined only for relaying (nodemailer wants one buffer); Maildir copies are written as pieces.
    let joined: Buffer | undefined;
    const message = () => (joined ??= parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    // Signed once per delivery attempt, with the key in force now (a rotation applies to retries).
    let signed: Promise<Buffer> | undefined;
    const dkimMessage = () =>
      (signed ??= dkimSigned(message(), dkimSignerFor(meta, message(), deps.snapshot()), (why) =>
        deps.onDkimError?.(meta, why),
      ));
    // Inbound mail sent on (alias forward, route relay) gets the forwarding domain's ARC set over
    // whatever else it carries, so the next hop can read what was verified here (RFC 8617 §5.1).
    const seal = async (base: Buffer) =>
      arcSealed(base, meta.arc, arcSealerFor(meta, deps.snapshot()), (why) => deps.onDkimError?.(meta, why));
    let forwarded: Promise<Buffer> | undefined;
    const forwardMessage = () => (forwarded ??= dkimMessage().then(seal));
    let relayed: Promise<Buffer> | undefined;
    const relayedMessage = () => (relayed ??= signsRelayed(meta) ? dkimMessage() : seal(message()));
    const outcomes: DeliveryOutcome[] = [];
    // A forward of outside mail leaves with an SRS0 sender of the forwarding domain (SPF passes
    // downstream; a bounce to it comes back here and is sent on to the original sender).
    const envelopeSender = () => {
      const snap = deps.snapshot();
      const senderDomain = splitMailbox(meta.sender)?.domain;
      const forwarded =
        snap.srsKey !== undefined &&
        meta.client.user === null &&
        (meta.origin === "smtp" || meta.origin === "release") &&
        senderDomain !== undefined &&
        !snap.domains.has(senderDomain) &&
        meta.domain !== null &&
        snap.domains.has(meta.domain);
      return forwarded ? srsForward(snap.srsKey!, meta.sender, meta.domain!, Date.now()) : meta.sender;
    };
    const relayGroups = new Map<string, TargetState[]>();
    const remoteGroups = new Map<string, TargetState[]>();
    const jobs: Promise<void>[] = [];
    const snapshot = deps.snapshot();
    targets.forEach((t, index) => {
      const target: DeliveryTarget = t.target;
      const refused = targetRefusal(snapshot, target);
      if (refused) {
        outcomes.push({ key: t.key, status: "failed", ...refused });
        return;
      }
      if (target.kind === "mailbox") {
        jobs.push(
          (async () => {
            const trace = Buffer.from(`Return-Path: <${meta.sender}>\r\nDelivered-To: ${target.address}\r\n`);
            // The mailbox of the Domain as it is now: a Domain deleted since (or deleted and created
            // again) has no mailbox for this message; writing it would hand it to the data of a
            // lifetime that is gone (purged) or to a later owner of the name.
            const domain = deps.snapshot().domains.get(target.domain);
            const stamped = meta.views?.find((v) => v.owner.domain === target.domain)?.owner.generation;
            if (
              !domain ||
              domain.name !== target.domain ||
              (stamped !== undefined && stamped !== domain.generation)
            ) {
              outcomes.push({
                key: t.key,
                status: "failed",
                detail: `${target.domain} is no longer hosted here`,
                status_code: "5.1.2",
              });
              return;
            }
            try {
              const copy = await deps.maildir.deliver(
                target.address,
                meta.id,
                index,
                [trace, ...parts],
                Date.parse(meta.receivedAt),
                domain.generation,
              );
              outcomes.push({
                key: t.key,
                status: "delivered",
                detail: "delivered to Maildir",
                status_code: "2.0.0",
                durable: copy.synced,
              });
            } catch (err) {
              // A local write error (disk full, permissions) is temporary from the queue's view.
              outcomes.push({
                key: t.key,
                status: "deferred",
                detail: `Maildir: ${(err as Error).message}`,
                status_code: "4.3.0",
              });
            }
          })(),
        );
      } else if (target.kind === "relay") {
        const list = relayGroups.get(target.domain) ?? [];
        list.push(t);
        relayGroups.set(target.domain, list);
      } else if (target.kind === "remote") {
        const domain = splitMailbox(target.address)?.domain ?? "";
        const key = deps.outbound.smarthost ? "*" : domain;
        const list = remoteGroups.get(key) ?? [];
        list.push(t);
        remoteGroups.set(key, list);
      } else {
        jobs.push(
          (async () => {
            const reply = await deps.responder.reply({
              alias: target.alias,
              subject: target.subject,
              body: target.body,
              periodDays: target.periodDays,
              sender: meta.sender,
              origin: meta.origin,
              classification: meta.classification,
              autoSubmitted: meta.facts?.autoSubmitted ?? null,
              precedence: meta.facts?.precedence ?? null,
              list: meta.facts?.list ?? false,
              messageId: meta.messageId,
            });
            if ("message" in reply) {
              await deps.inject({
                origin: "autoreply",
                to: meta.sender,
                body: reply.message,
                domain: target.domain,
                subject: target.subject,
              });
              outcomes.push({
                key: t.key,
                status: "delivered",
                detail: "auto-reply sent",
                status_code: "2.0.0",
              });
            } else {
              outcomes.push({
                key: t.key,
                status: "delivered",
                detail: `auto-reply suppressed: ${reply.suppressed}`,
                status_code: "2.0.0",
              });
            }
          })().catch((err) => {
            outcomes.push({
              key: t.key,
              status: "deferred",
              detail: `auto-reply: ${(err as Error).message}`,
              status_code: "4.3.0",
            });
          }),
        );
      }
    });
    for (const [domain, group] of relayGroups) {
      jobs.push(
        (async () => {
          const routes = deps.snapshot().domains.get(domain)?.routes ?? [];
          if (routes.length === 0) {
            for (const t of group) {
              outcomes.push({
                key: t.key,
                status: "deferred",
                detail: `no route declared for ${domain}`,
                status_code: "4.4.4",
              });
            }
            return;
          }
          const results = await deps.relay.send(
            routes.map((r) => ({ ...r, source: "route" as const })),
            meta.sender,
            group.map((t) => (t.target.kind === "relay" ? t.target.address : "")),
            await relayedMessage(),
            { requireTls: meta.requireTls === true },
          );
          for (const [i, r] of results.entries()) outcomes.push(outcome(group[i]!.key, r));
        })(),
      );
    }
    for (const [domain, group] of remoteGroups) {
      jobs.push(
        (async () => {
          const addresses = group.map((t) => (t.target.kind === "remote" ? t.target.address : ""));
          let hops: Hop[] | "null-mx";
          try {
            hops = await hopsFor(domain, deps.outbound);
          } catch (err) {
            for (const t of group) {
              outcomes.push({
                key: t.key,
                status: "deferred",
                detail: `MX lookup for ${domain}: ${(err as Error).message}`,
                status_code: "4.4.3",
              });
            }
            return;
          }
          if (hops === "null-mx") {
            // RFC 7505 §3: a null MX domain accepts no mail; 5.1.10 is its registered status.
            for (const t of group)
              outcomes.push({
                key: t.key,
                status: "failed",
                detail: `${domain} accepts no mail (null MX)`,
                status_code: "5.1.10",
              });
            return;
          }
          const results = await deps.relay.send(hops, envelopeSender(), addresses, await forwardMessage(), {
            requireTls: meta.requireTls === true,
          });
          for (const [i, r] of results.entries()) outcomes.push(outcome(group[i]!.key, r));
        })(),
      );
    }
    await Promise.all(jobs);
    return outcomes;
  };
}

/** Dependencies of {@link createBounce}. */
export interface BounceDeps {
  snapshot: () => PolicySnapshot;
  inject: Inject;
  /** Our host name, for Reporting-MTA and the From of bounces for no hosted domain (MAILER-DAEMON@). */
  hostname: string;
  now?: () => number;
  /** Told when a bounce is not sent and why (log). */
  onSuppressed?: (meta: QueuedMessage, why: string) => void;
}

/**
 * Builds the queue's bounce function: one DSN per message listing every failed recipient. No DSN
 * for the null sender or for our own bounces and auto-replies (RFC 3464 §2 / RFC 5321 §6.1: avoid
 * loops), and at most `maxBouncesPerHour` per domain.
 */
export function createBounce(deps: BounceDeps): Bounce {
  const sent = new Map<string, number[]>();
  const now = deps.now ?? Date.now;
  return async (meta, body, failed) => {
    if (meta.sender === "" || writtenByEngine(meta.origin)) {
      deps.onSuppressed?.(meta, "null sender or automatic message");
      return;
    }
    const domainPolicy = meta.domain ? deps.snapshot().domains.get(meta.domain) : undefined;
    const limit = domainPolicy?.maxBouncesPerHour ?? 100;
    const key = meta.domain ?? "";
    const t = now();
    const recent = (sent.get(key) ?? []).filter((at) => at > t - 3_600_000);
    if (recent.length >= limit) {
      sent.set(key, recent);
      deps.onSuppressed?.(meta, `bounce limit of ${limit} per hour reached for ${key || "the platform"}`);
      return;
    }
    recent.push(t);
    sent.set(key, recent);
    const rcptOf = new Map(
      meta.recipients.flatMap((r) =>
        r.targets.map((x) => ["address" in x ? x.address : "", r.rcpt] as const),
      ),
    );
    const dsn = await buildDsn({
      reportingMta: deps.hostname,
      // The domain's notificationFrom (default postmaster@<domain>); the engine's own name when the
      // message belongs to no hosted domain.
      from: domainPolicy?.notificationFrom ?? `MAILER-DAEMON@${deps.hostname}`,
      to: meta.sender,
      queueId: meta.id,
      arrivalDate: new Date(meta.receivedAt),
      recipients: failed.map(({ target, outcome: o }) => {
        const address = "address" in target.target ? target.target.address : target.recipient;
        const original = rcptOf.get(address);
        return {
          finalRecipient: address,
          ...(original ? { originalRecipient: original } : {}),
          status: o.status_code.startsWith("2") ? "5.0.0" : o.status_code,
          diagnostic: o.detail,
          ...(o.remoteMta ? { remoteMta: o.remoteMta } : {}),
        };
      }),
      original: body,
    });
    await deps.inject({
      origin: "bounce",
      to: meta.sender,
      body: dsn,
      domain: meta.domain,
      subject: "Undelivered Mail Returned to Sender",
      ...(meta.requireTls ? { requireTls: true } : {}),
    });
  };
}
