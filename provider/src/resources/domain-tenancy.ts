/** The DomainTenancy resource: one domain's whole tenancy as one Pulumi resource, applied in one transaction. */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import {
  DomainTenancyDocument,
  type DomainTenancyDocumentInput,
  type TenancyPlan,
} from "../../../sdk/src/models/domain-tenancy.ts";
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
import {
  decodeState,
  documentOf,
  encodeState,
  KEYED,
  KEYED_LISTS,
  type Keyed,
  type Props,
  passwordsOf,
  propertyPath,
  propsOf,
  withoutPasswords,
  withPasswords,
} from "./domain-tenancy-state.ts";

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
  if (Object.keys(olds).length > 0 && isDeepStrictEqual(withoutPasswords(tenancyOf(olds)), bare)) return [];
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

/** The tenancy (working form, passwords in their users) of a state's properties, bookkeeping left out. */
function tenancyOf(state: Props): Props {
  const { __provider: _p, adopt: _a, etag: _e, [CONNECTION]: _c, ...rest } = state;
  return decodeState(rest);
}

/** The bookkeeping that travels beside the tenancy in the state: `adopt` and the connection. */
function bookkeepingOf(state: Props): Props {
  const kept: Props = {};
  if (state.adopt !== undefined) kept.adopt = state.adopt;
  if (state[CONNECTION] !== undefined) kept[CONNECTION] = state[CONNECTION];
  return kept;
}

/** What the runtime runs for a {@link DomainTenancy}. */
export const domainTenancyProvider: ResourceImpl = {
  async check(olds, news) {
    const { passwords, [CONNECTION]: connection } = news as Props;
    // The connection's own rules (a URL; an endpoint brings its own token), never quoting the token.
    const connectionFailures = checkConnection(connection);
    if (connectionFailures.length > 0) return { inputs: news, failures: connectionFailures };
    // Passwords are checked by the platform against the policy in force; unknown ones (preview) pass.
    const bare = withoutPasswords(tenancyOf(news as Props));
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
    const inputs: Props = { ...encodeState(normalised), ...bookkeepingOf(news as Props) };
    // As the program gave them (each a secret; the whole map unknown while it is being computed).
    if (passwords !== undefined) inputs.passwords = passwords;
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
    // Compared as tenancies, not as state texts: a state written by an earlier release (a tree per
    // object) holding the same tenancy is no change. The engine shows what changes, object by object
    // and field by field (it decodes each object's JSON text); a new name frees the old one first.
    const changed =
      containsUnknown(news) ||
      !isDeepStrictEqual(
        { ...tenancyOf(olds as Props), ...bookkeepingOf(olds as Props) },
        { ...tenancyOf(news as Props), ...bookkeepingOf(news as Props) },
      );
    return { changes: changed || replaces.length > 0, replaces, deleteBeforeReplace: renamed };
  },

  async create(inputs) {
    const adopt = (inputs as Props).adopt;
    const props = tenancyOf(inputs as Props);
    const domain = String(props.domain.name);
    const client = await clientFor(connectionOf(inputs as Props));
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
      return {
        id: domain,
        outs: { ...encodeState(props), ...bookkeepingOf(inputs as Props), etag: plan.etag },
      };
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
    const props = tenancyOf(news as Props);
    // Only new passwords travel: the platform would verify each unchanged one (argon2id) for nothing.
    const before = passwordsOf(tenancyOf(olds as Props));
    const fresh = Object.fromEntries(
      Object.entries(passwordsOf(props)).filter(([address, password]) => password !== before[address]),
    );
    const sent = withPasswords(withoutPasswords(props), fresh);
    try {
      const client = await clientFor(connectionOf(news as Props));
      const plan = await client.request<TenancyPlan>("PUT", pathOf(id), {
        body: documentOf(sent),
        ifMatch: String((olds as Props).etag),
        ...stampOption(),
      });
      return { outs: { ...encodeState(props), ...bookkeepingOf(news as Props), etag: plan.etag } };
    } catch (err) {
      throw describeFailure("update", id, props, err);
    }
  },

  async read(id, state = {}) {
    const old = tenancyOf(state as Props);
    const client = await clientFor(connectionOf(state as Props));
    let live: { etag: string; document: Props };
    try {
      live = await client.request("GET", pathOf(id));
    } catch (err) {
      if (errorCode(err) === "MP_NOT_FOUND") return { id: "", props: {} };
      throw describeFailure("read", id, old, err);
    }
    // Passwords are write-only: what the state holds is kept for the users that still exist.
    const current = withPasswords(propsOf(DomainTenancyDocument.parse(live.document)), passwordsOf(old));
    const kept: Props = { ...encodeState(current), ...bookkeepingOf(state as Props) };
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
    const addresses = Object.keys(props.users);
    // The state's form: each object one JSON text (`check` normalises them), the passwords apart.
    const state: Props = encodeState(withoutPasswords(props));
    // Each password a secret of its own, by address, and only for users of the document: the map's
    // keys stay readable in the state and a preview names the user whose password changes.
    const secrets = (passwords: Record<string, unknown>): Props => {
      const out: Props = {};
      for (const address of addresses) {
        const password = passwords[address] ?? declared[address];
        if (password !== undefined && password !== null) out[address] = pulumi.secret(password);
      }
      return out;
    };
    // The passwords input is usually one secret Output (stack config): its entries are known only
    // when it resolves. Unsecret: the map holds nothing but the passwords, each re-wrapped above.
    state.passwords =
      args.passwords === undefined
        ? secrets({})
        : pulumi.unsecret(pulumi.output(args.passwords)).apply((all) => secrets(all ?? {}));
    if (args.connection !== undefined) state[CONNECTION] = pulumi.secret(args.connection);
    super(
      createShim("DomainTenancy"),
      name,
      { ...state, ...(args.adopt === undefined ? {} : { adopt: args.adopt }), etag: undefined },
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
