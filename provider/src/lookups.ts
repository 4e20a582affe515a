/** Lookup functions (`getDomain`, `getUser`, …): read objects managed elsewhere, through the SDK, in the program. */
import * as pulumi from "@pulumi/pulumi";
import type { MailplaneClient } from "../../sdk/src/client/client.ts";
import type { Alias } from "../../sdk/src/models/alias.ts";
import type { Domain } from "../../sdk/src/models/domain.ts";
import type { FilterSettings } from "../../sdk/src/models/filter-settings.ts";
import type { PasswordPolicy } from "../../sdk/src/models/password-policy.ts";
import { type Route, routeName } from "../../sdk/src/models/route.ts";
import { type SenderList, type SenderListSpec, senderListName } from "../../sdk/src/models/sender-list.ts";
import type { User } from "../../sdk/src/models/user.ts";
import { type ConnectionSettings, resolveSettings, type StackConfig } from "./lib/config.ts";
import type { ConnectionArgs } from "./lib/connection.ts";

/**
 * Where a lookup reads: the stack's `mailplane:*` config (or `MAILPLANE_*`), or its own connection,
 * resolved as a resource's `connection` is.
 */
export interface LookupConnection {
  /** Endpoint, token and account to read with instead of the stack's. Default: the stack's settings. */
  connection?: ConnectionSettings;
}

/** The same, for the Output forms: any field may be an Input (a new token, a secret). */
export interface LookupConnectionInput {
  /** Endpoint, token and account to read with instead of the stack's. Default: the stack's settings. */
  connection?: pulumi.Input<ConnectionArgs>;
}

// The program's config as the engine hands it to this process: plain values, secrets included,
// read by full key (`mailplane:token`) like the provider reads its stack config.
const programConfig: StackConfig = { get: (key) => pulumi.runtime.getConfig(key) };

/** Thrown when a lookup's object does not exist: names the function, the object and where it looked. */
export class LookupNotFoundError extends Error {
  override name = "LookupNotFoundError";
  /** The catalogue code of the platform's answer, for callers that match on codes. */
  readonly code = "MP_NOT_FOUND";
  constructor(message: string) {
    super(message);
    // A missing object is the program's mistake, not a bug: the message is all there is to read.
    this.stack = "";
  }
}

/**
 * Runs one read with a short-lived client for the resolved connection and closes it.
 * @throws LookupNotFoundError naming `what` when the platform answers 404.
 */
async function lookup<T>(
  fn: string,
  what: string,
  connection: ConnectionSettings | undefined,
  read: (client: MailplaneClient) => Promise<T>,
): Promise<T> {
  const settings = resolveSettings(connection ?? {}, programConfig);
  const { MailplaneClient } = await import("../../sdk/src/client/client.ts");
  const client = new MailplaneClient({
    endpoint: settings.endpoint,
    token: settings.token,
    ...(settings.account === undefined ? {} : { account: settings.account }),
    userAgent: "mailplane-pulumi-lookup",
  });
  try {
    return await read(client);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const where = `${settings.account === undefined ? "the token's account" : `account ${settings.account}`} at ${settings.endpoint}`;
    if (code === "MP_NOT_FOUND") {
      throw new LookupNotFoundError(`mailplane.${fn}: ${what} does not exist in ${where}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw Object.assign(new Error(`mailplane.${fn}: reading ${what} in ${where} failed: ${message}`), {
      code,
    });
  } finally {
    await client.close();
  }
}

/**
 * The Output form of a lookup: waits for its arguments (which may come from other resources), and
 * is unknown during a preview while they are. The result holds no secret (the platform returns
 * none), so a secret connection does not make it secret.
 */
function outputOf<A extends object, T>(
  args: pulumi.Input<A> & LookupConnectionInput,
  get: (plain: A & LookupConnection) => Promise<T>,
): pulumi.Output<T> {
  const resolved = pulumi.output(args) as unknown as pulumi.Output<A & LookupConnection>;
  return pulumi.unsecret(resolved.apply((plain) => get(plain))) as unknown as pulumi.Output<T>;
}

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Arguments of {@link getDomain}. */
export interface GetDomainArgs extends LookupConnection {
  /** The domain name, e.g. `example.com`. */
  name: string;
}

/**
 * Reads a domain (settings, DNS records to publish, verification) that another program or the
 * console manages.
 * @throws LookupNotFoundError "mailplane.getDomain: domain example.com does not exist in …".
 * @example const shared = await mailplane.getDomain({ name: "example.com" }); shared.dnsRecords
 */
export function getDomain(args: GetDomainArgs): Promise<Domain> {
  return lookup("getDomain", `domain ${args.name}`, args.connection, (c) => c.domains.get(args.name));
}

/**
 * {@link getDomain} with Input arguments, as an Output.
 * @example new mailplane.Route("mx", { domain: mailplane.getDomainOutput({ name: "example.com" }).name, host: "mx1.example.net" })
 */
export function getDomainOutput(args: Inputs<Omit<GetDomainArgs, "connection">> & LookupConnectionInput) {
  return outputOf<GetDomainArgs, Domain>(args as never, getDomain);
}

/** Arguments of {@link getUser}. */
export interface GetUserArgs extends LookupConnection {
  /** The user's address, e.g. `alice@example.com`. */
  address: string;
}

/**
 * Reads a user (never a password: the platform keeps only its hash).
 * @throws LookupNotFoundError "mailplane.getUser: user alice@example.com does not exist in …".
 * @example const alice = await mailplane.getUser({ address: "alice@example.com" });
 */
export function getUser(args: GetUserArgs): Promise<User> {
  return lookup("getUser", `user ${args.address}`, args.connection, (c) => c.users.get(args.address));
}

/** {@link getUser} with Input arguments, as an Output. @example mailplane.getUserOutput({ address: "alice@example.com" }).address */
export function getUserOutput(args: Inputs<Omit<GetUserArgs, "connection">> & LookupConnectionInput) {
  return outputOf<GetUserArgs, User>(args as never, getUser);
}

/** Arguments of {@link getAlias}. */
export interface GetAliasArgs extends LookupConnection {
  /** The alias address, e.g. `info@example.com`; `*@example.com` is the catch-all. */
  address: string;
}

/**
 * Reads an alias.
 * @throws LookupNotFoundError "mailplane.getAlias: alias info@example.com does not exist in …".
 * @example const info = await mailplane.getAlias({ address: "info@example.com" }); info.action
 */
export function getAlias(args: GetAliasArgs): Promise<Alias> {
  return lookup("getAlias", `alias ${args.address}`, args.connection, (c) => c.aliases.get(args.address));
}

/** {@link getAlias} with Input arguments, as an Output. @example mailplane.getAliasOutput({ address: "info@example.com" }).action */
export function getAliasOutput(args: Inputs<Omit<GetAliasArgs, "connection">> & LookupConnectionInput) {
  return outputOf<GetAliasArgs, Alias>(args as never, getAlias);
}

/** Arguments of {@link getRoute}. */
export interface GetRouteArgs extends LookupConnection {
  /** The domain the route belongs to. */
  domain: string;
  /** The destination host name or IP address. */
  host: string;
  /** The destination port. Default 25. */
  port?: number;
}

/**
 * Reads a route, named by its domain and `host:port`.
 * @throws LookupNotFoundError "mailplane.getRoute: route mx1.example.net:25 of example.com does not exist in …".
 * @example const mx = await mailplane.getRoute({ domain: "example.com", host: "mx1.example.net" });
 */
export function getRoute(args: GetRouteArgs): Promise<Route> {
  const name = routeName({ host: args.host, port: args.port ?? 25 });
  return lookup("getRoute", `route ${name} of ${args.domain}`, args.connection, (c) =>
    c.routes.get(args.domain, name),
  );
}

/** {@link getRoute} with Input arguments, as an Output. @example mailplane.getRouteOutput({ domain: d.name, host: "mx1.example.net" }).priority */
export function getRouteOutput(args: Inputs<Omit<GetRouteArgs, "connection">> & LookupConnectionInput) {
  return outputOf<GetRouteArgs, Route>(args as never, getRoute);
}

/** Arguments of {@link getSenderList}. */
export interface GetSenderListArgs extends LookupConnection {
  /** The domain the list belongs to. */
  domain: string;
  /** `allow` or `block`. */
  kind: SenderListSpec["kind"];
  /** `sender` or `recipient`. */
  target: SenderListSpec["target"];
}

/**
 * Reads a sender or recipient allow/block list.
 * @throws LookupNotFoundError "mailplane.getSenderList: sender list block-sender of example.com does not exist in …".
 * @example const blocked = await mailplane.getSenderList({ domain: "example.com", kind: "block", target: "sender" });
 */
export function getSenderList(args: GetSenderListArgs): Promise<SenderList> {
  const name = senderListName(args);
  return lookup("getSenderList", `sender list ${name} of ${args.domain}`, args.connection, (c) =>
    c.senderLists.get(args.domain, name),
  );
}

/** {@link getSenderList} with Input arguments, as an Output. @example mailplane.getSenderListOutput({ domain: d.name, kind: "block", target: "sender" }).entries */
export function getSenderListOutput(
  args: Inputs<Omit<GetSenderListArgs, "connection">> & LookupConnectionInput,
) {
  return outputOf<GetSenderListArgs, SenderList>(args as never, getSenderList);
}

/** Arguments of {@link getFilterSettings} and {@link getPasswordPolicy}. */
export interface GetScopedArgs extends LookupConnection {
  /** `account` (the account's default) or a domain name. Default `account`. */
  scope?: string;
}

/**
 * Reads the filter settings of the account or a domain (a singleton: it always exists while its
 * domain does).
 * @throws LookupNotFoundError "mailplane.getFilterSettings: filter settings of example.com does not exist in …".
 * @example const defaults = await mailplane.getFilterSettings({}); defaults.quarantineThreshold
 */
export function getFilterSettings(args: GetScopedArgs = {}): Promise<FilterSettings> {
  const scope = args.scope ?? "account";
  return lookup("getFilterSettings", `filter settings of ${scope}`, args.connection, (c) =>
    c.filterSettings.get(scope),
  );
}

/** {@link getFilterSettings} with Input arguments, as an Output. @example mailplane.getFilterSettingsOutput({ scope: d.name }).blockedExtensions */
export function getFilterSettingsOutput(
  args: Inputs<Omit<GetScopedArgs, "connection">> & LookupConnectionInput = {},
) {
  return outputOf<GetScopedArgs, FilterSettings>(args as never, getFilterSettings);
}

/**
 * Reads the password policy of the account or a domain (a singleton).
 * @throws LookupNotFoundError "mailplane.getPasswordPolicy: password policy of example.com does not exist in …".
 * @example const policy = await mailplane.getPasswordPolicy({ scope: "example.com" }); policy.minLength
 */
export function getPasswordPolicy(args: GetScopedArgs = {}): Promise<PasswordPolicy> {
  const scope = args.scope ?? "account";
  return lookup("getPasswordPolicy", `password policy of ${scope}`, args.connection, (c) =>
    c.passwordPolicies.get(scope),
  );
}

/** {@link getPasswordPolicy} with Input arguments, as an Output. @example mailplane.getPasswordPolicyOutput({ scope: d.name }).minLength */
export function getPasswordPolicyOutput(
  args: Inputs<Omit<GetScopedArgs, "connection">> & LookupConnectionInput = {},
) {
  return outputOf<GetScopedArgs, PasswordPolicy>(args as never, getPasswordPolicy);
}
