/** The tenancy manifest: a whole tenant's declaration in one document (the YAML manifest's model). */
import { z } from "zod";
import { AccessRuleSpec, accessRuleDomain } from "./access-rule.ts";
import { AliasSpec, aliasDomain } from "./alias.ts";
import { DomainSpec } from "./domain.ts";
import { FilterSettingsSpec } from "./filter-settings.ts";
import { GroupSpec, groupDomain } from "./group.ts";
import { tenancyKinds } from "./kinds.ts";
import { PasswordPolicySpec } from "./password-policy.ts";
import { ReportSettingsSpec } from "./report-settings.ts";
import { RouteSpec } from "./route.ts";
import { SenderListSpec } from "./sender-list.ts";
import { UserSpec, userDomain } from "./user.ts";

/** The manifest format's version. */
export const TENANCY_API_VERSION = "mailplane/v1";

/**
 * A tenancy manifest: arrays of specs per kind. Besides each spec's own rules it checks that every
 * ID appears once and that every object's domain is declared in `domains`.
 * @example TenancyManifest.parse({ domains: [{ name: "example.com" }], users: [{ address: "alice@example.com" }] })
 */
export const TenancyManifest = z
  .strictObject({
    apiVersion: z
      .literal(TENANCY_API_VERSION)
      .default(TENANCY_API_VERSION)
      .describe(`The manifest format; \`${TENANCY_API_VERSION}\`.`),
    domains: z
      .array(DomainSpec)
      .default(() => [])
      .describe("Mail domains."),
    routes: z
      .array(RouteSpec)
      .default(() => [])
      .describe("Destination mail servers per domain."),
    aliases: z
      .array(AliasSpec)
      .default(() => [])
      .describe("Alias addresses: forward, reject or auto-reply."),
    senderLists: z
      .array(SenderListSpec)
      .default(() => [])
      .describe("Sender and recipient allow/block lists."),
    filterSettings: z
      .array(FilterSettingsSpec)
      .default(() => [])
      .describe("Spam-filter settings per scope."),
    passwordPolicies: z
      .array(PasswordPolicySpec)
      .default(() => [])
      .describe("Password policies per scope."),
    users: z
      .array(UserSpec)
      .default(() => [])
      .describe("Mailbox users."),
    groups: z
      .array(GroupSpec)
      .default(() => [])
      .describe("Group addresses and their members."),
    accessRules: z
      .array(AccessRuleSpec)
      .default(() => [])
      .describe("Which networks may sign in, per service, for the account, a domain or a user."),
    reportSettings: z
      .array(ReportSettingsSpec)
      .default(() => [])
      .describe("Periodic domain reports and quarantine digests per scope."),
  })
  .superRefine((manifest, ctx) => {
    const declared = new Set(manifest.domains.map((d) => d.name));
    const aliasDomains = new Map<string, string>();
    manifest.domains.forEach((d, i) => {
      d.aliases.forEach((alias, j) => {
        const owner = aliasDomains.get(alias);
        // A mail domain reaches one Domain; the platform refuses the second claim too (409).
        if (owner !== undefined && owner !== d.name) {
          ctx.addIssue({
            code: "custom",
            path: ["domains", i, "aliases", j],
            message: `is already a domain alias of ${owner}`,
          });
        } else {
          aliasDomains.set(alias, d.name);
        }
      });
    });
    for (const kind of tenancyKinds) {
      const items = manifest[kind.plural as keyof typeof manifest] as unknown as object[];
      const seen = new Map<string, number>();
      items.forEach((item, i) => {
        const id = kind.id(item as never);
        const first = seen.get(id);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [kind.plural, i],
            message: `duplicate ${kind.name} ${id} (also at ${kind.plural}[${first}])`,
          });
        } else {
          seen.set(id, i);
        }
      });
    }
    manifest.domains.forEach((d, i) => {
      const owner = aliasDomains.get(d.name);
      if (owner !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["domains", i, "name"],
          message: `is already a domain alias of ${owner}`,
        });
      }
    });
    const requireDomain = (domain: string, path: (string | number)[]) => {
      if (declared.has(domain)) return;
      const owner = aliasDomains.get(domain);
      ctx.addIssue({
        code: "custom",
        path,
        message:
          owner === undefined
            ? `domain ${domain} is not declared in domains`
            : `${domain} is a domain alias of ${owner}; declare this for ${owner}`,
      });
    };
    manifest.routes.forEach((r, i) => {
      requireDomain(r.domain, ["routes", i, "domain"]);
    });
    manifest.aliases.forEach((a, i) => {
      requireDomain(aliasDomain(a), ["aliases", i, "address"]);
    });
    manifest.senderLists.forEach((l, i) => {
      requireDomain(l.domain, ["senderLists", i, "domain"]);
    });
    manifest.filterSettings.forEach((f, i) => {
      if (f.scope !== "account") requireDomain(f.scope, ["filterSettings", i, "scope"]);
    });
    manifest.passwordPolicies.forEach((p, i) => {
      if (p.scope !== "account") requireDomain(p.scope, ["passwordPolicies", i, "scope"]);
    });
    manifest.reportSettings.forEach((r, i) => {
      if (r.scope !== "account") requireDomain(r.scope, ["reportSettings", i, "scope"]);
    });
    manifest.users.forEach((u, i) => {
      requireDomain(userDomain(u), ["users", i, "address"]);
    });
    manifest.groups.forEach((g, i) => {
      requireDomain(groupDomain(g), ["groups", i, "address"]);
    });
    manifest.accessRules.forEach((r, i) => {
      const domain = accessRuleDomain(r);
      if (domain !== null) requireDomain(domain, ["accessRules", i, "scope"]);
    });
  })
  .meta({
    id: "TenancyManifest",
    title: "mailplane tenancy manifest",
    description:
      "A tenant's whole declaration: domains, routes, aliases, sender lists, filter settings, password policies, users, groups, access rules and report settings.",
  });

export type TenancyManifestInput = z.input<typeof TenancyManifest>;
export type TenancyManifest = z.output<typeof TenancyManifest>;
