/** The store's platform settings, shared by every node on the store (the first writer wins). */

/**
 * Platform settings (e.g. the DKIM key pair), shared by every node on the store.
 *
 * @example
 * if ((await store.initSetting("bootstrap-admin-token", claim)) !== claim) return; // another node was first
 */
export interface SettingStore {
  /** A platform setting (e.g. the DKIM key pair), shared by every node on the store. */
  getSetting(name: string): Promise<string | undefined>;
  /** Stores `value` unless the setting exists; returns the value that is stored now (first writer wins). */
  initSetting(name: string, value: string): Promise<string>;
}
