/** The Tenancy component: a whole tenant declared in one YAML manifest, validated before anything is applied. */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { aliasDomain } from "../../sdk/src/models/alias.ts";
import type { DomainTenancyDocumentInput } from "../../sdk/src/models/domain-tenancy.ts";
import { groupDomain } from "../../sdk/src/models/group.ts";
import { tenancyKinds } from "../../sdk/src/models/kinds.ts";
import { TENANCY_API_VERSION, TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import { userDomain } from "../../sdk/src/models/user.ts";
import type { ConnectionArgs } from "./lib/connection.ts";
import { ManifestError, type ManifestRule, parseManifest } from "./manifest/load-manifest.ts";
import { AccessRule } from "./resources/access-rule.ts";
import { Alias } from "./resources/alias.ts";
import { Domain } from "./resources/domain.ts";
import { DomainTenancy } from "./resources/domain-tenancy.ts";
import { FilterSettings } from "./resources/filter-settings.ts";
import { Group } from "./resources/group.ts";
import { PasswordPolicy } from "./resources/password-policy.ts";
import { ReportSettings } from "./resources/report-settings.ts";
import { Route } from "./resources/route.ts";
import { SenderList } from "./resources/sender-list.ts";
import { User } from "./resources/user.ts";

/** The inputs of a {@link Tenancy}. */
export interface TenancyArgs {
  /** Path of the YAML manifest, relative to the program's directory. */
  file: string;
  /**
   * User passwords by address, e.g. `config.requireSecretObject("passwords")`. Keep them in stack
   * config (`pulumi config set --secret --path 'passwords["alice@example.com"]' …`), not in the
   * manifest: a password written in the manifest is accepted, with a warning, because it lands in git.
   */
  passwords?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Take over objects that already exist on the platform (see each resource's `adopt`). Default false. */
  adopt?: boolean;
  /**
   * `per-object` (default): a resource per object, for per-object options (protect, ignoreChanges,
   * dependsOn across stacks). `bulk`: one {@link DomainTenancy} per domain, applied in one transaction
   * on the platform — for tenancies of thousands of objects, whose per-object state makes `pulumi up`
   * slow (see docs/scale.md). Account-wide settings stay resources of their own in both modes.
   */
  mode?: "per-object" | "bulk";
  /**
   * Where every child lives instead of the stack's `mailplane:*` config (see each resource's
   * `connection`; a secret), e.g. the tenant's own new ApiToken. Default: the stack's settings.
   */
  connection?: pulumi.Input<ConnectionArgs>;
}

/** The manifest's JSON Schema, shipped in the package beside the code (`mailplane/schema/*`). */
function tenancySchema(): object {
  const require = createRequire(import.meta.url);
  return JSON.parse(readFileSync(require.resolve("mailplane/schema/tenancy.schema.json"), "utf8"));
}

/** The model's rules JSON Schema cannot express (duplicate IDs, undeclared domains, tag < quarantine…). */
const modelRules: ManifestRule = (manifest) => {
  const parsed = TenancyManifest.safeParse(manifest);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    // One problem per unknown key, at the key, as the schema check reports it.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
    }
    return [{ path, message: issue.message }];
  });
};

/**
 * Reads, validates and normalises a manifest file. Throws {@link ManifestError} listing every problem
 * as `file:line:column path: message`.
 */
export function readTenancyManifest(file: string): TenancyManifest {
  const data = parseManifest(readFileSync(file, "utf8"), file, {
    schema: tenancySchema(),
    rules: [modelRules],
  });
  return TenancyManifest.parse(data);
}

/** The part of a manifest that belongs to one domain, as a DomainTenancy document. */
function domainDocument(manifest: TenancyManifest, domain: string): DomainTenancyDocumentInput {
  return {
    apiVersion: TENANCY_API_VERSION,
    domains: manifest.domains.filter((d) => d.name === domain),
    routes: manifest.routes.filter((r) => r.domain === domain),
    aliases: manifest.aliases.filter((a) => aliasDomain(a) === domain),
    senderLists: manifest.senderLists.filter((l) => l.domain === domain),
    filterSettings: manifest.filterSettings.filter((f) => f.scope === domain),
    passwordPolicies: manifest.passwordPolicies.filter((p) => p.scope === domain),
    // Passwords come from the passwords input (or, with a warning, the manifest) as secrets.
    users: manifest.users.filter((u) => userDomain(u) === domain),
    groups: manifest.groups.filter((g) => groupDomain(g) === domain),
    reportSettings: manifest.reportSettings.filter((r) => r.scope === domain),
  };
}

type Spec<K extends (typeof tenancyKinds)[number]> = z.output<K["spec"]>;

/**
 * A tenant declared in one YAML manifest (schema: `schema/tenancy.schema.json`): domains, routes,
 * aliases, sender lists, filter settings, password policies, users, groups and access rules become child resources named
 * `<component>-<id>` (`acme-example.com`, `acme-info@example.com`; a stack made when they were named
 * by the bare ID is carried over by aliases, not replaced). The manifest is validated as a whole
 * first; on any problem the program stops with every problem listed (file, line, path, message) and
 * no resource is registered, so nothing is applied.
 *
 * @example
 * ```ts
 * const config = new pulumi.Config();
 * new mailplane.Tenancy("acme", {
 *   file: `tenancy/${pulumi.getStack()}.yaml`,
 *   passwords: config.requireSecretObject("passwords"),
 * });
 * ```
 */
export class Tenancy extends pulumi.ComponentResource {
  /** The domains, by name. */
  readonly domains: Record<string, Domain>;
  /** The users, by address. */
  readonly users: Record<string, User>;
  /** Every child resource, by ID. */
  readonly resources: Record<string, pulumi.CustomResource>;
  /** Bulk mode: each domain's DomainTenancy, by domain name (empty in per-object mode). */
  readonly tenancies: Record<string, DomainTenancy>;

  constructor(name: string, args: TenancyArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything, the component included: a bad manifest leaves no trace.
    let manifest: TenancyManifest;
    try {
      manifest = readTenancyManifest(args.file);
    } catch (err) {
      // RunError ends the program with the message alone (no stack trace): the problems are the point.
      if (err instanceof ManifestError) throw new pulumi.RunError(err.message);
      throw err;
    }
    super("mailplane:index:Tenancy", name, {}, opts);
    this.domains = {};
    this.users = {};
    this.resources = {};
    this.tenancies = {};
    const adopt = args.adopt ?? false;
    if (args.mode === "bulk") {
      for (const spec of manifest.users) {
        if (spec.password !== undefined) {
          pulumi.log.warn(
            `${args.file}: users "${spec.address}" has a password in the manifest; use the passwords input`,
            this,
          );
        }
      }
      for (const domain of manifest.domains) {
        const tenancy = new DomainTenancy(
          `${name}-${domain.name}`,
          {
            document: domainDocument(manifest, domain.name),
            ...(args.passwords === undefined ? {} : { passwords: args.passwords }),
            ...(adopt ? { adopt } : {}),
            // The component's connection, as every per-object child gets it.
            ...(args.connection === undefined ? {} : { connection: args.connection }),
          },
          { parent: this },
        );
        this.tenancies[domain.name] = tenancy;
        this.resources[domain.name] = tenancy;
      }
      // What is left for resources of their own: the account-wide settings and the access rules.
      const accountWide = <T extends { scope: string }>(items: T[]) =>
        items.filter((i) => i.scope === "account");
      manifest = {
        ...manifest,
        domains: [],
        routes: [],
        aliases: [],
        senderLists: [],
        users: [],
        groups: [],
        filterSettings: accountWide(manifest.filterSettings),
        passwordPolicies: accountWide(manifest.passwordPolicies),
        reportSettings: accountWide(manifest.reportSettings),
      };
    }
    // Every child reaches the platform the same way: the component's connection, or the stack's.
    const common = { adopt, ...(args.connection === undefined ? {} : { connection: args.connection }) };
    const parent = { parent: this };
    // Children are named `<component>-<id>` (Pulumi's convention: names stay unique when a program
    // declares two tenancies). Earlier versions named them by the bare ID; the alias carries such a
    // stack's resources over to the new names instead of replacing them.
    const child = (id: string) => ({ name: `${name}-${id}`, opts: { ...parent, aliases: [{ name: id }] } });
    const domainOf = (domain: string) => (this.domains[domain] ? { dependsOn: [this.domains[domain]] } : {});

    for (const spec of manifest.domains) {
      const named = child(spec.name);
      const domain = new Domain(named.name, { ...spec, ...common }, named.opts);
      this.domains[spec.name] = domain;
      this.resources[spec.name] = domain;
    }
    const add = <R extends pulumi.CustomResource>(id: string, resource: R) => {
      this.resources[id] = resource;
      return resource;
    };
    const [
      ,
      routeKind,
      aliasKind,
      senderListKind,
      filterKind,
      policyKind,
      userKind,
      groupKind,
      ruleKind,
      reportKind,
    ] = tenancyKinds;
    const policies: pulumi.Resource[] = [];
    for (const spec of manifest.passwordPolicies) {
      const id = policyKind.id(spec as Spec<typeof policyKind>);
      const scope = spec.scope === "account" ? {} : domainOf(spec.scope);
      const named = child(id);
      policies.push(
        add(id, new PasswordPolicy(named.name, { ...spec, ...common }, { ...named.opts, ...scope })),
      );
    }
    for (const spec of manifest.filterSettings) {
      const id = filterKind.id(spec as Spec<typeof filterKind>);
      const scope = spec.scope === "account" ? {} : domainOf(spec.scope);
      const named = child(id);
      add(id, new FilterSettings(named.name, { ...spec, ...common }, { ...named.opts, ...scope }));
    }
    for (const spec of manifest.routes) {
      const id = routeKind.id(spec as Spec<typeof routeKind>);
      const named = child(id);
      add(id, new Route(named.name, { ...spec, ...common }, { ...named.opts, ...domainOf(spec.domain) }));
    }
    for (const spec of manifest.senderLists) {
      const id = senderListKind.id(spec as Spec<typeof senderListKind>);
      const named = child(id);
      add(
        id,
        new SenderList(named.name, { ...spec, ...common }, { ...named.opts, ...domainOf(spec.domain) }),
      );
    }
    const passwords = args.passwords === undefined ? undefined : pulumi.output(args.passwords);
    for (const spec of manifest.users) {
      const id = userKind.id(spec as Spec<typeof userKind>);
      if (spec.password !== undefined) {
        pulumi.log.warn(
          `${args.file}: users "${id}" has a password in the manifest; use the passwords input`,
          this,
        );
      }
      const password =
        spec.password ??
        (passwords === undefined ? undefined : passwords.apply((all) => all[id] as string | undefined));
      const domain = id.slice(id.indexOf("@") + 1);
      const named = child(id);
      const user = new User(
        named.name,
        { ...spec, password, ...common },
        // Policies first: a password is checked against the policy in force when it is set.
        { ...named.opts, dependsOn: [...(this.domains[domain] ? [this.domains[domain]] : []), ...policies] },
      );
      this.users[id] = add(id, user);
    }
    for (const spec of manifest.aliases) {
      const id = aliasKind.id(spec as Spec<typeof aliasKind>);
      const domain = id.slice(id.indexOf("@") + 1);
      // Aliases may forward to the manifest's users; create them after, delete them first.
      const named = child(id);
      add(
        id,
        new Alias(
          named.name,
          { ...spec, ...common },
          {
            ...named.opts,
            dependsOn: [
              ...Object.values(this.users),
              ...(this.domains[domain] ? [this.domains[domain]] : []),
            ],
          },
        ),
      );
    }
    for (const spec of manifest.groups) {
      const id = groupKind.id(spec as Spec<typeof groupKind>);
      const domain = id.slice(id.indexOf("@") + 1);
      // Members are usually the manifest's users: create groups after them, delete them first.
      const named = child(id);
      add(
        id,
        new Group(
          named.name,
          { ...spec, ...common },
          {
            ...named.opts,
            dependsOn: [
              ...Object.values(this.users),
              ...(this.domains[domain] ? [this.domains[domain]] : []),
            ],
          },
        ),
      );
    }
    for (const spec of manifest.accessRules) {
      const id = ruleKind.id(spec as Spec<typeof ruleKind>);
      // After the users and domains (bulk mode: their DomainTenancy) it names; deleted before them.
      const named = child(id);
      add(
        id,
        new AccessRule(
          named.name,
          { ...spec, ...common },
          {
            ...named.opts,
            dependsOn: [
              ...Object.values(this.domains),
              ...Object.values(this.users),
              ...Object.values(this.tenancies),
            ],
          },
        ),
      );
    }
    for (const spec of manifest.reportSettings) {
      const id = reportKind.id(spec as Spec<typeof reportKind>);
      const scope = spec.scope === "account" ? {} : domainOf(spec.scope);
      const named = child(id);
      add(
        id,
        new ReportSettings(
          named.name,
          { ...spec, ...common },
          {
            ...named.opts,
            ...scope,
            dependsOn: [...(scope.dependsOn ?? []), ...Object.values(this.tenancies)],
          },
        ),
      );
    }
    this.registerOutputs({ domains: Object.keys(this.domains), users: Object.keys(this.users) });
  }
}
