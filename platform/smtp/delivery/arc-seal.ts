/** ARC sealing (RFC 8617) of inbound mail the platform sends on for a hosted domain (alias forwards, route relays), with the domain's DKIM key. */
import { createSeal } from "mailauth/lib/arc/index.js";
import type { PolicySnapshot } from "../policy/snapshot.ts";
import type { QueuedMessage } from "../spool/queued-message.ts";
import type { DkimSigner } from "./dkim-sign.ts";

/**
 * Who seals a message the platform sends on: the forwarding domain (`meta.domain`, the Domain the
 * message arrived for) with its active DKIM selector and key. Only mail that entered from outside
 * and was authenticated here is sealed (`meta.arc`: the Authentication-Results the seal carries,
 * set only on the MX listener without SMTP AUTH); submissions, bounces and auto-replies are the
 * platform's own and DKIM-signed instead. The seal
 * vouches only for what the platform saw (RFC 8617 §1): the results it records stay as they were,
 * a failing DMARC included, so a spoofed message gains nothing from it.
 *
 * @example arcSealerFor(meta, snapshot)?.signingDomain // "example.com"
 */
export function arcSealerFor(
  meta: Pick<QueuedMessage, "domain" | "arc">,
  snapshot: PolicySnapshot,
): DkimSigner | null {
  if (!meta.arc) return null;
  const home = meta.domain ? snapshot.domains.get(meta.domain) : undefined;
  return home?.dkim ? { signingDomain: home.name, policy: home } : null;
}

/**
 * Prepends an ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results; RFC 8617 §5.1)
 * by `sealer`, numbered after the message's highest instance, with `cv=` from `input` (none on the
 * first hop, pass or fail after validating the arriving chain). The message unchanged when there is
 * no sealer or no set can be added — a chain already at 50 sets or whose newest seal says cv=fail
 * (§4.2.1, §5.1.2), an unusable key — and `onError` is told why (never the key).
 *
 * @example const out = await arcSealed(signed, meta.arc, arcSealerFor(meta, snapshot));
 */
export async function arcSealed(
  message: Buffer,
  input: QueuedMessage["arc"],
  sealer: DkimSigner | null,
  onError?: (why: string) => void,
): Promise<Buffer> {
  const key = sealer?.policy.dkim;
  if (!sealer || !key || !input) return message;
  const failed = (why: string) => {
    onError?.(`ARC sealing as ${sealer.signingDomain} (selector ${key.selector}) failed: ${why}`);
    return message;
  };
  try {
    const { headers, errors } = await createSeal(message, {
      seal: {
        signingDomain: sealer.signingDomain,
        selector: key.selector,
        privateKey: key.privateKey,
        authResults: input.authResults,
        cv: input.cv,
      },
    });
    if (headers.length === 0) {
      return failed(errors.map((e) => (e as { err?: Error }).err?.message ?? "unknown error").join("; "));
    }
    return Buffer.concat([Buffer.from(`${headers.join("\r\n")}\r\n`, "latin1"), message]);
  } catch (error) {
    return failed((error as Error).message);
  }
}
