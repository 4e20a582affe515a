/** DKIM signing (RFC 6376) of the mail the platform sends for a hosted domain, with the domain's key from the policy snapshot. */
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import type { DomainPolicy, PolicySnapshot } from "../policy/snapshot.ts";
import { type QueuedMessage, writtenByEngine } from "../spool/queued-message.ts";

/** Who signs a message: the `d=` domain and the policy whose key signs; null: not signed. */
export interface DkimSigner {
  signingDomain: string;
  policy: DomainPolicy;
}

/** The domain of the From: header's address (RFC 5322 §3.6.2), lower-cased; null when there is none. */
export function fromDomainOf(message: Buffer): string | null {
  const end = message.indexOf("\r\n\r\n");
  const head = message.subarray(0, end < 0 ? message.length : end).toString("latin1");
  // Unfold (RFC 5322 §2.2.3), then the first From: field.
  const field = /^from:(.*)$/im.exec(head.replace(/\r?\n[ \t]+/g, " "))?.[1];
  if (!field) return null;
  // The angle address when there is one (the last: a display name may itself hold one), else the field.
  const angle = [...field.matchAll(/<([^<>]*)>/g)].at(-1)?.[1] ?? field;
  const at = angle.lastIndexOf("@");
  const domain =
    at < 0
      ? ""
      : angle
          .slice(at + 1)
          .trim()
          .toLowerCase();
  return /^[a-z0-9.-]+$/.test(domain) ? domain : null;
}

/**
 * Which domain signs a message leaving the platform. The home domain is the one the message belongs
 * to (`meta.domain`: the submitter's domain, the forwarding domain, the alias domain of an
 * auto-reply, the domain a bounce is about). When the From: domain is hosted by the same account
 * (the notificationFrom of a bounce, a submission from another of the account's domains or an alias
 * domain) it signs instead, so DMARC finds an aligned signature (RFC 7489 §3.1.1). Another account's
 * domain never signs: a tenant cannot get mail signed with someone else's key.
 *
 * Mail that entered from outside (a forward: no SMTP AUTH user, not written by the engine) whose
 * From: claims the account's own domain is not signed at all — the platform did not write it, and a
 * signature aligned with that From: would make a spoof pass DMARC downstream.
 *
 * @example dkimSignerFor(meta, raw, snapshot)?.signingDomain // "example.com"
 */
export function dkimSignerFor(
  meta: Pick<QueuedMessage, "domain" | "origin" | "client">,
  message: Buffer,
  snapshot: PolicySnapshot,
): DkimSigner | null {
  const home = meta.domain ? snapshot.domains.get(meta.domain) : undefined;
  if (!home) return null;
  const fromDomain = fromDomainOf(message);
  const fromPolicy = fromDomain ? snapshot.domains.get(fromDomain) : undefined;
  const sameAccount = fromPolicy !== undefined && fromPolicy.accountId === home.accountId;
  const ours = meta.client.user !== null || writtenByEngine(meta.origin);
  if (!ours) {
    if (sameAccount) return null;
    return home.dkim ? { signingDomain: home.name, policy: home } : null;
  }
  if (sameAccount && fromPolicy.dkim) return { signingDomain: fromDomain!, policy: fromPolicy };
  return home.dkim ? { signingDomain: home.name, policy: home } : null;
}

/**
 * True when a message to a route of a hosted domain is the platform's own to sign: submitted by a
 * user or written by the engine. Inbound mail relayed to a domain's own servers is not signed.
 */
export function signsRelayed(meta: Pick<QueuedMessage, "origin" | "client">): boolean {
  return meta.client.user !== null || writtenByEngine(meta.origin);
}

/**
 * Prepends a DKIM-Signature (rsa-sha256, relaxed/relaxed, RFC 6376 §3.4) by `signer`; the message
 * unchanged when there is no signer or signing failed (`onError` is told why).
 *
 * @example const out = await dkimSigned(raw, dkimSignerFor(meta, raw, snapshot));
 */
export async function dkimSigned(
  message: Buffer,
  signer: DkimSigner | null,
  onError?: (why: string) => void,
): Promise<Buffer> {
  const key = signer?.policy.dkim;
  if (!signer || !key) return message;
  const failed = (why: string) => {
    onError?.(`DKIM signing as ${signer.signingDomain} (selector ${key.selector}) failed: ${why}`);
    return message;
  };
  let result: Awaited<ReturnType<typeof dkimSign>>;
  try {
    const signature = {
      signingDomain: signer.signingDomain,
      selector: key.selector,
      privateKey: key.privateKey,
      canonicalization: "relaxed/relaxed",
      algorithm: "rsa-sha256",
    };
    // RFC 8463 §5: an Ed25519 signature goes beside the RSA one (a receiver that does not know
    // ed25519-sha256 ignores it and checks the RSA signature).
    const ed25519 = signer.policy.dkimEd25519;
    const signatures = ed25519
      ? [
          signature,
          {
            ...signature,
            selector: ed25519.selector,
            privateKey: ed25519.privateKey,
            algorithm: "ed25519-sha256",
          },
        ]
      : [signature];
    // mailauth signs what `signatureData` lists (the top-level fields only satisfy its types);
    // strict: RFC 6376/8301 syntax and key rules exactly.
    result = await dkimSign(message, { ...signature, signatureData: signatures, strict: true });
  } catch (error) {
    return failed((error as Error).message);
  }
  if (!result.signatures) {
    // Only the error messages: the key itself must never reach a log.
    return failed(
      (result.errors ?? []).map((e) => (e as { err?: Error }).err?.message ?? "unknown error").join("; "),
    );
  }
  return Buffer.concat([Buffer.from(result.signatures, "latin1"), message]);
}
