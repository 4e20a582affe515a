/** Reads a live tenant through the control plane's API into a normalised, deterministically ordered manifest. */
import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import type { MailplaneClient } from "../../sdk/src/client/client.ts";
import { DEFAULTS_ETAG } from "../../sdk/src/contract/tenancy.ts";
import { type KindDescriptor, tenancyKinds } from "../../sdk/src/models/kinds.ts";
import type { Page } from "../../sdk/src/models/page.ts";
import { routeName } from "../../sdk/src/models/route.ts";
import { TENANCY_API_VERSION, type TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import { count } from "./summary.ts";

/** Options of {@link readTenant}. */
export interface ReadTenantOptions {
  /**
   * Only these domains (and their objects); account-wide singletons are then left out (as they are for
   * a domain-admin token). Default: every domain the token sees.
   */
  domains?: readonly string[];
  /**
   * Also import singletons (filter settings, password policies) that are at their defaults. Default
   * false: declaring defaults changes nothing on the platform and only makes the file longer.
   */
  allSingletons?: boolean;
  /** Progress lines (one per domain, with counts per kind); the CLI writes them to stderr. */
  progress?: (line: string) => void;
}

/** A singleton the import looked at, and whether it went into the manifest. */
export interface SingletonOutcome {
  kind: "FilterSettings" | "PasswordPolicy" | "ReportSettings";
  scope: string;
  /** `changed`: differs from the defaults (imported); `default`: at the defaults (left out unless asked). */
  state: "changed" | "default";
  imported: boolean;
  /** Stored on the platform; false while it answers its defaults (etag {@link DEFAULTS_ETAG}). */
  set: boolean;
  /** The spec as read (normalised), also when it was not imported; absent when it could not be read. */
  spec?: Spec;
  /** Why an account-wide singleton could not be read (e.g. a domain-admin token); the API's code. */
  skipped?: string;
}

/** What {@link readTenant} found. */
export interface ImportedTenant {
  /** The account the token acted on. */
  account: string | null;
  /** The whole tenant as a manifest: normalised specs, sorted, users without passwords. */
  manifest: TenancyManifest;
  singletons: SingletonOutcome[];
}

type Kind = (typeof tenancyKinds)[number];
type Spec = Record<string, unknown>;

const [
  domainKind,
  routeKind,
  aliasKind,
  senderListKind,
  filterKind,
  policyKind,
  userKind,
  groupKind,
  accessRuleKind,
  reportKind,
] = tenancyKinds;

/** How progress lines name a singleton kind. */
const SINGLETON_WORDS: Record<string, string> = {
  FilterSettings: "filter settings",
  PasswordPolicy: "password policy",
  ReportSettings: "report settings",
};

/** Reads every page of a list. */
async function listAll<T>(page: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor);
    items.push(...result.items);
    cursor = result.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

/**
 * The declarable spec of an API object: its spec fields only (no id, etag, timestamps, outputs),
 * normalised by the kind's schema. Secrets are never part of an API object, so users come out
 * without a password.
 */
export function specOf(kind: KindDescriptor, object: Record<string, unknown>): Spec {
  const fields = Object.keys((kind.spec as unknown as z.ZodObject).shape);
  const picked: Spec = {};
  for (const field of fields) {
    if (kind.secretFields.includes(field)) continue;
    if (object[field] !== undefined) picked[field] = object[field];
  }
  const parsed = kind.spec.safeParse(picked);
  if (!parsed.success) {
    // The platform validates with the same model; this means a platform newer than this CLI.
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(
      `the platform returned ${kind.name} ${String(object["id"])} that this CLI cannot read: ${issues}`,
    );
  }
  return parsed.data as Spec;
}

/** Defaults of a singleton kind for a scope: the spec with nothing but the scope declared. */
function singletonDefaults(kind: Kind, scope: string): Spec {
  return kind.spec.parse({ scope }) as Spec;
}

const PAGE = 500;

/**
 * Reads the token's tenant: domains, and per domain its routes, aliases, sender lists, users, filter
 * settings and password policy; then the account-wide filter settings and password policy (unless
 * `domains` limits the import). Throws the API's MailplaneError (match on `code`) for 401, 403, 404…
 * @example const { manifest } = await readTenant(client, { domains: ["example.com"] });
 */
export async function readTenant(
  client: MailplaneClient,
  options: ReadTenantOptions = {},
): Promise<ImportedTenant> {
  const progress = options.progress ?? (() => {});
  const who = await client.whoAmI();
  let domains: Spec[];
  if (options.domains && options.domains.length > 0) {
    // One GET each, so a misspelt domain is a clear 404 rather than a silently empty import.
    domains = await Promise.all(
      [...new Set(options.domains)].map(async (name) => specOf(domainKind, await client.domains.get(name))),
    );
  } else {
    const listed = await listAll((cursor) =>
      client.domains.list({ limit: PAGE, ...(cursor ? { cursor } : {}) }),
    );
    domains = listed.map((d) => specOf(domainKind, d));
  }
  domains.sort((a, b) => String(a["name"]).localeCompare(String(b["name"])));
  progress(
    `reading ${domains.length} domain${domains.length === 1 ? "" : "s"} of account ${who.account ?? "(none)"}`,
  );

  const routes: Spec[] = [];
  const aliases: Spec[] = [];
  const senderLists: Spec[] = [];
  const users: Spec[] = [];
  const groups: Spec[] = [];
  const accessRules: Spec[] = [];
  const filterSettings: Spec[] = [];
  const passwordPolicies: Spec[] = [];
  const reportSettings: Spec[] = [];
  const singletons: SingletonOutcome[] = [];

  const considerSingleton = (kind: Kind, object: Record<string, unknown>, into: Spec[]) => {
    const spec = specOf(kind, object);
    const scope = String(spec["scope"]);
    const changed = !isDeepStrictEqual(spec, singletonDefaults(kind, scope));
    const imported = changed || options.allSingletons === true;
    if (imported) into.push(spec);
    singletons.push({
      kind: kind.name as SingletonOutcome["kind"],
      scope,
      state: changed ? "changed" : "default",
      imported,
      set: object["etag"] !== DEFAULTS_ETAG,
      spec,
    });
    return changed;
  };

  for (const domain of domains) {
    const name = String(domain["name"]);
    const page = (cursor: string | undefined) => ({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    const [r, a, s, u, g, f, p, rep] = await Promise.all([
      listAll((c) => client.routes.list(name, page(c))),
      listAll((c) => client.aliases.list(name, page(c))),
      listAll((c) => client.senderLists.list(name, page(c))),
      listAll((c) => client.users.list(name, page(c))),
      listAll((c) => client.groups.list(name, page(c))),
      client.filterSettings.get(name),
      client.passwordPolicies.get(name),
      client.reportSettings.get(name),
    ]);
    routes.push(...r.map((o) => specOf(routeKind, o)));
    aliases.push(...a.map((o) => specOf(aliasKind, o)));
    senderLists.push(...s.map((o) => specOf(senderListKind, o)));
    users.push(...u.map((o) => specOf(userKind, o)));
    groups.push(...g.map((o) => specOf(groupKind, o)));
    const filterChanged = considerSingleton(filterKind, f, filterSettings);
    const policyChanged = considerSingleton(policyKind, p, passwordPolicies);
    const reportChanged = considerSingleton(reportKind, rep, reportSettings);
    progress(
      `${name}: ${count(r.length, "route")}, ${count(a.length, "alias", "aliases")}, ${count(s.length, "sender list")}, ` +
        `${count(u.length, "user")}, ${count(g.length, "group")}, filter settings ${filterChanged ? "changed" : "at defaults"}, ` +
        `password policy ${policyChanged ? "changed" : "at defaults"}, ` +
        `report settings ${reportChanged ? "changed" : "at defaults"}`,
    );
  }

  // A domain-admin token manages its domains, not the account: its program must not own the
  // account-wide settings (it could not reset them on destroy), so they are left out as with --domain.
  if (who.role === "domain-admin") {
    progress(
      "account-wide filter settings, password policy and report settings left out: the token is a domain admin's",
    );
  } else if (!options.domains || options.domains.length === 0) {
    for (const [kind, into, get] of [
      [filterKind, filterSettings, () => client.filterSettings.get("account")],
      [policyKind, passwordPolicies, () => client.passwordPolicies.get("account")],
      [reportKind, reportSettings, () => client.reportSettings.get("account")],
    ] as const) {
      try {
        considerSingleton(kind, await get(), into as Spec[]);
      } catch (err) {
        // A domain-admin token may not read account-wide settings; the domains are still worth importing.
        const code = (err as { code?: unknown }).code;
        if (code !== "MP_FORBIDDEN") throw err;
        singletons.push({
          kind: kind.name as SingletonOutcome["kind"],
          scope: "account",
          state: "default",
          imported: false,
          set: false,
          skipped: code,
        });
      }
    }
    const account = singletons.filter((s) => s.scope === "account");
    progress(
      `account: ${account
        .map(
          (s) =>
            `${SINGLETON_WORDS[s.kind]} ${s.skipped ? `not readable (${s.skipped})` : s.state === "changed" ? "changed" : "at defaults"}`,
        )
        .join(", ")}`,
    );
  }

  // Access rules live at the account level: read them all (not as a domain admin, who manages none)
  // and keep, with --domain, only those of the chosen domains and their users.
  if (who.role !== "domain-admin") {
    const chosen = new Set(domains.map((d) => String(d["name"])));
    const limited = options.domains !== undefined && options.domains.length > 0;
    const listed = await listAll((c) =>
      client.accessRules.list({ limit: PAGE, ...(c ? { cursor: c } : {}) }),
    );
    for (const o of listed) {
      const spec = specOf(accessRuleKind, o);
      const scope = String(spec["scope"]);
      const domain = scope === "account" ? null : scope.slice(scope.lastIndexOf("@") + 1);
      if (limited && (domain === null || !chosen.has(domain))) continue;
      accessRules.push(spec);
    }
    progress(`access rules: ${count(accessRules.length, "rule")}`);
  }

  const order = new Map(domains.map((d, i) => [String(d["name"]), i]));
  const domainRank = (domain: string) => order.get(domain) ?? -1;
  const at = (address: unknown) => String(address).slice(String(address).lastIndexOf("@") + 1);
  const byDomainThen =
    (domainOf: (s: Spec) => string, ...keys: ((s: Spec) => string | number)[]) =>
    (x: Spec, y: Spec) => {
      const d = domainRank(domainOf(x)) - domainRank(domainOf(y));
      if (d !== 0) return d;
      for (const key of keys) {
        const a = key(x);
        const b = key(y);
        if (a !== b)
          return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
      }
      return 0;
    };
  // Account scope first (it is the default the domains refine), then domains in manifest order.
  const scopeOrder = (s: Spec) => (s["scope"] === "account" ? "" : String(s["scope"]));

  const manifest = {
    apiVersion: TENANCY_API_VERSION,
    domains,
    // Routes in the order they are tried.
    routes: routes.sort(
      byDomainThen(
        (s) => String(s["domain"]),
        (s) => Number(s["priority"]),
        (s) => routeName(s as { host: string; port: number }),
      ),
    ),
    aliases: aliases.sort(
      byDomainThen(
        (s) => at(s["address"]),
        (s) => String(s["address"]),
      ),
    ),
    senderLists: senderLists.sort(
      byDomainThen(
        (s) => String(s["domain"]),
        (s) => String(s["kind"]),
        (s) => String(s["target"]),
      ),
    ),
    filterSettings: filterSettings.sort(byDomainThen(scopeOrder)),
    passwordPolicies: passwordPolicies.sort(byDomainThen(scopeOrder)),
    reportSettings: reportSettings.sort(byDomainThen(scopeOrder)),
    users: users.sort(
      byDomainThen(
        (s) => at(s["address"]),
        (s) => String(s["address"]),
      ),
    ),
    groups: groups.sort(
      byDomainThen(
        (s) => at(s["address"]),
        (s) => String(s["address"]),
      ),
    ),
    // Account rules first, then by domain; a domain's own rule before its users'.
    accessRules: accessRules.sort(
      byDomainThen(
        (s) => (s["scope"] === "account" ? "" : at(s["scope"])),
        (s) => (String(s["scope"]).includes("@") ? 1 : 0),
        (s) => String(s["scope"]),
        (s) => String(s["service"]),
      ),
    ),
  } as unknown as TenancyManifest;
  return { account: who.account, manifest, singletons };
}
