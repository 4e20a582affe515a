/** The platform's DKIM key pair (one per store, shared by every node) and the DNS records domains publish. */
import { generateKeyPairSync } from "node:crypto";
import { type DnsRecord, type DomainSpec, dnsRecordsFor } from "../../sdk/src/index.ts";
import type { Store } from "../store/store.ts";

/** The DKIM key the SMTP engine signs with; the public half goes into every domain's DKIM record. */
export interface DkimKey {
  selector: string;
  /** base64 of the DER SubjectPublicKeyInfo: the DKIM record's `p=` tag (RFC 6376 §3.6.1). */
  publicKey: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

/** The store setting holding the key pair (JSON of {@link DkimKey}). */
export const DKIM_SETTING = "dkim";

/**
 * Returns the store's DKIM key, generating an RSA-2048 pair on first use. Two nodes starting at
 * once both generate one; the store keeps the first, and both use it.
 *
 * @example const dkim = await ensureDkimKey(store); dkim.selector // "mailplane"
 */
export async function ensureDkimKey(store: Store, selector = "mailplane"): Promise<DkimKey> {
  const existing = await store.getSetting(DKIM_SETTING);
  if (existing) return JSON.parse(existing) as DkimKey;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key: DkimKey = {
    selector,
    publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  return JSON.parse(await store.initSetting(DKIM_SETTING, JSON.stringify(key))) as DkimKey;
}

/** The records a domain's owner publishes: MX, SPF, DKIM and DMARC for the domain and each alias. */
export function domainDnsRecords(
  spec: Pick<DomainSpec, "name" | "aliases">,
  mxHost: string,
  dkim: DkimKey,
): DnsRecord[] {
  return dnsRecordsFor(spec, { mxHost, dkimSelector: dkim.selector, dkimPublicKey: dkim.publicKey });
}
