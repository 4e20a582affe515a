/** The DomainTenancy resource: one domain's whole tenancy as one Pulumi resource, applied in one transaction. */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { toDotPath } from "../../../sdk/src/errors.ts";
import { AliasSpec } from "../../../sdk/src/models/alias.ts";
import {
  DomainTenancyDocument,
  type DomainTenancyDocumentInput,
  type TenancyPlan,
} from "../../../sdk/src/models/domain-tenancy.ts";
import { GroupSpec } from "../../../sdk/src/models/group.ts";
import { RouteSpec, routeName } from "../../../sdk/src/models/route.ts";
import { SenderListSpec, senderListName } from "../../../sdk/src/models/sender-list.ts";
import { TENANCY_API_VERSION } from "../../../sdk/src/models/tenancy.ts";
import { UserSpec } from "../../../sdk/src/models/user.ts";
import { clientFor } from "../lib/api.ts";
import type { ConnectionSettings } from "../lib/config.ts";
import {
  CONNECTION,
  type ConnectionArgs,
  checkConnection,
  connectionOf,
  movesElsewhere,
} from "../lib/connection.ts";
import { ANSWERED, errorCode, type ResourceImpl } from "../lib/lifecycle.ts";
import { TYPE_MODULE } from "../lib/resource.ts";
import { createShim } from "../lib/shim.ts";
import { stampOption } from "../lib/stamp.ts";
import { containsUnknown } from "../lib/unknown.ts";

type Props = Record<string, any>;

/**
 * The document's lists held as maps by each object's name, so a preview names the object that
 * changes (`users["ana@example.com"].enabled: true => false`) rather than a list index.
 */
const KEYED = {
  routes: { spec: RouteSpec, key: (s: Props) => routeName(s as never) },
  aliases: { spec: AliasSpec, key: (s: Props) => String(s.address) },
  senderLists: { spec: SenderListSpec, key: (s: Props) => senderListName(s as never) },
  users: { spec: UserSpec, key: (s: Props) => String(s.address) },
  groups: { spec: GroupSpec, key: (s: Props) => String(s.address) },
} as const;
type Keyed = keyof typeof KEYED;
const KEYED_LISTS = Object.keys(KEYED) as Keyed[];

/** The singletons: the document's one-element lists, held as a single object. */
const SINGLE = {
  filterSettings: "filterSettings",
  passwordPolicies: "passwordPolicy",
  reportSettings: "reportSettings",
} as const;

/** The state's properties from a document: `domain`, keyed maps, singletons (absent ones left out). */
function propsOf(document: Props): Props {
  const props: Props = { domain: document.domains?.[0] };
  for (const list of KEYED_LISTS) {
    const map: Props = {};
    for (const item of (document[list] ?? []) as Props[]) map[KEYED[list].key(item)] = item;
    props[list] = map;
  }
  for (const [plural, single] of Object.entries(SINGLE)) {
    const item = (document[plural] ?? [])[0];
    if (item !== undefined) props[single] = item;
  }
  return props;
}

/** The API document from the state's properties (lists in map order). */
function documentOf(props: Props): Props {
  const document: Props = { apiVersion: TENANCY_API_VERSION, domains: props.domain ? [props.domain] : [] };
  for (const list of KEYED_LISTS) document[list] = Object.values(props[list] ?? {});
  for (const [plural, single] of Object.entries(SINGLE))
    document[plural] = props[single] ? [props[single]] : [];
  return document;
}

/**
 * A document path (`users[3].enabled`, as the model and the API report it) as the property path of
 * this resource (`users["ana@example.com"].enabled`).
 */
function propertyPath(props: Props, path: readonly PropertyKey[]): string {
  const [head, index, ...rest] = path.filter((p): p is string | number => typeof p !== "symbol");
  if (head === "domains") return toDotPath(["domain", ...rest]);
  if (typeof head === "string" && head in SINGLE) {
    return toDotPath([SINGLE[head as keyof typeof SINGLE], ...rest]);
  }
  if (typeof head === "string" && KEYED_LISTS.includes(head as Keyed) && typeof index === "number") {
    const key = Object.keys(props[head] ?? {})[index];
    return toDotPath([head, key ?? index, ...rest]);
  }
  return toDotPath([head ?? "", ...(index === undefined ? [] : [index]), ...rest]);
}

/** The users' passwords of `props`, by address (plain here: the provider process holds secrets unwrapped). */
function passwordsOf(props: Props): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [address, user] of Object.entries((props.users ?? {}) as Props)) {
    // A user the passwords input has no entry for arrives with a null (secret) password: none.
    if (user?.password !== undefined && user.password !== null) out[address] = user.password;
  }
  return out;
}

/** `props` with its users' passwords left out (copies: the engine's objects are not touched). */
function withoutPasswords(props: Props): Props {
  const users: Props = {};
  for (const [address, user] of Object.entries((props.users ?? {}) as Props)) {
    const { password: _password, ...rest } = user as Props;
    users[address] = rest;
  }
  return { ...props, users };
}

/** `props` with each user's password set from `passwords` where the user still exists. */
function withPasswords(props: Props, passwords: Record<string, unknown>): Props {
  const users: Props = {};
  for (const [address, user] of Object.entries((props.users ?? {}) as Props)) {
    users[address] = passwords[address] === undefined ? user : { ...user, password: passwords[address] };
  }
  return { ...props, users };
}

/** An API failure as a Pulumi error: each field error at this resource's property path. */
function describeFailure(action: string, domain: string, props: Props, err: unknown): Error {
  const code = errorCode(err);
  const fields = (err as { errors?: { path: (string | number)[]; message: string }[] }).errors ?? [];
  const lines = fields.map((f) => `  ${propertyPath(props, f.path)}: ${f.message}`);
  const hint =
    code === "MP_PRECONDITION_FAILED"
      ? "\n  the tenancy changed outside Pulumi since it was last read: run `pulumi refresh` (or `pulumi up --refresh`) to see how, then `pulumi up` again"
      : "";
  const message = err instanceof Error ? err.message : String(err);
  const text = `mailplane: ${action} DomainTenancy ${domain} failed${code ? ` (${code})` : ""}: ${message}${lines.length ? `\n${lines.join("\n")}` : ""}${hint}`;
  return Object.assign(new Error(text), { code });
}

const pathOf = (domain: string) => `/v1/domains/${encodeURIComponent(domain)}/tenancy`;

/** The answers of a plan that say the document cannot be applied (anything else: the apply will tell). */
const REFUSALS = new Set(["MP_VALIDATION_FAILED", "MP_DOMAIN_TAKEN", "MP_CONFLICT"]);

/**
 * What only the platform can judge (names held elsewhere, route egress, …), asked of its plan for a
 * new or changed document, so a preview names each object and the reason as the apply would; the
 * passwords are not sent (the apply checks them against the policy). A no-op preview asks nothing,
 * and a platform that cannot be asked leaves it to the apply.
 */
async function plannedFailures(
  olds: Props,
  bare: Props,
  connection: ConnectionSettings | undefined,
): Promise<{ property: string; reason: string }[]> {
  const { __provider: _p, adopt: _a, etag: _e, [CONNECTION]: _c, ...before } = olds;
  if (Object.keys(before).length > 0 && isDeepStrictEqual(withoutPasswords(before), bare)) return [];
  const domain = String(bare.domain?.name);
  try {
    const client = await clientFor(connection);
    await client.request("POST", `${pathOf(domain)}/plan`, {
      body: documentOf(bare),
      timeoutMs: 30_000,
      retry: { maxRetries: 0 },
    });
    return [];
  } catch (err) {
    if (!REFUSALS.has(errorCode(err) ?? "")) return [];
    const fields = (err as { errors?: { path: (string | number)[]; message: string }[] }).errors ?? [];
    return fields.map((f) => ({ property: propertyPath(bare, f.path), reason: f.message }));
  }
}

/** What the runtime runs for a {@link DomainTenancy}. */
export const domainTenancyProvider: ResourceImpl = {
  async check(olds, news) {
    const { __provider: _p, adopt, [CONNECTION]: connection, ...declared } = news as Props;
    // The connection's own rules (a URL; an endpoint brings its own token), never quoting the token.
    const connectionFailures = checkConnection(connection);
    if (connectionFailures.length > 0) return { inputs: news, failures: connectionFailures };
    const passwords = passwordsOf(declared);
    // Passwords are checked by the platform against the policy in force; unknown ones (preview) pass.
    const bare = withoutPasswords(declared);
    if (containsUnknown(bare)) return { inputs: news, failures: [] };
    const parsed = DomainTenancyDocument.safeParse(documentOf(bare));
    if (!parsed.success) {
      return {
        inputs: news,
        failures: parsed.error.issues.map((issue) => ({
          property: propertyPath(bare, issue.path),
          reason: issue.message,
        })),
      };
    }
    const normalised = propsOf(parsed.data);
    const inputs: Props = withPasswords(normalised, passwords);
    if (adopt !== undefined) inputs.adopt = adopt;
    if (connection !== undefined) inputs[CONNECTION] = connection;
    // A connection not known yet (a token this run creates) cannot be asked; the apply judges then.
    const failures = containsUnknown(connection)
      ? []
      : await plannedFailures(olds as Props, normalised, connectionOf(inputs));
    return { inputs, failures };
  },

  async diff(_id, olds, news) {
    const name = (news as Props).domain?.name;
    const renamed = containsUnknown(name) || (olds as Props).domain?.name !== name;
    // Another endpoint or account holds another tenancy: it is created there, this one deleted here.
    const moved = movesElsewhere(olds as Props, news as Props);
    const replaces = [...(renamed ? ["domain"] : []), ...(moved ? [CONNECTION] : [])];
    // `changes: undefined`: the engine compares old and new inputs itself, object by object and field
    // by field (maps keyed by name), and shows each change; a new name must free the old one first.
    return { changes: undefined, replaces, deleteBeforeReplace: renamed };
  },

  async create(inputs) {
    const { __provider: _p, adopt, ...props } = inputs as Props;
    const domain = String(props.domain.name);
    const client = await clientFor(connectionOf(props));
    // One request: the platform creates the tenancy, or refuses (412) and leaves an existing domain as
    // it is (only `adopt` takes one over). When no answer came (after the client's own retries), the
    // same request once more, under the same Idempotency-Key, learns what happened: the first
    // attempt's answer replayed, a 412, or the apply done now; so a lost answer is never an orphan.
    const options = adopt === true ? {} : { ifNoneMatch: "*" as const, idempotencyKey: randomUUID() };
    const put = () =>
      client.request<TenancyPlan>("PUT", pathOf(domain), {
        body: documentOf(props),
        ...options,
        ...stampOption(),
      });
    try {
      const plan = await put().catch((err: unknown) => {
        if (ANSWERED.has(errorCode(err) ?? "")) throw err;
        return put();
      });
      return { id: domain, outs: { ...props, ...(adopt === undefined ? {} : { adopt }), etag: plan.etag } };
    } catch (err) {
      if (adopt !== true && errorCode(err) === "MP_PRECONDITION_FAILED") {
        throw new Error(
          `mailplane: domain ${domain} already exists; set \`adopt: true\` on the DomainTenancy to take it over (pulumi import cannot work for dynamic providers). If an interrupted \`pulumi up\` created it, adopting it records it without changing it.`,
        );
      }
      throw describeFailure("create", domain, props, err);
    }
  },

  async update(id, olds, news) {
    const { __provider: _p, adopt, ...props } = news as Props;
    // Only new passwords travel: the platform would verify each unchanged one (argon2id) for nothing.
    const before = passwordsOf(olds as Props);
    const fresh = Object.fromEntries(
      Object.entries(passwordsOf(props)).filter(([address, password]) => password !== before[address]),
    );
    const sent = withPasswords(withoutPasswords(props), fresh);
    try {
      const client = await clientFor(connectionOf(props));
      const plan = await client.request<TenancyPlan>("PUT", pathOf(id), {
        body: documentOf(sent),
        ifMatch: String((olds as Props).etag),
        ...stampOption(),
      });
      return { outs: { ...props, ...(adopt === undefined ? {} : { adopt }), etag: plan.etag } };
    } catch (err) {
      throw describeFailure("update", id, props, err);
    }
  },

  async read(id, props = {}) {
    const { etag: _etag, adopt, __provider: _p, [CONNECTION]: connection, ...old } = props as Props;
    const client = await clientFor(connectionOf(props as Props));
    let live: { etag: string; document: Props };
    try {
      live = await client.request("GET", pathOf(id));
    } catch (err) {
      if (errorCode(err) === "MP_NOT_FOUND") return { id: "", props: {} };
      throw describeFailure("read", id, props as Props, err);
    }
    // Passwords are write-only: what the state holds is kept for the users that still exist.
    const current = withPasswords(propsOf(DomainTenancyDocument.parse(live.document)), passwordsOf(old));
    const kept: Props = { ...current };
    if (adopt !== undefined) kept.adopt = adopt;
    if (connection !== undefined) kept[CONNECTION] = connection;
    const outs = { ...kept, etag: live.etag };
    return isDeepStrictEqual(current, old) ? { id, props: outs } : { id, props: outs, inputs: kept };
  },

  async delete(id, props) {
    try {
      const client = await clientFor(connectionOf(props as Props));
      await client.request("DELETE", pathOf(id));
    } catch (err) {
      if (errorCode(err) === "MP_NOT_FOUND") return;
      throw describeFailure("delete", id, {}, err);
    }
  },
};

/** The inputs of a {@link DomainTenancy}. */
export interface DomainTenancyArgs {
  /**
   * The domain's complete desired state in the manifest format (`mailplane/v1`): exactly one domain,
   * and its routes, aliases, sender lists, users, groups, filter settings, password policy and report
   * settings. Objects of the
   * domain it leaves out are deleted on `up`. Plain data (as read from YAML), not Outputs.
   */
  document: DomainTenancyDocumentInput;
  /**
   * User passwords by address (e.g. `config.requireSecretObject("passwords")`): each is nested into
   * its user as a secret, so the state holds it encrypted. A user without one keeps the password it
   * has (a new one has none until it is set). When this input is not known at preview (it comes
   * from a resource the same `up` creates), the preview shows the users as unknown.
   */
  passwords?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Take over a domain that already exists on the platform instead of failing. Default false. */
  adopt?: boolean;
  /**
   * Where this tenancy lives, instead of the stack's `mailplane:endpoint`, `mailplane:token` and
   * `mailplane:account` (the rules of every resource's `connection`: a secret in the state; an
   * `endpoint` needs its own `token`; moving to another endpoint or account replaces the tenancy,
   * created there and deleted here; a new token for the same place is an update in place).
   * Default: the stack's settings.
   */
  connection?: pulumi.Input<ConnectionArgs>;
}

/**
 * One domain's whole tenancy as one resource: the domain, its routes, aliases, sender lists, users,
 * filter settings, password policy and report settings. `up` applies the whole difference in one transaction on the
 * platform (all or nothing, If-Match on the tenancy's version), so a tenancy of thousands of objects
 * costs one resource in the state instead of thousands. `pulumi preview --diff` shows each changed
 * object and field (`users["ana@example.com"].enabled: true => false`); `refresh` shows drift per
 * object and the next `up` reverts it; `destroy` deletes the domain and everything under it.
 * Use per-object resources instead where one object needs its own options (protect, ignoreChanges,
 * dependsOn across stacks). The resource ID is the domain name; changing it replaces the tenancy.
 *
 * @example
 * ```ts
 * const config = new pulumi.Config();
 * new mailplane.DomainTenancy("example.com", {
 *   document: {
 *     domains: [{ name: "example.com" }],
 *     users: [{ address: "ana@example.com", firstName: "Ana" }],
 *     aliases: [{ address: "info@example.com", action: { type: "forward", to: ["ana@example.com"] } }],
 *   },
 *   passwords: config.requireSecretObject("passwords"),
 * });
 * ```
 */
export class DomainTenancy extends pulumi.dynamic.Resource {
  /** The tenancy's version on the platform (changes whenever any of its objects changes). */
  declare readonly etag: pulumi.Output<string>;

  constructor(name: string, args: DomainTenancyArgs, opts?: pulumi.CustomResourceOptions) {
    const props = propsOf(keyable(args.document));
    // Passwords written in the document (a `passwords` entry wins over them).
    const declared = passwordsOf(props);
    const bare = withoutPasswords(props).users as Props;
    // Each password nested into its user as a secret, and only where there is one: one Output per
    // password, not one per user (Outputs cost the program time and memory; a tenancy has thousands
    // of users and, typically, few passwords in the program). The users map itself stays plain.
    const nest = (passwords: Record<string, unknown>): Props => {
      const users: Props = {};
      for (const [address, user] of Object.entries(bare)) {
        const password = passwords[address] ?? declared[address];
        users[address] = password === undefined ? user : { ...user, password: pulumi.secret(password) };
      }
      return users;
    };
    // The passwords input is usually one secret Output (stack config): its entries are known only
    // when it resolves, so the users map is built then. Unsecret: the map holds no secret but the
    // passwords, each re-wrapped as a secret above (so the rest stays readable in the state).
    props.users =
      args.passwords === undefined
        ? nest({})
        : pulumi.unsecret(pulumi.output(args.passwords)).apply((all) => nest(all ?? {}));
    if (args.connection !== undefined) props[CONNECTION] = pulumi.secret(args.connection);
    super(
      createShim("DomainTenancy"),
      name,
      { ...props, ...(args.adopt === undefined ? {} : { adopt: args.adopt }), etag: undefined },
      // The connection is secret as an output too, whatever the program passed.
      {
        ...opts,
        additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), CONNECTION])],
      },
      TYPE_MODULE,
      "DomainTenancy",
    );
  }
}

/**
 * The document with each keyed list's items named as the model will name them (normalised address,
 * `host:port`, `kind-target`); an item whose key fields the model refuses keeps its raw form, and
 * `check` reports it. Only the key fields are parsed (not the whole item: the program would parse
 * every object twice, here and in `check`, and this runs before anything is sent to the engine).
 */
function keyable(document: DomainTenancyDocumentInput): Props {
  const out: Props = { ...document };
  for (const list of KEYED_LISTS) {
    const shape = (KEYED[list].spec as unknown as { shape: Record<string, z.ZodType> }).shape;
    const fields = KEY_FIELDS[list];
    out[list] = ((document as Props)[list] ?? []).map((item: Props) => {
      const keys: Props = {};
      for (const field of fields) {
        const parsed = shape[field]!.safeParse(item?.[field]);
        if (!parsed.success) return item;
        keys[field] = parsed.data;
      }
      // Key from the normalised fields, but keep the declared item (defaults are added by `check`).
      return { ...item, ...keys };
    });
  }
  return out;
}

/** The fields that name an item of each keyed list (so `Ana@Example.com` and `ana@example.com` are one user). */
const KEY_FIELDS: Record<Keyed, readonly string[]> = {
  routes: ["host", "port"],
  aliases: ["address"],
  senderLists: ["kind", "target"],
  users: ["address"],
  groups: ["address"],
};
