/** A resource's own `connection` (endpoint, token, account): checked at preview, secret in state, compared in diff. */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ACCOUNT_SLUG } from "../../../sdk/src/models/account.ts";
import type { CheckFailure } from "./check.ts";
import { type ConnectionSettings, stackSetting } from "./config.ts";
import { containsUnknown, UNKNOWN } from "./unknown.ts";

/**
 * Where one resource (or lookup) talks to, instead of the stack's `mailplane:*` config. Every field
 * is optional and falls back to the stack config, except that a connection naming an `endpoint`
 * must name its `token` too (the stack's token is never sent to another platform), and a
 * connection with its own `token` acts on `account` only as the connection names it.
 */
export interface ConnectionArgs {
  /** Base URL of the control plane, e.g. `https://mail.example.net`. Default: `mailplane:endpoint`. */
  endpoint?: pulumi.Input<string>;
  /** API token (a secret). Default: `mailplane:token`; required when `endpoint` is set. */
  token?: pulumi.Input<string>;
  /** For a platform-admin token: the account to act on. Default: `mailplane:account` (stack token only). */
  account?: pulumi.Input<string>;
}

/** The connection as the provider receives it (secrets arrive decrypted in the provider process). */
export const Connection = z.strictObject({
  endpoint: z
    .string()
    .refine((v) => URL.canParse(v), { message: "must be a URL such as https://mail.example.net" })
    .optional(),
  token: z.string().min(1, { message: "must not be empty" }).optional(),
  account: z
    .string()
    .refine((v) => ACCOUNT_SLUG.test(v), { message: "must be an account ID such as acme" })
    .optional(),
});

/** The property name of the connection in inputs and state. */
export const CONNECTION = "connection";

/** The resource's connection from its inputs or state, or undefined when it uses the stack's settings. */
export function connectionOf(props: Record<string, unknown> | undefined): ConnectionSettings | undefined {
  const value = props?.[CONNECTION];
  if (value === undefined || value === null || typeof value !== "object") return undefined;
  return value as ConnectionSettings;
}

/**
 * Preview-time failures of a `connection` input, by `connection.<field>` path. Unknown values (a
 * token another resource creates in this run) are not judged yet; `up` checks again.
 * Failures never quote the token.
 * @example checkConnection({ endpoint: "https://a.example" }) // [{ property: "connection.token", … }]
 */
export function checkConnection(value: unknown): CheckFailure[] {
  if (value === undefined || value === UNKNOWN) return [];
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return [{ property: CONNECTION, reason: "must be an object with endpoint, token and account" }];
  }
  const known = Object.fromEntries(
    Object.entries(value).filter(([, v]) => !containsUnknown(v) && v !== undefined && v !== null),
  );
  const parsed = Connection.safeParse(known);
  const failures: CheckFailure[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        property: [CONNECTION, ...issue.path.map(String)].join("."),
        reason:
          issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message,
      }));
  const record = value as Record<string, unknown>;
  if (record["endpoint"] !== undefined && record["endpoint"] !== null && record["token"] == null) {
    failures.push({
      property: `${CONNECTION}.token`,
      reason:
        "is required when connection.endpoint is set: the stack's mailplane:token is never sent to another endpoint",
    });
  }
  return failures;
}

/**
 * Which platform and account a connection acts on, as far as it is known: `undefined` fields are
 * unknown (during preview) or not named. The token is not part of it: a new token for the same
 * account is an in-place change.
 */
function target(props: Record<string, unknown>): { endpoint?: string; account?: string } | undefined {
  if (props[CONNECTION] === UNKNOWN) return undefined;
  const connection = connectionOf(props) ?? {};
  const known = (v: unknown) => (typeof v === "string" && v !== UNKNOWN && v !== "" ? v : undefined);
  const endpoint =
    known(connection.endpoint) ??
    (connection.endpoint === undefined ? stackSetting("endpoint", "MAILPLANE_ENDPOINT") : undefined);
  // A connection with its own token acts on the account it names, or on the token's own.
  const account =
    known(connection.account) ??
    (connection.token === undefined && connection.account === undefined
      ? stackSetting("account", "MAILPLANE_ACCOUNT")
      : undefined);
  return { ...(endpoint === undefined ? {} : { endpoint }), ...(account === undefined ? {} : { account }) };
}

/**
 * True when the new inputs move the object to another platform or another named account: the object
 * there is another object, so the resource is replaced (created there, deleted here). An account
 * that one side does not name is not compared (a token's own account is not known without asking).
 * @example movesElsewhere({}, { connection: { endpoint: "https://b.example", token: "…" } }) // true when the stack's endpoint is elsewhere
 */
export function movesElsewhere(olds: Record<string, unknown>, news: Record<string, unknown>): boolean {
  const before = target(olds);
  const after = target(news);
  if (before === undefined || after === undefined) return false;
  if (before.endpoint !== undefined && after.endpoint !== undefined && before.endpoint !== after.endpoint) {
    return true;
  }
  return before.account !== undefined && after.account !== undefined && before.account !== after.account;
}
