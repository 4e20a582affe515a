/** The platform's DKIM key pair (one per store, shared by every node) and the DNS records domains publish. */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DnsRecord, type DomainSpec, dnsRecordsFor } from "../../sdk/src/index.ts";
import type { Store } from "../store/store.ts";
import { openText, type SealedText, sealText } from "./sealing.ts";

/** The platform's DKIM key pair; the public half goes into every domain's DKIM record. */
export interface DkimKey {
  selector: string;
  /** base64 of the DER SubjectPublicKeyInfo: the DKIM record's `p=` tag (RFC 6376 §3.6.1). */
  publicKey: string;
  /** PKCS#8 PEM; only ever in memory — the store holds it encrypted with the master key. */
  privateKeyPem: string;
}

/** How the key pair sits in the store: the private key sealed with AES-256-GCM under the master key. */
interface StoredDkimKey {
  selector: string;
  publicKey: string;
  privateKey: { alg: "A256GCM" } & SealedText;
}

/** The store setting holding the key pair (JSON of {@link StoredDkimKey}). */
export const DKIM_SETTING = "dkim";

/** Where `mailplane serve` keeps the master key when MAILPLANE_MASTER_KEY is not given. */
export const MASTER_KEY_FILE = "master-key";

/**
 * The master key that seals secrets the platform itself must be able to read back (the DKIM private
 * key): MAILPLANE_MASTER_KEY (base64 of 32 bytes — give every node sharing a PostgreSQL store the
 * same one), else `<dataDir>/master-key`, created on first start with mode 0600.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const given = env.MAILPLANE_MASTER_KEY;
  if (given !== undefined && given !== "") {
    const key = Buffer.from(given, "base64");
    if (key.length !== 32) throw new Error("MAILPLANE_MASTER_KEY must be the base64 of 32 bytes");
    return key;
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(path)) {
    // wx: two processes starting at once never overwrite each other's key.
    try {
      writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${path} must hold the base64 of 32 bytes`);
  return key;
}

/** The private key as the store keeps it: sealed under the master key. */
function openPrivateKey(masterKey: Buffer, sealed: StoredDkimKey["privateKey"]): string {
  try {
    return openText(masterKey, sealed);
  } catch {
    throw new Error(
      "the store's DKIM key was sealed with another master key: give every node the same MAILPLANE_MASTER_KEY (or the first node's <data-dir>/master-key)",
    );
  }
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
    privateKeyPem: openPrivateKey(masterKey, key.privateKey),
  };
}

/**
 * The records a domain's owner publishes: MX, SPF, DKIM and DMARC for the domain and each alias, and
 * given the account's tokens, the ownership verification record of each.
 */
export function domainDnsRecords(
  spec: Pick<DomainSpec, "name" | "aliases">,
  mxHost: string,
  dkim: DkimKey,
  verificationToken?: (name: string) => string,
): DnsRecord[] {
  return dnsRecordsFor(spec, {
    mxHost,
    dkimSelector: dkim.selector,
    dkimPublicKey: dkim.publicKey,
    ...(verificationToken ? { verificationToken } : {}),
  });
}
