/** The ApiToken resource: a bearer token of an account; its value is a secret output, rotated by replacement. */
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { ACCOUNT_SLUG } from "../../../sdk/src/models/account.ts";
import {
  type ApiToken as ApiTokenObject,
  ApiTokenSpec,
  type ApiTokenSpecInput,
} from "../../../sdk/src/models/api-token.ts";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { clientFor } from "../lib/api.ts";
import { type CheckFailure, checkInputs, describeFailures } from "../lib/check.ts";
import type { ConnectionSettings } from "../lib/config.ts";
import { CONNECTION, connectionOf, movesElsewhere } from "../lib/connection.ts";
import { errorCode, type ResourceImpl } from "../lib/lifecycle.ts";
import { type Arg, type CommonArgs, MailplaneResource, secretConnection } from "../lib/resource.ts";
import { containsUnknown } from "../lib/unknown.ts";

/** The inputs of an {@link ApiToken}; the token's own fields come from the model (`ApiTokenSpec`). */
export interface ApiTokenArgs extends Omit<CommonArgs, "adopt"> {
  /** What the token may do. */
  role: Arg<ApiTokenSpecInput["role"]>;
  /** The domains a `domain-admin` token may manage; empty for other roles. */
  domains?: Arg<ApiTokenSpecInput["domains"]>;
  /** What the token is for (shown in lists and the audit log). */
  description?: Arg<ApiTokenSpecInput["description"]>;
  /**
   * When the token stops working; must be in the future when the token is created. Absent or null
   * never expires. An expired token reads as gone on refresh, so the next `up` makes a new one.
   */
  expiresAt?: Arg<ApiTokenSpecInput["expiresAt"]>;
  /**
   * The account the token belongs to, e.g. an {@link Account}'s `id`: a platform-admin connection
   * acts on it for this token. Default: the connection's account (an account token's own).
   */
  account?: pulumi.Input<string>;
  /**
   * Any value; changing it replaces the token (a new secret is made, dependents get it, then the old
   * one is revoked). E.g. a date, to rotate on a schedule. Default none.
   */
  rotation?: pulumi.Input<string>;
}

/** The fields of a token that can only be set when it is made: any change replaces it. */
const TOKEN_FIELDS = ["role", "domains", "description", "expiresAt"] as const;

/** The outputs besides the secret: the token as the API lists it, minus `id` (the resource ID). */
const OUTPUT_FIELDS = ["account", ...TOKEN_FIELDS, "createdAt", "revokedAt", "etag"] as const;

/** The secret output: the bearer value, shown by the platform once, at creation. */
const SECRET = "token";

/** Enough of a kind descriptor for the generic `check` and its failure messages. */
const tokenKind = {
  name: "ApiToken",
  spec: ApiTokenSpec,
  secretFields: [SECRET],
} as unknown as KindDescriptor;

/**
 * An API token of an account, made by a platform-admin (any role, for any account) or an account
 * admin (its own account; not platform-admin). The token's value is the `token` output: a secret,
 * encrypted in the state, never in plain text; pass it to a resource's `connection` or export it as
 * a secret. Tokens cannot change: any change to `role`, `domains`, `description`, `expiresAt`,
 * `account` or `rotation` replaces the token, creating the new one before the old is revoked.
 * A token revoked or expired outside Pulumi reads as gone on refresh; the next `up` makes a new one.
 * The resource ID is the token's ID (`tok_…`), never the secret.
 *
 * @example
 * ```ts
 * const acme = new mailplane.Account("acme", { id: "acme", name: "ACME Corp" });
 * const token = new mailplane.ApiToken("acme-admin", {
 *   account: acme.accountId,
 *   role: "account-admin",
 *   description: "Pulumi: ACME's domains",
 *   rotation: "2026-12",
 * });
 * new mailplane.Domain("acme-com", {
 *   name: "acme.example",
 *   connection: { token: token.token, account: acme.accountId },
 * });
 * ```
 */
export class ApiToken extends MailplaneResource {
  /** The secret bearer value (`mpt_…`): a secret output, never in plain text in the state. */
  declare readonly token: pulumi.Output<string>;
  /** The account the token belongs to. */
  declare readonly account: pulumi.Output<ApiTokenObject["account"]>;
  /** What the token may do. */
  declare readonly role: pulumi.Output<ApiTokenObject["role"]>;
  /** The domains a `domain-admin` token may manage. */
  declare readonly domains: pulumi.Output<ApiTokenObject["domains"]>;
  /** What the token is for. */
  declare readonly description: pulumi.Output<ApiTokenObject["description"]>;
  /** When the token stops working; null never. */
  declare readonly expiresAt: pulumi.Output<ApiTokenObject["expiresAt"]>;
  /** When the token was created. */
  declare readonly createdAt: pulumi.Output<ApiTokenObject["createdAt"]>;
  /** The rotation trigger, as declared. */
  declare readonly rotation: pulumi.Output<string | undefined>;

  constructor(name: string, args: ApiTokenArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = Object.fromEntries([...OUTPUT_FIELDS, SECRET, "rotation"].map((f) => [f, undefined]));
    super("ApiToken", name, secretConnection({ ...outputs, ...args }), {
      ...opts,
      additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), SECRET, CONNECTION])],
    });
  }
}

type Props = Record<string, any>;

/** The provider's own inputs, apart from the token's fields. */
function providerInputs(news: Props): { account?: unknown; rotation?: unknown; connection?: unknown } {
  return { account: news["account"], rotation: news["rotation"], connection: news[CONNECTION] };
}

/** `expiresAt` in the one spelling the platform stores (`toISOString`), so a declaration never diffs. */
function canonicalExpiry(value: unknown): unknown {
  if (typeof value !== "string" || Number.isNaN(Date.parse(value))) return value;
  return new Date(value).toISOString();
}

/** The connection that acts on the token's account: `account` overrides the connection's. */
function tokenConnection(props: Props): ConnectionSettings {
  const connection = connectionOf(props) ?? {};
  const account = typeof props["account"] === "string" ? props["account"] : undefined;
  return account === undefined ? connection : { ...connection, account };
}

/** The state of a token: the API's answer (without its ID), the secret and what was declared. */
function outputsOf(live: Props, secret: unknown, declared: Props): Props {
  const outs: Props = {};
  for (const field of OUTPUT_FIELDS) outs[field] = live[field];
  outs[SECRET] = secret;
  if (declared["rotation"] !== undefined) outs["rotation"] = declared["rotation"];
  if (declared[CONNECTION] !== undefined) outs[CONNECTION] = declared[CONNECTION];
  return outs;
}

function describe(action: string, id: string, err: unknown): Error {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return Object.assign(
    new Error(`mailplane: ${action} ApiToken ${id} failed${code ? ` (${code})` : ""}: ${message}`),
    {
      code,
    },
  );
}

/** What the runtime runs for an {@link ApiToken}: check, diff, create, read, update, delete. */
export const apiTokenProvider: ResourceImpl = {
  async check(_olds, news) {
    const { account, rotation, connection } = providerInputs(news);
    const { account: _a, rotation: _r, [CONNECTION]: _c, adopt, ...fields } = news;
    const outcome = checkInputs(tokenKind, {
      ...fields,
      ...(connection === undefined ? {} : { connection }),
    });
    const failures: CheckFailure[] = [...outcome.failures];
    if (adopt !== undefined) {
      failures.push({
        property: "adopt",
        reason: "is not a property of this resource (a token cannot be adopted: its secret is shown once)",
      });
    }
    if (
      account !== undefined &&
      !containsUnknown(account) &&
      !(typeof account === "string" && ACCOUNT_SLUG.test(account))
    ) {
      failures.push({ property: "account", reason: "must be an account ID such as acme" });
    }
    if (rotation !== undefined && !containsUnknown(rotation) && typeof rotation !== "string") {
      failures.push({ property: "rotation", reason: "must be a string" });
    }
    const inputs: Props = { ...outcome.inputs, expiresAt: canonicalExpiry(outcome.inputs["expiresAt"]) };
    if (inputs["expiresAt"] === undefined) delete inputs["expiresAt"];
    if (account !== undefined) inputs["account"] = account;
    if (rotation !== undefined) inputs["rotation"] = rotation;
    return { inputs, failures: failures.length > 0 ? describeFailures(tokenKind, news, failures) : [] };
  },

  async diff(_id, olds, news) {
    // A token is immutable: every field of it, and the trigger, replaces it. A new connection token
    // for the same place is an in-place change (nothing is called).
    const changed = (field: string, before: unknown, after: unknown) =>
      containsUnknown(after) || !isDeepStrictEqual(before, after) ? [field] : [];
    const replaces = [
      ...changed("role", olds["role"], news["role"]),
      ...changed("domains", olds["domains"] ?? [], news["domains"] ?? []),
      ...changed("description", olds["description"] ?? "", news["description"] ?? ""),
      ...changed("expiresAt", olds["expiresAt"] ?? null, news["expiresAt"] ?? null),
      ...(news["account"] === undefined ? [] : changed("account", olds["account"], news["account"])),
      ...changed("rotation", olds["rotation"], news["rotation"]),
      ...(movesElsewhere(olds, news) ? [CONNECTION] : []),
    ];
    // Nothing to replace and the same connection: no change. Left "unknown", the engine would diff the
    // inputs itself, `__provider` included, and a token written by a version with another provider
    // text (see shim.ts) would preview as an update.
    if (replaces.length === 0 && isDeepStrictEqual(olds[CONNECTION] ?? null, news[CONNECTION] ?? null)) {
      return { changes: false, replaces, deleteBeforeReplace: false };
    }
    return { changes: undefined, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const spec = ApiTokenSpec.parse(
      Object.fromEntries(TOKEN_FIELDS.filter((f) => inputs[f] !== undefined).map((f) => [f, inputs[f]])),
    ) as z.output<typeof ApiTokenSpec>;
    const account = typeof inputs["account"] === "string" ? inputs["account"] : undefined;
    try {
      const client = await clientFor(tokenConnection(inputs));
      // A POST with an Idempotency-Key (the client sets one): a retry after a lost answer gets the
      // same token back rather than minting a second one.
      const created = await client.tokens.create(spec, account === undefined ? {} : { account });
      return { id: created.id, outs: outputsOf(created, created.token, inputs) };
    } catch (err) {
      throw describe("create", account ?? "(new)", err);
    }
  },

  async read(id, props = {}) {
    let live: ApiTokenObject;
    try {
      const client = await clientFor(tokenConnection(props));
      live = await client.tokens.get(id);
    } catch (err) {
      if (errorCode(err) === "MP_NOT_FOUND") return { id: "", props: {} };
      throw describe("read", id, err);
    }
    // Revoked or expired, it authenticates nothing: gone, so the next up makes a new one.
    const expired = live.expiresAt !== null && Date.parse(live.expiresAt) <= Date.now();
    if (live.revokedAt !== null || expired) return { id: "", props: {} };
    return { id, props: outputsOf(live, props[SECRET], props) };
  },

  async update(_id, olds, news) {
    // Only the connection changed (see diff): nothing to call.
    return { outs: outputsOf(olds, olds[SECRET], news) };
  },

  async delete(id, props) {
    try {
      const client = await clientFor(tokenConnection(props));
      await client.tokens.revoke(id);
    } catch (err) {
      // Already revoked (or its account deleted) is what delete wants.
      if (errorCode(err) === "MP_NOT_FOUND") return;
      throw describe("revoke", id, err);
    }
  },
};
