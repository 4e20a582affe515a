/** The Account resource: a tenant, declared by a platform admin; deleting it is refused while it holds domains. */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { Account as AccountObject, AccountSpecInput } from "../../../sdk/src/models/account.ts";
import { accountKind, type KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { clientFor } from "../lib/api.ts";
import type { ConnectionSettings } from "../lib/config.ts";
import { connectionOf } from "../lib/connection.ts";
import { defineProvider, type ObjectApi, type ResourceImpl, type Stored } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of an {@link Account}; types and rules come from the model (`AccountSpec`). */
export interface AccountArgs extends CommonArgs {
  /**
   * The account's slug (key), e.g. `acme`: the model's `id`, named `accountId` here because Pulumi
   * reserves `id` for the resource ID (which is this slug).
   */
  accountId: Arg<AccountSpecInput["id"]>;
  /** Display name. */
  name: Arg<AccountSpecInput["name"]>;
  /**
   * Where mail to `postmaster@` and `abuse@` of the account's domains goes (RFC 5321 §4.5.1, RFC
   * 2142) unless a User or Alias of that name is declared. Default none: those addresses are
   * unknown users.
   */
  contact?: Arg<AccountSpecInput["contact"]>;
  /**
   * Caps on the objects the account may hold, per kind (`domains`, `users`, `aliases`, `groups`);
   * absent: no caps. A tenant's plan past a cap fails at preview.
   */
  limits?: Arg<AccountSpecInput["limits"]>;
}

const kind = accountKind as unknown as KindDescriptor;

/**
 * A tenant account on the platform: every domain, user and token belongs to exactly one. Needs a
 * platform-admin token (the stack's `mailplane:token` or the resource's `connection`); any other
 * token is refused (403 `MP_FORBIDDEN`).
 *
 * Create only creates: an account that already exists fails with "already exists" unless
 * `adopt: true`. Renaming (`name`) updates in place; changing `id` replaces the account.
 *
 * Deleting is refused while the account still holds domains, because the platform deletes an
 * account with everything in it: declare the account's domains in the same program (they are
 * deleted first) or delete them before. The resource ID is the slug.
 *
 * @example
 * ```ts
 * const acme = new mailplane.Account("acme", { id: "acme", name: "ACME Corp" });
 * const ci = new mailplane.ApiToken("acme-ci", { account: acme.accountId, role: "account-admin" });
 * ```
 */
export class Account extends MailplaneResource {
  /** The account's slug (key), e.g. `acme`; the resource ID too. */
  declare readonly accountId: pulumi.Output<AccountObject["id"]>;
  /** Display name. */
  declare readonly name: pulumi.Output<AccountObject["name"]>;
  /** Where mail to `postmaster@` and `abuse@` of the account's domains goes; null for none. */
  declare readonly contact: pulumi.Output<AccountObject["contact"]>;
  /** Caps on the objects the account may hold, per kind. */
  declare readonly limits: pulumi.Output<AccountObject["limits"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<AccountObject["etag"]>;
  /** When the account was created. */
  declare readonly createdAt: pulumi.Output<AccountObject["createdAt"]>;
  /** When the account last changed. */
  declare readonly updatedAt: pulumi.Output<AccountObject["updatedAt"]>;

  constructor(name: string, args: AccountArgs, opts?: pulumi.CustomResourceOptions) {
    super("Account", name, resourceProps(kind, args), resourceOptions(kind, opts));
  }
}

/**
 * Accounts over the API as the lifecycle calls them. The platform has no PATCH for accounts: a
 * change is the whole spec PUT under `If-Match`, so a rename made elsewhere is never overwritten
 * unseen. The account path carries the account, so no `Mailplane-Account` is sent.
 */
async function accountApi(connection?: ConnectionSettings): Promise<ObjectApi> {
  const client = await clientFor(connection);
  return {
    get: (path) => client.request<Stored>("GET", path),
    put: (path, body, options = {}) =>
      client.request<Stored>("PUT", path, {
        body,
        ...(options.ifNoneMatch === undefined ? {} : { ifNoneMatch: options.ifNoneMatch }),
      }),
    patch: async (path, body, ifMatch) => {
      const current = await client.request<Stored>("GET", path);
      // The current spec, every field of the model, with the changed fields over it.
      const fields = Object.keys((kind.spec as unknown as z.ZodObject).shape);
      const spec = Object.fromEntries(
        fields.filter((f) => current[f] !== undefined).map((f) => [f, current[f]]),
      );
      Object.assign(spec, body);
      return client.request<Stored>("PUT", path, { body: spec, ifMatch: ifMatch ?? current.etag });
    },
    delete: async (path, ifMatch) => {
      await client.request("DELETE", path, ifMatch === undefined ? {} : { ifMatch });
    },
  };
}

/** How many domain names a refusal quotes; the rest are counted. */
const NAMES_SHOWN = 5;

/** The generic lifecycle of the Account kind, on the model's field names (`id`). */
const lifecycle = defineProvider(kind, accountApi, {
  async beforeDelete(_api, _path, props) {
    // The platform deletes an account with all it holds; Pulumi deletes only what it declared.
    const id = String(props["id"] ?? "");
    const client = await clientFor({ ...connectionOf(props), account: id });
    const page = await client.domains.list({ limit: NAMES_SHOWN + 1 }).catch((err: unknown) => {
      // The account is gone already: nothing to protect, and the delete below answers 404 (success).
      if ((err as { code?: unknown }).code === "MP_NOT_FOUND") return { items: [] };
      throw err;
    });
    if (page.items.length === 0) return;
    const names = page.items.slice(0, NAMES_SHOWN).map((d) => d.name);
    const more = page.items.length > NAMES_SHOWN ? " and more" : "";
    throw Object.assign(
      new Error(
        `it still has domains (${names.join(", ")}${more}), and deleting an account deletes everything in it: delete them first (declare them in this program, or remove them with the account's token), then destroy again`,
      ),
      { code: "MP_CONFLICT" },
    );
  },
});

/** The resource's name for the model's `id` (Pulumi keeps `id` for the resource ID). */
const SLUG = "accountId";

type Props = Record<string, any>;

/** Resource properties → model fields: `accountId` becomes `id`. */
function toModel(props: Props | undefined): Props {
  if (props === undefined || !(SLUG in props)) return props ?? {};
  const { [SLUG]: slug, ...rest } = props;
  return { ...rest, id: slug };
}

/** Model fields → resource properties: `id` becomes `accountId`. */
function fromModel(props: Props): Props {
  if (!("id" in props)) return props;
  const { id, ...rest } = props;
  return { ...rest, [SLUG]: id };
}

/** What the runtime runs for an {@link Account}: the generic lifecycle, with `id` spelt `accountId`. */
export const accountProvider: ResourceImpl = {
  async check(olds, news) {
    const checked = await lifecycle.check(toModel(olds), toModel(news));
    return {
      inputs: fromModel(checked.inputs ?? {}),
      failures: (checked.failures ?? []).map((f) => ({
        ...f,
        reason: f.reason.replace(/^property id /, `property ${SLUG} `),
      })),
    };
  },
  async diff(id, olds, news) {
    const diff = await lifecycle.diff(id, toModel(olds), toModel(news));
    return { ...diff, replaces: (diff.replaces ?? []).map((field) => (field === "id" ? SLUG : field)) };
  },
  async create(inputs) {
    const created = await lifecycle.create(toModel(inputs));
    return { id: created.id, outs: { ...created.outs, [SLUG]: created.id } };
  },
  async read(id, props) {
    const read = await lifecycle.read(id, toModel(props));
    if (!read.id) return read;
    return {
      id: read.id,
      props: { ...read.props, [SLUG]: read.id },
      ...(read.inputs === undefined ? {} : { inputs: fromModel(read.inputs) }),
    };
  },
  async update(id, olds, news) {
    const updated = await lifecycle.update(id, toModel(olds), toModel(news));
    return { outs: { ...updated.outs, [SLUG]: id } };
  },
  delete: (id, props) => lifecycle.delete(id, toModel(props)),
};
