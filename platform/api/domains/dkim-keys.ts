/** Where DKIM keys live in the store, shared by the control plane (which makes them) and the SMTP engine (which signs). */
import { openText, type SealedText } from "../access/sealing.ts";

/** How the platform key pair sits in the store: the private key sealed with AES-256-GCM under the master key. */
export interface StoredDkimKey {
  selector: string;
  publicKey: string;
  privateKey: { alg: "A256GCM" } & SealedText;
}

/** The store setting holding the platform key pair (JSON of {@link StoredDkimKey}). */
export const DKIM_SETTING = "dkim";

/** DKIM key types: RSA-2048 (rsa-sha256, RFC 6376) or Ed25519 (ed25519-sha256, RFC 8463). */
export type DkimAlgorithm = "rsa" | "ed25519";

/** One of a domain's own DKIM keys as its stored Domain keeps it: public parts only. */
export interface DomainDkimKey {
  /** A DNS label unique to this key (`mp<yyyymmdd><6 hex>`): a rotation never reuses a name. */
  selector: string;
  /**
   * The record's `p=`: base64 of the DER SubjectPublicKeyInfo for RSA, of the raw 32-byte public
   * key for Ed25519 (RFC 8463 §4.2).
   */
  publicKey: string;
  createdAt: string;
  /** Absent: `rsa` (keys made before Ed25519 existed). */
  algorithm?: "ed25519";
}

/**
 * A domain's DKIM state, kept in the stored Domain's spec under {@link DKIM_SPEC_FIELD} (never
 * rendered as a spec field, never accepted from a client). The private halves live sealed in the
 * store's settings under {@link dkimKeySetting}. Keys made after `active` are pending (published, not
 * yet used); the ones before it are retired (still published, so mail signed before the switch
 * still verifies).
 */
export interface DomainDkimState {
  keys: DomainDkimKey[];
  /** The RSA selector mail is signed with; null: the platform key (domains created before per-domain keys). */
  active: string | null;
  /**
   * The Ed25519 selector mail is signed with as well (a second DKIM-Signature, RFC 8463 §5); absent:
   * RSA only. Ed25519 never replaces RSA: receivers that do not know it ignore its signature and
   * check the RSA one.
   */
  activeEd25519?: string;
}

/** The key type of a stored key. @example algorithmOf({ selector: "s", publicKey: "…", createdAt: "…" }) // "rsa" */
export function algorithmOf(key: Pick<DomainDkimKey, "algorithm">): DkimAlgorithm {
  return key.algorithm === "ed25519" ? "ed25519" : "rsa";
}

/** The stored Domain spec field holding {@link DomainDkimState}. */
export const DKIM_SPEC_FIELD = "dkim";

/** The store setting holding one domain key's sealed private half. @example dkimKeySetting("example.com", "mp20261203a1b2c3") */
export function dkimKeySetting(domain: string, selector: string): string {
  return `dkim-key:${domain}:${selector}`;
}

/** The DKIM state of a stored Domain spec, or null when it has none (created before per-domain keys). */
export function domainDkimState(spec: Record<string, unknown>): DomainDkimState | null {
  const state = spec[DKIM_SPEC_FIELD] as DomainDkimState | undefined;
  return state && Array.isArray(state.keys) ? state : null;
}

/**
 * Opens a sealed private key as the store keeps it: a domain key's setting (the sealed text) or the
 * platform key's (a {@link StoredDkimKey}).
 * @throws Error when `masterKey` is not the one it was sealed with
 * @example const pem = openDkimPrivateKey(masterKey, await store.getSetting(dkimKeySetting(domain, selector)));
 */
export function openDkimPrivateKey(masterKey: Buffer, stored: string): string {
  const parsed = JSON.parse(stored) as SealedText | StoredDkimKey;
  try {
    return openText(masterKey, "privateKey" in parsed ? parsed.privateKey : parsed);
  } catch {
    throw new Error(
      "the store's DKIM key was sealed with another master key: give every node the same MAILPLANE_MASTER_KEY (or the first node's <data-dir>/master-key)",
    );
  }
}
