/** The tenant `mailplane verify` checks: the declared objects read through the API, with each domain's effective filter settings. */
import type { MailplaneClient } from "../../sdk/src/client/client.ts";
import { DEFAULTS_ETAG } from "../../sdk/src/contract/tenancy.ts";
import type { AliasSpec } from "../../sdk/src/models/alias.ts";
import type { DomainSpec } from "../../sdk/src/models/domain.ts";
import {
  FilterSettingsSpec as FilterSettingsSchema,
  type FilterSettingsSpec,
} from "../../sdk/src/models/filter-settings.ts";
import { filterSettingsKind, type KindDescriptor } from "../../sdk/src/models/kinds.ts";
import type { RouteSpec } from "../../sdk/src/models/route.ts";
import type { SenderListSpec } from "../../sdk/src/models/sender-list.ts";
import { type TenancyManifest as Manifest, TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import type { UserSpec } from "../../sdk/src/models/user.ts";
import { readTenant, specOf } from "../import/read-tenant.ts";

/** What verify knows about a tenant: normalised specs, users without passwords. */
export interface VerifyTenant {
  account: string | null;
  domains: DomainSpec[];
  routes: RouteSpec[];
  aliases: AliasSpec[];
  senderLists: SenderListSpec[];
  users: Omit<UserSpec, "password">[];
  /**
   * The filter settings each domain's mail is judged by: its own, else the account-wide ones, else
   * the defaults — the order the SMTP engine applies. `null` when that cannot be known (the domain
   * has none of its own and the token may not read the account-wide ones).
   */
  filters: Record<string, FilterSettingsSpec | null>;
}

/**
 * Each domain's effective filter settings from the settings that are set: the domain's own, else the
 * account's, else the defaults. `accountUnknown`: the account-wide settings could not be read, so a
 * domain without its own has unknown settings (`null`).
 * @example effectiveFilters(["example.com"], [{ scope: "account", quarantineEnabled: false, … }])["example.com"]?.quarantineEnabled // false
 */
export function effectiveFilters(
  domains: readonly string[],
  set: readonly FilterSettingsSpec[],
  accountUnknown = false,
): Record<string, FilterSettingsSpec | null> {
  const byScope = new Map(set.map((f) => [f.scope, f]));
  const account = byScope.get("account");
  const out: Record<string, FilterSettingsSpec | null> = {};
  for (const domain of domains) {
    const own = byScope.get(domain);
    if (own) out[domain] = own;
    else if (account) out[domain] = { ...account, scope: domain };
    else out[domain] = accountUnknown ? null : FilterSettingsSchema.parse({ scope: domain });
  }
  return out;
}

/**
 * A tenant from a manifest (as a program or `mailplane import` writes it): the filter settings it lists
 * are taken as the ones that are set. Unit tests build fixture tenants with it.
 * @example tenantFromManifest({ domains: [{ name: "example.com" }], users: [{ address: "a@example.com" }] })
 */
export function tenantFromManifest(
  input: Partial<Record<keyof Manifest, unknown>>,
  options: { account?: string | null; accountFiltersUnknown?: boolean } = {},
): VerifyTenant {
  const manifest = TenancyManifest.parse(input);
  return verifyTenantOf(
    options.account ?? null,
    manifest,
    manifest.filterSettings,
    options.accountFiltersUnknown === true,
  );
}

/** The tenant from a normalised manifest and the filter settings that are set (see {@link effectiveFilters}). */
function verifyTenantOf(
  account: string | null,
  manifest: Manifest,
  set: readonly FilterSettingsSpec[],
  accountUnknown: boolean,
): VerifyTenant {
  return {
    account,
    domains: manifest.domains,
    routes: manifest.routes,
    aliases: manifest.aliases,
    senderLists: manifest.senderLists,
    users: manifest.users.map(({ password: _password, ...user }) => user),
    filters: effectiveFilters(
      manifest.domains.map((d) => d.name),
      set,
      accountUnknown,
    ),
  };
}

/** Options of {@link readVerifyTenant}. */
export interface ReadVerifyTenantOptions {
  /** Only these domains; default every domain the token sees. */
  domains?: readonly string[];
  /** Progress lines for stderr. */
  progress?: (line: string) => void;
}

/**
 * Reads the token's tenant through the API (the same reader as `mailplane import`), and which filter
 * settings are actually set: a singleton never set answers the defaults with the etag `defaults`, and
 * only a set one overrides the account-wide settings. The import reader has read every domain's
 * settings already; only the account-wide ones it leaves out (for `domains` and domain-admin tokens)
 * are read here.
 * @throws the API's MailplaneError (match on `code`)
 * @example const tenant = await readVerifyTenant(client, { domains: ["example.com"] });
 */
export async function readVerifyTenant(
  client: MailplaneClient,
  options: ReadVerifyTenantOptions = {},
): Promise<VerifyTenant> {
  const { account, manifest, singletons } = await readTenant(client, {
    ...(options.domains === undefined ? {} : { domains: options.domains }),
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
  const filters = singletons.filter((s) => s.kind === "FilterSettings");
  const set = filters.filter((s) => s.set).map((s) => s.spec as FilterSettingsSpec);
  const accountRead = filters.find((s) => s.scope === "account");
  let accountUnknown = accountRead?.skipped !== undefined;
  if (!accountRead) {
    try {
      const object = await client.filterSettings.get("account");
      if (object.etag !== DEFAULTS_ETAG) {
        set.push(
          specOf(
            filterSettingsKind as unknown as KindDescriptor,
            object as unknown as Record<string, unknown>,
          ) as FilterSettingsSpec,
        );
      }
    } catch (err) {
      if ((err as { code?: unknown }).code !== "MP_FORBIDDEN") throw err;
      accountUnknown = true;
    }
  }
  if (accountUnknown) {
    // A domain admin may not read the account-wide settings; domains with their own are still known.
    options.progress?.(
      "account-wide filter settings not readable with this token: domains without their own are not probed for quarantine",
    );
  }
  return verifyTenantOf(account, manifest, set, accountUnknown);
}
