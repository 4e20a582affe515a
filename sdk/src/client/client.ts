/** MailplaneClient: typed methods for every endpoint of the contract, over a keep-alive undici Agent with retries; each API area's methods live in areas/. */
import { randomUUID } from "node:crypto";
import { Agent, type Dispatcher } from "undici";
import type { Health, WhoAmI } from "../contract/admin.ts";
import { managedByHeaderValue } from "../models/managed-by.ts";
import { type AccessRulesApi, accessRulesApi } from "./areas/access-rules.ts";
import { type AccountsApi, accountsApi, type TokensApi, tokensApi } from "./areas/accounts.ts";
import { type AliasesApi, aliasesApi } from "./areas/aliases.ts";
import { type AuditApi, auditApi, type LockoutsApi, lockoutsApi } from "./areas/audit.ts";
import { type ContractCaller, contractCaller } from "./areas/caller.ts";
import { type DomainsApi, domainsApi } from "./areas/domains.ts";
import { type GroupsApi, groupsApi } from "./areas/groups.ts";
import { type MeApi, meApi } from "./areas/me.ts";
import { type OperationsApi, operationsApi } from "./areas/operations.ts";
import { type RoutesApi, routesApi } from "./areas/routes.ts";
import { type SenderListsApi, senderListsApi } from "./areas/sender-lists.ts";
import {
  type PasswordResetsApi,
  passwordResetsApi,
  type SessionsApi,
  sessionsApi,
} from "./areas/sessions.ts";
import {
  type FilterSettingsApi,
  filterSettingsApi,
  type PasswordPoliciesApi,
  passwordPoliciesApi,
  type ReportSettingsApi,
  reportSettingsApi,
} from "./areas/settings.ts";
import { type TenanciesApi, tenanciesApi } from "./areas/tenancies.ts";
import { type UsersApi, usersApi } from "./areas/users.ts";
import {
  type ClientOptions,
  type Clock,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTIONS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  type RawRequest,
  type RequestOptions,
  type RetryOptions,
  realClock,
} from "./options.ts";
import { isIdempotent, runWithRetry } from "./retry.ts";
import { send } from "./transport.ts";

export type { RawRequest } from "./options.ts";

/**
 * A client of the mailplane control plane. Holds no module-level state: build one per
 * configuration (the Pulumi provider builds one per call) and `close()` it when done.
 *
 * Every call: `Authorization: Bearer <token>`, `Mailplane-Account` when set, a per-attempt timeout
 * (default 30 s), retries with exponential back-off on 429/503 and, for idempotent requests, on
 * lost connections, timeouts, 502 and 504, honouring Retry-After within a retry budget (default
 * 10 retries, 500 ms → 30 s, factor 2, 60 s in all; `onRetry` is told before each wait). Failures throw MailplaneError: match on `code`.
 * Writes normalise and validate the spec locally first (MP_VALIDATION_FAILED without a round trip).
 * @example
 * const client = new MailplaneClient({ endpoint: "http://127.0.0.1:8080", token });
 * await client.domains.put({ name: "example.com" });
 * // Create only: 412 (MP_PRECONDITION_FAILED) if example.org exists, rather than replacing it.
 * await client.domains.put({ name: "example.org" }, { ifNoneMatch: "*" });
 * const user = await client.users.get("alice@example.com");
 * await client.users.disable(user.address, { ifMatch: user.etag });
 * await client.close();
 */
export class MailplaneClient {
  readonly endpoint: string;
  readonly #token: string | undefined;
  readonly #account: string | undefined;
  readonly #timeoutMs: number;
  readonly #retry: RetryOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #userAgent: string;
  readonly #clock: Clock;
  readonly #onRetry: ClientOptions["onRetry"];
  /** What the API areas call: `request` by operationId. Declared before the groups built on it. */
  readonly #caller: ContractCaller = contractCaller((method, path, options) =>
    this.request(method, path, options),
  );

  constructor(options: ClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#token = options.token;
    this.#account = options.account;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connections: DEFAULT_CONNECTIONS,
        keepAliveTimeout: DEFAULT_KEEP_ALIVE_MS,
        connect: { timeout: DEFAULT_CONNECT_TIMEOUT_MS },
      });
    this.#userAgent = options.userAgent ?? "mailplane-sdk";
    this.#clock = options.clock ?? realClock;
    this.#onRetry = options.onRetry;
  }

  /** Closes the client's own connections (a dispatcher passed in options is left open). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /**
   * Sends one request (with the client's auth, timeout and retries) and returns the parsed JSON
   * body, or undefined for an empty one. The typed methods below use it; the provider calls it by path.
   * @throws MailplaneError (match on `code`).
   * @example await client.request("GET", "/v1/domains/example.com")
   */
  async request<T = unknown>(
    method: Dispatcher.HttpMethod,
    path: string,
    options: RawRequest = {},
  ): Promise<T> {
    const url = new URL(this.endpoint + path);
    for (const [key, value] of Object.entries(options.query ?? {}) as [string, unknown][]) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      "user-agent": this.#userAgent,
    };
    if (this.#token !== undefined) headers["authorization"] = `Bearer ${this.#token}`;
    const account = options.account ?? this.#account;
    if (account !== undefined) headers["mailplane-account"] = account;
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
    if (options.ifNoneMatch !== undefined) headers["if-none-match"] = options.ifNoneMatch;
    if (options.managedBy !== undefined)
      headers["mailplane-managed-by"] = managedByHeaderValue(options.managedBy);
    // One key for every attempt of this call, so a retried create is applied once and answered as
    // the first attempt was (a create-only PUT would otherwise meet the object it created: 412).
    const creates = method === "POST" || options.ifNoneMatch !== undefined;
    const idempotencyKey = options.idempotencyKey ?? (creates ? randomUUID() : undefined);
    if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
    let body: string | Uint8Array | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    } else if (options.rawBody !== undefined) {
      body = options.rawBody.bytes;
      headers["content-type"] = options.rawBody.mediaType;
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const clock = this.#clock;
    const response = await runWithRetry(
      () =>
        send({
          method,
          url: url.toString(),
          path: url.pathname + url.search,
          headers,
          body,
          timeoutMs,
          signal: options.signal,
          dispatcher: this.#dispatcher,
          now: () => clock.now(),
        }),
      {
        options: { ...this.#retry, ...options.retry },
        idempotent: isIdempotent(method, idempotencyKey !== undefined),
        clock,
        signal: options.signal,
        onRetry: this.#onRetry,
        request: { method, path: url.pathname },
      },
    );
    return response.body as T;
  }

  /** Liveness and version (`GET /healthz`, no token needed). */
  health(options?: RequestOptions): Promise<Health> {
    return this.#caller.call("getHealth", {}, options);
  }

  /** The API's OpenAPI 3.1 document. */
  openApi(options?: RequestOptions): Promise<Record<string, unknown>> {
    return this.#caller.call("getOpenApi", {}, options);
  }

  /** The calling token's account, role and domains. */
  whoAmI(options?: RequestOptions): Promise<WhoAmI> {
    return this.#caller.call("getWhoAmI", {}, options);
  }

  /** Accounts (platform admins). */
  readonly accounts: AccountsApi = accountsApi(this.#caller);

  /** API tokens of the account. */
  readonly tokens: TokensApi = tokensApi(this.#caller);

  /** The audit log, newest first; `logins` is a domain's login audit (sign-ins and SMTP AUTH). */
  readonly audit: AuditApi = auditApi(this.#caller);

  /**
   * SMTP login lockouts, per client IPv4 address or IPv6 /64. A platform admin without an account
   * sees all; an account sees (and may lift) those that concern its domains.
   */
  readonly lockouts: LockoutsApi = lockoutsApi(this.#caller);

  /**
   * A domain's whole tenancy as one document (bulk mode): read it, plan a change without writing, apply
   * it in one transaction (`ifMatch`: the tenancy's etag), or delete the domain with everything in it.
   * @example const plan = await client.tenancies.plan({ domains: [{ name: "example.com" }], users: [] });
   */
  readonly tenancies: TenanciesApi = tenanciesApi(this.#caller);

  /** Domains. */
  readonly domains: DomainsApi = domainsApi(this.#caller);

  /** Routes of a domain; a route is named `host:port`. */
  readonly routes: RoutesApi = routesApi(this.#caller);

  /** Aliases, by address (`info@example.com`, catch-all `*@example.com`). */
  readonly aliases: AliasesApi = aliasesApi(this.#caller);

  /** Groups, by address: a group address that delivers to its members. */
  readonly groups: GroupsApi = groupsApi(this.#caller);

  /**
   * Access rules, by scope (`account`, a domain or a user address) and service (`smtp-submission`,
   * `api`): which networks may sign in.
   */
  readonly accessRules: AccessRulesApi = accessRulesApi(this.#caller);

  /** Sender and recipient allow/block lists; a list is named `kind-target` (`block-sender`). */
  readonly senderLists: SenderListsApi = senderListsApi(this.#caller);

  /** Filter settings of `account` (the default) or a domain: a singleton, reset rather than deleted. */
  readonly filterSettings: FilterSettingsApi = filterSettingsApi(this.#caller);

  /** Report settings of `account` (the default) or a domain: a singleton, reset rather than deleted. */
  readonly reportSettings: ReportSettingsApi = reportSettingsApi(this.#caller);

  /** Password policies of `account` or a domain: a singleton, reset rather than deleted. */
  readonly passwordPolicies: PasswordPoliciesApi = passwordPoliciesApi(this.#caller);

  /** Users, by address. A user must be disabled before deletion. */
  readonly users: UsersApi = usersApi(this.#caller);

  /**
   * The SMTP engine's operations on a domain: quarantine, delivery queue, message log, statistics.
   * A control plane without an engine in its process answers 503 (MP_UNAVAILABLE).
   */
  readonly operations: OperationsApi = operationsApi(this.#caller);

  /**
   * A mail user's sign-in. `create` needs no token; the others take the session's token (make a
   * client with `token: session.token`). A `second-factor` session finishes with `secondFactor`.
   * @example const session = await client.sessions.create({ address: "alice@example.com", password });
   */
  readonly sessions: SessionsApi = sessionsApi(this.#caller);

  /**
   * Self-service password reset; no token needed. `request` always resolves the same (a link goes to
   * the user's external address when one is due); `complete` sets the password with the link's token.
   * @example await client.passwordResets.complete(tokenFromTheMail, "New-Horse-8");
   */
  readonly passwordResets: PasswordResetsApi = passwordResetsApi(this.#caller);

  /** The signed-in mail user's own data; a client made with a session's token. Admin tokens get 403. */
  readonly me: MeApi = meApi(this.#caller);
}
