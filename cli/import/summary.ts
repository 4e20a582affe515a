/** What both renderings and the CLI say about an import: where it came from, counts per kind, the password note. */
import type { TenancyManifest } from "../../sdk/src/models/tenancy.ts";

/** Where the tenant was read from; printed in the file's header. */
export interface ImportSource {
  /** The control plane's URL. */
  endpoint: string;
  /** The account the token acted on. */
  account: string | null;
}

/** `3 routes`, `1 route`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/**
 * One phrase with the number of objects per kind, in manifest order; kinds with none are left out.
 * @example countsOf(manifest) // "2 domains, 3 routes, 4 aliases, 1 sender list, 1 filter settings, 1 password policy, 3 users"
 */
export function countsOf(manifest: TenancyManifest): string {
  const counts = [
    count(manifest.domains.length, "domain"),
    count(manifest.routes.length, "route"),
    count(manifest.aliases.length, "alias", "aliases"),
    count(manifest.senderLists.length, "sender list"),
    count(manifest.filterSettings.length, "filter settings", "filter settings"),
    count(manifest.passwordPolicies.length, "password policy", "password policies"),
    count(manifest.users.length, "user"),
    count(manifest.reportSettings.length, "report settings", "report settings"),
  ].filter((c) => !c.startsWith("0 "));
  return counts.length === 0 ? "no objects" : counts.join(", ");
}

/** The account and endpoint in words: `account "acme" at http://127.0.0.1:8080`. */
export function sourceOf(source: ImportSource): string {
  return `${source.account === null ? "the token's account" : `account "${source.account}"`} at ${source.endpoint}`;
}

/** The address used in examples: the first user's, or a placeholder. */
export function exampleAddress(manifest: TenancyManifest): string {
  return manifest.users[0]?.address ?? "alice@example.com";
}

/**
 * The command that stores a user's password in the stack config, encrypted; both the Tenancy
 * component and the generated program read `passwords` from there.
 */
export function passwordCommand(address: string): string {
  return `pulumi config set --secret --path 'passwords["${address}"]' <password>`;
}
