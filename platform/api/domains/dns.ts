/** The platform's DKIM key pair (one per store, shared by every node) and the DNS records domains publish. */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { type DnsRecord, type DomainSpec, dnsRecordsFor } from "../../../sdk/src/index.ts";
import type { Store } from "../../store/store.ts";
import { sealText } from "../access/sealing.ts";
import {
  algorithmOf,
  DKIM_SETTING,
  DKIM_SPEC_FIELD,
  type DkimAlgorithm,
  type DomainDkimKey,
  type DomainDkimState,
  dkimKeySetting,
  domainDkimState,
  openDkimPrivateKey,
  type StoredDkimKey,
} from "./dkim-keys.ts";

export { loadMasterKey, MASTER_KEY_FILE } from "../access/sealing.ts";

export {
  algorithmOf,
  DKIM_SETTING,
  DKIM_SPEC_FIELD,
  type DkimAlgorithm,
  type DomainDkimKey,
  type DomainDkimState,
  dkimKeySetting,
  domainDkimState,
};

/** The platform's DKIM key pair; the public half goes into every domain's DKIM record. */
export interface DkimKey {
  selector: string;
  /** base64 of the DER SubjectPublicKeyInfo: the DKIM record's `p=` tag (RFC 6376 §3.6.1). */
  publicKey: string;
  /** PKCS#8 PEM; only ever in memory — the store holds it encrypted with the master key. */
  privateKeyPem: string;
}

/**
 * Returns the store's DKIM key, generating an RSA-2048 pair on first use; the private key is stored
 * sealed with `masterKey`, never in plain text. Two nodes starting at once both generate one; the
 * store keeps the first, and both use it.
 *
 * @example const dkim = await ensureDkimKey(store, loadMasterKey(dataDir)); dkim.selector // "mailplane"
 */
export async function ensureDkimKey(
  store: Store,
  masterKey: Buffer,
  selector = "mailplane",
): Promise<DkimKey> {
  let stored = await store.getSetting(DKIM_SETTING);
  if (!stored) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const fresh: StoredDkimKey = {
      selector,
      publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
      privateKey: {
        alg: "A256GCM",
        ...sealText(masterKey, privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
      },
    };
    stored = await store.initSetting(DKIM_SETTING, JSON.stringify(fresh));
  }
  const key = JSON.parse(stored) as StoredDkimKey;
  return {
    selector: key.selector,
    publicKey: key.publicKey,
    privateKeyPem: openDkimPrivateKey(masterKey, stored),
  };
}

/**
 * Generates a key for `domain` under a fresh selector — RSA-2048 by default, or Ed25519 (RFC 8463)
 * — and stores its private half sealed with `masterKey` (write-once: a selector names one key
 * forever). Nothing references the key until the caller stores it in the Domain, so a write that
 * fails afterwards leaves only an unused setting.
 *
 * @example const key = await createDomainDkimKey(store, masterKey, "example.com", new Date());
 */
export async function createDomainDkimKey(
  store: Store,
  masterKey: Buffer,
  domain: string,
  now: Date,
  algorithm: DkimAlgorithm = "rsa",
): Promise<DomainDkimKey> {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  const selector = `mp${day}${randomBytes(3).toString("hex")}`;
  const { publicKey, privateKey } =
    algorithm === "ed25519"
      ? generateKeyPairSync("ed25519")
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const sealed = {
    alg: "A256GCM",
    ...sealText(masterKey, privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
  };
  await store.initSetting(dkimKeySetting(domain, selector), JSON.stringify(sealed));
  const spki = publicKey.export({ type: "spki", format: "der" });
  return {
    selector,
    // RFC 8463 §4.2: an Ed25519 record's p= is the bare 32-byte key, not a SubjectPublicKeyInfo.
    publicKey: (algorithm === "ed25519" ? spki.subarray(spki.length - 32) : spki).toString("base64"),
    createdAt: now.toISOString(),
    ...(algorithm === "ed25519" ? { algorithm } : {}),
  };
}

/**
 * The records a domain's owner publishes: MX, SPF, DKIM and DMARC for the domain and each alias, and
 * given the account's tokens, the ownership verification record of each. DKIM: every key of the
 * domain's own (active, pending, retired), or the platform key for a domain created before
 * per-domain keys — always including the selector mail is signed with.
 */
export function domainDnsRecords(
  spec: Pick<DomainSpec, "name" | "aliases">,
  mxHost: string,
  dkim: DkimKey,
  state: DomainDkimState | null = null,
  verificationToken?: (name: string) => string,
): DnsRecord[] {
  const own =
    state?.keys.map((k) => ({ selector: k.selector, publicKey: k.publicKey, algorithm: algorithmOf(k) })) ??
    [];
  const platform = { selector: dkim.selector, publicKey: dkim.publicKey };
  const dkimKeys = state?.active == null ? [platform, ...own] : own;
  return dnsRecordsFor(spec, {
    mxHost,
    dkimPublicKey: dkim.publicKey,
    dkimKeys,
    ...(verificationToken ? { verificationToken } : {}),
  });
}
