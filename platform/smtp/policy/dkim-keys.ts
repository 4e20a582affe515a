/** The engine's DKIM signing keys (RSA, and Ed25519 beside it): read from the store's sealed settings and opened with the master key, once per selector. */
import {
  DKIM_SETTING,
  dkimKeySetting,
  domainDkimState,
  openDkimPrivateKey,
  type StoredDkimKey,
} from "../../api/dkim-keys.ts";
import type { StoredObject } from "../../store/contract/object-store.ts";
import type { Store } from "../../store/store.ts";

/** The key a domain's mail is signed with (RFC 6376 §3.1 selector, PKCS#8 PEM private key). */
export interface DkimSigningKey {
  selector: string;
  privateKey: string;
}

/**
 * Opens and caches the signing key of each Domain: the active selector of its own keys, or the
 * platform key for a domain created before per-domain keys. A selector names one key forever
 * (settings are write-once), so a cached key never goes stale; `load` only reads keys not seen yet.
 * Without a master key nothing is loaded and nothing is signed.
 *
 * @example
 * const ring = new DkimKeyring(store, masterKey);
 * await ring.load(domains);
 * ring.keyOf(domain) // { selector: "mp20261203a1b2c3", privateKey: "-----BEGIN PRIVATE KEY-----…" }
 */
export class DkimKeyring {
  readonly #store: Store;
  readonly #masterKey: Buffer | undefined;
  /** Setting name → opened key. */
  readonly #keys = new Map<string, DkimSigningKey>();

  constructor(store: Store, masterKey: Buffer | undefined) {
    this.#store = store;
    this.#masterKey = masterKey;
  }

  /** Reads the keys of `objects` (Domains; others are skipped) not yet opened. A failed read rejects (the caller retries). */
  async load(objects: Iterable<StoredObject>): Promise<void> {
    const masterKey = this.#masterKey;
    if (!masterKey) return;
    for (const o of objects) {
      if (o.kind !== "Domain") continue;
      const ed25519 = ed25519SettingOf(o);
      for (const setting of ed25519 ? [settingOf(o), ed25519] : [settingOf(o)]) {
        if (this.#keys.has(setting)) continue;
        const stored = await this.#store.getSetting(setting);
        if (stored === undefined) continue;
        const selector =
          setting === DKIM_SETTING ? (JSON.parse(stored) as StoredDkimKey).selector : setting.split(":")[2]!;
        this.#keys.set(setting, { selector, privateKey: openDkimPrivateKey(masterKey, stored) });
      }
    }
  }

  /** The loaded signing key of a Domain, or undefined (no master key, or not loaded). */
  keyOf(o: StoredObject): DkimSigningKey | undefined {
    return this.#keys.get(settingOf(o));
  }

  /** The loaded Ed25519 key that signs beside {@link keyOf}, or undefined (none active, or not loaded). */
  ed25519KeyOf(o: StoredObject): DkimSigningKey | undefined {
    const setting = ed25519SettingOf(o);
    return setting ? this.#keys.get(setting) : undefined;
  }
}

function ed25519SettingOf(o: StoredObject): string | undefined {
  const active = domainDkimState(o.spec)?.activeEd25519;
  return active ? dkimKeySetting(o.id, active) : undefined;
}

function settingOf(o: StoredObject): string {
  const active = domainDkimState(o.spec)?.active;
  return active ? dkimKeySetting(o.id, active) : DKIM_SETTING;
}
