/** MailplaneClient: typed methods for every endpoint of the contract, over a keep-alive undici Agent with retries. */
import { randomUUID } from "node:crypto";
import { Agent, type Dispatcher } from "undici";
import type { Health, WhoAmI } from "../contract/admin.ts";
import type { DkimRotationInput } from "../contract/dkim.ts";
import { endpoint as endpointOf } from "../contract/index.ts";
import type {
  DomainStatistics,
  MessageLogEntry,
  MessageLogQueryInput,
  QuarantinedMessage,
  QuarantineEntry,
  QuarantineQueryInput,
  QueuedMessage,
} from "../contract/operations.ts";
import type { Endpoint } from "../contract/types.ts";
import { validationError, validationErrorFromFields } from "../errors.ts";
import type {
  AccessRule,
  AccessRulePatch,
  AccessRuleSpecInput,
  AccessService,
} from "../models/access-rule.ts";
import type { Account, AccountSpecInput } from "../models/account.ts";
import type { Alias, AliasPatch, AliasSpecInput } from "../models/alias.ts";
import type { ApiToken, ApiTokenCreated, ApiTokenSpecInput } from "../models/api-token.ts";
import type { AuditEntry, AuditQuery } from "../models/audit.ts";
import type { Domain, DomainPatch, DomainSpecInput, DomainVerifyRequest } from "../models/domain.ts";
import type { DomainTenancy, DomainTenancyDocumentInput, TenancyPlan } from "../models/domain-tenancy.ts";
import type {
  FilterSettings,
  FilterSettingsPatch,
  FilterSettingsSpecInput,
} from "../models/filter-settings.ts";
import type { Group, GroupPatch, GroupSpecInput } from "../models/group.ts";
import {
  accessRuleKind,
  accountKind,
  aliasKind,
  domainKind,
  fillPath,
  filterSettingsKind,
  groupKind,
  type KindDescriptor,
  passwordPolicyKind,
  reportSettingsKind,
  routeKind,
  senderListKind,
  userKind,
} from "../models/kinds.ts";
import type { LoginLockout, LoginLockoutQuery } from "../models/lockout.ts";
import type { LoginAuditEntry, LoginAuditQuery, MyLoginAuditQuery } from "../models/login-audit.ts";
import { managedByHeaderValue } from "../models/managed-by.ts";
import type { ListQuery, Page } from "../models/page.ts";
import type {
  PasswordPolicy,
  PasswordPolicyPatch,
  PasswordPolicySpecInput,
} from "../models/password-policy.ts";
import type {
  ReportSettings,
  ReportSettingsPatch,
  ReportSettingsSpecInput,
} from "../models/report-settings.ts";
import { type Route, type RoutePatch, type RouteSpecInput, routeName } from "../models/route.ts";
import type { SenderList, SenderListPatch, SenderListSpecInput } from "../models/sender-list.ts";
import type {
  AppPassword,
  AppPasswordCreated,
  AppPasswordSpec,
  LostPasswordHelp,
  Me,
  PasswordResetAccepted,
  Session,
  SignIn,
  TotpEnrolment,
} from "../models/session.ts";
import type { User, UserPatch, UserSpecInput } from "../models/user.ts";
import {
  type ClientOptions,
  type Clock,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTIONS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  type RequestOptions,
  type RetryOptions,
  realClock,
} from "./options.ts";
import { isIdempotent, runWithRetry } from "./retry.ts";
import { send } from "./transport.ts";

/** Options of a raw {@link MailplaneClient.request}. */
export interface RawRequest extends RequestOptions {
  /** JSON body. */
  body?: unknown;
  /** A raw body instead (a spam report's .eml): its bytes and media type. */
  rawBody?: { mediaType: string; bytes: Uint8Array };
  /** Query parameters (strings, numbers, booleans); undefined values are left out. */
  query?: object;
}

/** The domain part of an address. */
function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** `example.com` or `account` → the singleton's path parameters. */
function scopeParams(scope: string): Record<string, string> {
  return scope.trim().toLowerCase() === "account" ? {} : { domain: scope };
}

/** A call's options with `report` (a report to the spam filter: `spam` or `ham`) moved into its query. */
function withReportQuery(options: (RequestOptions & { report?: string }) | undefined): RawRequest {
  const { report, ...rest } = options ?? {};
  return { ...rest, ...(report ? { query: { report } } : {}) };
}

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

  /** Calls a contract endpoint by operationId with its path parameters. */
  async #call<T>(operationId: string, params: Record<string, string>, options: RawRequest = {}): Promise<T> {
    const e: Endpoint = endpointOf(operationId);
    return this.request<T>(e.method, fillPath(e.path, params), options);
  }

  /** Parses a spec with its kind's schema (normalising it) or throws MP_VALIDATION_FAILED locally. */
  #spec<S>(kind: KindDescriptor, input: unknown): S {
    const result = kind.spec.safeParse(input);
    if (!result.success) throw validationError(result.error, "body");
    return result.data as S;
  }

  /** Liveness and version (`GET /healthz`, no token needed). */
  health(options?: RequestOptions): Promise<Health> {
    return this.#call("getHealth", {}, options);
  }

  /** The API's OpenAPI 3.1 document. */
  openApi(options?: RequestOptions): Promise<Record<string, unknown>> {
    return this.#call("getOpenApi", {}, options);
  }

  /** The calling token's account, role and domains. */
  whoAmI(options?: RequestOptions): Promise<WhoAmI> {
    return this.#call("getWhoAmI", {}, options);
  }

  /** Accounts (platform admins). */
  readonly accounts = {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<Account>> =>
      this.#call("listAccounts", {}, { ...options, query }),
    get: (id: string, options?: RequestOptions): Promise<Account> =>
      this.#call("getAccount", { account: id }, options),
    put: (spec: AccountSpecInput, options?: RequestOptions): Promise<Account> => {
      const body = this.#spec<{ id: string }>(accountKind as unknown as KindDescriptor, spec);
      return this.#call("putAccount", { account: body.id }, { ...options, body });
    },
    delete: (id: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteAccount", { account: id }, options),
  };

  /** API tokens of the account. */
  readonly tokens = {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<ApiToken>> =>
      this.#call("listTokens", {}, { ...options, query }),
    /** Creates a token; the answer's `token` is the secret, shown once. Retried safely with an Idempotency-Key. */
    create: (spec: ApiTokenSpecInput, options?: RequestOptions): Promise<ApiTokenCreated> =>
      this.#call("createToken", {}, { ...options, body: spec }),
    get: (id: string, options?: RequestOptions): Promise<ApiToken> =>
      this.#call("getToken", { token: id }, options),
    revoke: (id: string, options?: RequestOptions): Promise<void> =>
      this.#call("revokeToken", { token: id }, options),
  };

  /** The audit log, newest first; `logins` is a domain's login audit (sign-ins and SMTP AUTH). */
  readonly audit = {
    list: (query: AuditQuery = {}, options?: RequestOptions): Promise<Page<AuditEntry>> =>
      this.#call("listAudit", {}, { ...options, query }),
    /** @example await client.audit.logins("example.com", { user: "alice@example.com", result: "failure" }) */
    logins: (
      domain: string,
      query: LoginAuditQuery = {},
      options?: RequestOptions,
    ): Promise<Page<LoginAuditEntry>> => this.#call("listLoginAudit", { domain }, { ...options, query }),
  };

  /**
   * SMTP login lockouts, per client IPv4 address or IPv6 /64. A platform admin without an account
   * sees all; an account sees (and may lift) those that concern its domains.
   */
  readonly lockouts = {
    list: (query: LoginLockoutQuery = {}, options?: RequestOptions): Promise<Page<LoginLockout>> =>
      this.#call("listLoginLockouts", {}, { ...options, query }),
    /** Lifts the lockout of a key (`192.0.2.1`, `2001:db8:1:2::/64`, or any address in that /64). */
    lift: (key: string, options?: RequestOptions): Promise<void> =>
      this.#call("liftLoginLockout", { key }, options),
  };

  /**
   * A domain's whole tenancy as one document (bulk mode): read it, plan a change without writing, apply
   * it in one transaction (`ifMatch`: the tenancy's etag), or delete the domain with everything in it.
   * @example const plan = await client.tenancies.plan({ domains: [{ name: "example.com" }], users: [] });
   */
  readonly tenancies = {
    get: (domain: string, options?: RequestOptions): Promise<DomainTenancy> =>
      this.#call("getDomainTenancy", { domain }, options),
    plan: (document: DomainTenancyDocumentInput, options?: RequestOptions): Promise<TenancyPlan> =>
      this.#call("planDomainTenancy", { domain: tenancyDomain(document) }, { ...options, body: document }),
    apply: (document: DomainTenancyDocumentInput, options?: RequestOptions): Promise<TenancyPlan> =>
      this.#call("applyDomainTenancy", { domain: tenancyDomain(document) }, { ...options, body: document }),
    delete: (domain: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteDomainTenancy", { domain }, options),
  };

  /** Domains. */
  readonly domains = {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<Domain>> =>
      this.#call("listDomains", {}, { ...options, query }),
    get: (name: string, options?: RequestOptions): Promise<Domain> =>
      this.#call("getDomain", { domain: name }, options),
    put: (spec: DomainSpecInput, options?: RequestOptions): Promise<Domain> => {
      const body = this.#spec<{ name: string }>(domainKind as unknown as KindDescriptor, spec);
      return this.#call("putDomain", { domain: body.name }, { ...options, body });
    },
    patch: (name: string, patch: DomainPatch, options?: RequestOptions): Promise<Domain> =>
      this.#call("patchDomain", { domain: name }, { ...options, body: patch }),
    delete: (name: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteDomain", { domain: name }, options),
    /**
     * Checks the domain's ownership now: each pending name's verification TXT record is looked up.
     * A platform admin may instead mark names verified with `{ method: "admin" }`. Answers the
     * domain; its `verification` says, per name, what the check found.
     * @example const d = await client.domains.verify("example.com"); d.verification[0]?.status // "verified"
     */
    verify: (name: string, request: DomainVerifyRequest = {}, options?: RequestOptions): Promise<Domain> =>
      this.#call("verifyDomain", { domain: name }, { ...options, body: request }),
    /**
     * Creates a pending DKIM key under a new selector (published in `dnsRecords`, not yet signing):
     * RSA by default, `{ algorithm: "ed25519" }` for an Ed25519 key (RFC 8463) that signs beside RSA.
     * @example await client.domains.rotateDkim("example.com", { algorithm: "ed25519" })
     */
    rotateDkim: (name: string, request: DkimRotationInput = {}, options?: RequestOptions): Promise<Domain> =>
      this.#call("rotateDomainDkim", { domain: name }, { ...options, query: request }),
    /** Signs the domain's mail with a pending selector from now on. */
    activateDkim: (name: string, selector: string, options?: RequestOptions): Promise<Domain> =>
      this.#call("activateDomainDkim", { domain: name }, { ...options, body: { selector } }),
  };

  /** Routes of a domain; a route is named `host:port`. */
  readonly routes = {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<Route>> =>
      this.#call("listRoutes", { domain }, { ...options, query }),
    get: (domain: string, route: string, options?: RequestOptions): Promise<Route> =>
      this.#call("getRoute", { domain, route }, options),
    put: (spec: RouteSpecInput, options?: RequestOptions): Promise<Route> => {
      const body = this.#spec<{ domain: string; host: string; port: number }>(
        routeKind as unknown as KindDescriptor,
        spec,
      );
      return this.#call("putRoute", { domain: body.domain, route: routeName(body) }, { ...options, body });
    },
    patch: (domain: string, route: string, patch: RoutePatch, options?: RequestOptions): Promise<Route> =>
      this.#call("patchRoute", { domain, route }, { ...options, body: patch }),
    delete: (domain: string, route: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteRoute", { domain, route }, options),
  };

  /** Aliases, by address (`info@example.com`, catch-all `*@example.com`). */
  readonly aliases = {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<Alias>> =>
      this.#call("listAliases", { domain }, { ...options, query }),
    get: (address: string, options?: RequestOptions): Promise<Alias> =>
      this.#call("getAlias", { domain: domainOf(address), alias: address }, options),
    put: (spec: AliasSpecInput, options?: RequestOptions): Promise<Alias> => {
      const body = this.#spec<{ address: string }>(aliasKind as unknown as KindDescriptor, spec);
      return this.#call(
        "putAlias",
        { domain: domainOf(body.address), alias: body.address },
        { ...options, body },
      );
    },
    patch: (address: string, patch: AliasPatch, options?: RequestOptions): Promise<Alias> =>
      this.#call("patchAlias", { domain: domainOf(address), alias: address }, { ...options, body: patch }),
    delete: (address: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteAlias", { domain: domainOf(address), alias: address }, options),
  };

  /** Groups, by address: a group address that delivers to its members. */
  readonly groups = {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<Group>> =>
      this.#call("listGroups", { domain }, { ...options, query }),
    get: (address: string, options?: RequestOptions): Promise<Group> =>
      this.#call("getGroup", { domain: domainOf(address), group: address }, options),
    put: (spec: GroupSpecInput, options?: RequestOptions): Promise<Group> => {
      const body = this.#spec<{ address: string }>(groupKind as unknown as KindDescriptor, spec);
      return this.#call(
        "putGroup",
        { domain: domainOf(body.address), group: body.address },
        { ...options, body },
      );
    },
    patch: (address: string, patch: GroupPatch, options?: RequestOptions): Promise<Group> =>
      this.#call("patchGroup", { domain: domainOf(address), group: address }, { ...options, body: patch }),
    delete: (address: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteGroup", { domain: domainOf(address), group: address }, options),
  };

  /**
   * Access rules, by scope (`account`, a domain or a user address) and service (`smtp-submission`,
   * `api`): which networks may sign in.
   */
  readonly accessRules = {
    list: (query: ListQuery = {}, options?: RequestOptions): Promise<Page<AccessRule>> =>
      this.#call("listAccessRules", {}, { ...options, query }),
    get: (scope: string, service: AccessService, options?: RequestOptions): Promise<AccessRule> =>
      this.#call("getAccessRule", { scope, service }, options),
    put: (spec: AccessRuleSpecInput, options?: RequestOptions): Promise<AccessRule> => {
      const body = this.#spec<{ scope: string; service: string }>(
        accessRuleKind as unknown as KindDescriptor,
        spec,
      );
      return this.#call("putAccessRule", { scope: body.scope, service: body.service }, { ...options, body });
    },
    patch: (
      scope: string,
      service: AccessService,
      patch: AccessRulePatch,
      options?: RequestOptions,
    ): Promise<AccessRule> => this.#call("patchAccessRule", { scope, service }, { ...options, body: patch }),
    delete: (scope: string, service: AccessService, options?: RequestOptions): Promise<void> =>
      this.#call("deleteAccessRule", { scope, service }, options),
  };

  /** Sender and recipient allow/block lists; a list is named `kind-target` (`block-sender`). */
  readonly senderLists = {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<SenderList>> =>
      this.#call("listSenderLists", { domain }, { ...options, query }),
    get: (domain: string, list: string, options?: RequestOptions): Promise<SenderList> =>
      this.#call("getSenderList", { domain, list }, options),
    put: (spec: SenderListSpecInput, options?: RequestOptions): Promise<SenderList> => {
      const kind = senderListKind as unknown as KindDescriptor;
      const body = this.#spec<Record<string, string>>(kind, spec);
      return this.#call("putSenderList", kind.params(body as never), { ...options, body });
    },
    patch: (
      domain: string,
      list: string,
      patch: SenderListPatch,
      options?: RequestOptions,
    ): Promise<SenderList> => this.#call("patchSenderList", { domain, list }, { ...options, body: patch }),
    delete: (domain: string, list: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteSenderList", { domain, list }, options),
  };

  /** Filter settings of `account` (the default) or a domain: a singleton, reset rather than deleted. */
  readonly filterSettings = {
    get: (scope: string, options?: RequestOptions): Promise<FilterSettings> =>
      this.#singleton("get", "FilterSettings", scope, options),
    put: (spec: FilterSettingsSpecInput, options?: RequestOptions): Promise<FilterSettings> => {
      const body = this.#spec<{ scope: string }>(filterSettingsKind as unknown as KindDescriptor, spec);
      return this.#singleton("put", "FilterSettings", body.scope, { ...options, body });
    },
    patch: (scope: string, patch: FilterSettingsPatch, options?: RequestOptions): Promise<FilterSettings> =>
      this.#singleton("patch", "FilterSettings", scope, { ...options, body: patch }),
    /** Resets to the defaults and returns them. */
    reset: (scope: string, options?: RequestOptions): Promise<FilterSettings> =>
      this.#singleton("reset", "FilterSettings", scope, options),
  };

  /** Report settings of `account` (the default) or a domain: a singleton, reset rather than deleted. */
  readonly reportSettings = {
    get: (scope: string, options?: RequestOptions): Promise<ReportSettings> =>
      this.#singleton("get", "ReportSettings", scope, options),
    put: (spec: ReportSettingsSpecInput, options?: RequestOptions): Promise<ReportSettings> => {
      const body = this.#spec<{ scope: string }>(reportSettingsKind as unknown as KindDescriptor, spec);
      return this.#singleton("put", "ReportSettings", body.scope, { ...options, body });
    },
    patch: (scope: string, patch: ReportSettingsPatch, options?: RequestOptions): Promise<ReportSettings> =>
      this.#singleton("patch", "ReportSettings", scope, { ...options, body: patch }),
    /** Resets to the defaults (nothing is sent) and returns them. */
    reset: (scope: string, options?: RequestOptions): Promise<ReportSettings> =>
      this.#singleton("reset", "ReportSettings", scope, options),
  };

  /** Password policies of `account` or a domain: a singleton, reset rather than deleted. */
  readonly passwordPolicies = {
    get: (scope: string, options?: RequestOptions): Promise<PasswordPolicy> =>
      this.#singleton("get", "PasswordPolicy", scope, options),
    put: (spec: PasswordPolicySpecInput, options?: RequestOptions): Promise<PasswordPolicy> => {
      const body = this.#spec<{ scope: string }>(passwordPolicyKind as unknown as KindDescriptor, spec);
      return this.#singleton("put", "PasswordPolicy", body.scope, { ...options, body });
    },
    patch: (scope: string, patch: PasswordPolicyPatch, options?: RequestOptions): Promise<PasswordPolicy> =>
      this.#singleton("patch", "PasswordPolicy", scope, { ...options, body: patch }),
    /** Resets to the defaults and returns them. */
    reset: (scope: string, options?: RequestOptions): Promise<PasswordPolicy> =>
      this.#singleton("reset", "PasswordPolicy", scope, options),
  };

  /** Users, by address. A user must be disabled before deletion. */
  readonly users = {
    list: (domain: string, query: ListQuery = {}, options?: RequestOptions): Promise<Page<User>> =>
      this.#call("listUsers", { domain }, { ...options, query }),
    get: (address: string, options?: RequestOptions): Promise<User> =>
      this.#call("getUser", { domain: domainOf(address), user: address }, options),
    put: (spec: UserSpecInput, options?: RequestOptions): Promise<User> => {
      const body = this.#spec<{ address: string }>(userKind as unknown as KindDescriptor, spec);
      return this.#call(
        "putUser",
        { domain: domainOf(body.address), user: body.address },
        { ...options, body },
      );
    },
    patch: (address: string, patch: UserPatch, options?: RequestOptions): Promise<User> =>
      this.#call("patchUser", { domain: domainOf(address), user: address }, { ...options, body: patch }),
    /** `PATCH { enabled: true }`. */
    enable: (address: string, options?: RequestOptions): Promise<User> =>
      this.#call(
        "patchUser",
        { domain: domainOf(address), user: address },
        { ...options, body: { enabled: true } },
      ),
    /** `PATCH { enabled: false }`: the user can no longer log in and their mail is refused. */
    disable: (address: string, options?: RequestOptions): Promise<User> =>
      this.#call(
        "patchUser",
        { domain: domainOf(address), user: address },
        { ...options, body: { enabled: false } },
      ),
    /** Deletes a disabled user (409 MP_USER_ENABLED otherwise). */
    delete: (address: string, options?: RequestOptions): Promise<void> =>
      this.#call("deleteUser", { domain: domainOf(address), user: address }, options),
  };

  /**
   * The SMTP engine's operations on a domain: quarantine, delivery queue, message log, statistics.
   * A control plane without an engine in its process answers 503 (MP_UNAVAILABLE).
   */
  readonly operations = {
    listQuarantine: (
      domain: string,
      query: QuarantineQueryInput = {},
      options?: RequestOptions,
    ): Promise<Page<QuarantineEntry>> => this.#call("listQuarantine", { domain }, { ...options, query }),
    getQuarantined: (domain: string, id: string, options?: RequestOptions): Promise<QuarantinedMessage> =>
      this.#call("getQuarantinedMessage", { domain, message: id }, options),
    /**
     * Delivers a held message to its recipients; the answer names its new queue ID. `report: "ham"`
     * also teaches rspamd's Bayes classifier that it is ham (MP_FILTER_TRAINING_UNAVAILABLE without rspamd).
     * @example await client.operations.release("example.com", id, { report: "ham" })
     */
    release: (
      domain: string,
      id: string,
      options?: RequestOptions & { report?: "ham" },
    ): Promise<{ id: string; queueId: string }> =>
      this.#call("releaseQuarantinedMessage", { domain, message: id }, withReportQuery(options)),
    /**
     * Reports a message (its raw RFC 5322 bytes, an .eml file; at most 10 MiB) as spam or ham: rspamd's
     * Bayes classifier learns it. MP_FILTER_TRAINING_UNAVAILABLE when the platform does not score with rspamd.
     * @example await client.operations.report("example.com", "spam", readFileSync("junk.eml")) // { learned: "spam", size: 2048 }
     */
    report: (
      domain: string,
      kind: "spam" | "ham",
      eml: Uint8Array,
      options?: RequestOptions,
    ): Promise<{ learned: "spam" | "ham"; size: number }> =>
      this.#call(
        kind === "spam" ? "reportSpam" : "reportHam",
        { domain },
        { ...options, rawBody: { mediaType: "message/rfc822", bytes: eml } },
      ),
    /**
     * Deletes a held message. `report: "spam"` ("delete and report as spam") first teaches rspamd's
     * Bayes classifier that it is spam (MP_FILTER_TRAINING_UNAVAILABLE without rspamd, MP_UNAVAILABLE
     * when rspamd refuses: it stays held).
     * @example await client.operations.deleteQuarantined("example.com", id, { report: "spam" })
     */
    deleteQuarantined: (
      domain: string,
      id: string,
      options?: RequestOptions & { report?: "spam" },
    ): Promise<void> =>
      this.#call("deleteQuarantinedMessage", { domain, message: id }, withReportQuery(options)),
    purgeQuarantine: (domain: string, options?: RequestOptions): Promise<{ purged: string[] }> =>
      this.#call("purgeQuarantine", { domain }, options),
    listQueue: (
      domain: string,
      query: { limit?: number } = {},
      options?: RequestOptions,
    ): Promise<Page<QueuedMessage>> => this.#call("listQueue", { domain }, { ...options, query }),
    getQueued: (
      domain: string,
      id: string,
      options?: RequestOptions,
    ): Promise<QueuedMessage & { raw: string }> =>
      this.#call("getQueuedMessage", { domain, message: id }, options),
    retry: (domain: string, id: string, options?: RequestOptions): Promise<{ retried: number }> =>
      this.#call("retryQueuedMessage", { domain, message: id }, options),
    retryAll: (domain: string, options?: RequestOptions): Promise<{ retried: number }> =>
      this.#call("retryQueue", { domain }, options),
    /**
     * Deletes a queued message without delivering it. `report: "spam"` ("delete and report as spam")
     * first teaches rspamd's Bayes classifier that it is spam (MP_FILTER_TRAINING_UNAVAILABLE without
     * rspamd; MP_CONFLICT while it is being delivered or when it also goes to another account).
     * @example await client.operations.deleteQueued("example.com", id, { report: "spam" })
     */
    deleteQueued: (
      domain: string,
      id: string,
      options?: RequestOptions & { report?: "spam" },
    ): Promise<void> => this.#call("deleteQueuedMessage", { domain, message: id }, withReportQuery(options)),
    /** Forgets the domain's cached recipient callout answers. @example await client.operations.clearCalloutCache("example.com") // { cleared: 3 } */
    clearCalloutCache: (domain: string, options?: RequestOptions): Promise<{ cleared: number }> =>
      this.#call("clearCalloutCache", { domain }, options),
    searchLog: (
      domain: string,
      query: MessageLogQueryInput = {},
      options?: RequestOptions,
    ): Promise<Page<MessageLogEntry>> => this.#call("searchMessageLog", { domain }, { ...options, query }),
    statistics: (
      domain: string,
      query: { since?: string; until?: string } = {},
      options?: RequestOptions,
    ): Promise<DomainStatistics> => this.#call("getDomainStatistics", { domain }, { ...options, query }),
  };

  /**
   * A mail user's sign-in. `create` needs no token; the others take the session's token (make a
   * client with `token: session.token`). A `second-factor` session finishes with `secondFactor`.
   * @example const session = await client.sessions.create({ address: "alice@example.com", password });
   */
  readonly sessions = {
    create: (body: SignIn, options?: RequestOptions): Promise<Session> =>
      this.#call("createSession", {}, { ...options, body }),
    secondFactor: (code: string, options?: RequestOptions): Promise<Session> =>
      this.#call("completeSecondFactor", {}, { ...options, body: { code } }),
    /** Signs out: the session's token stops working. */
    delete: (options?: RequestOptions): Promise<void> => this.#call("deleteSession", {}, options),
    /** What to do about a lost password for `address`, and whether self-service reset is offered. No token needed. */
    lostPassword: (address: string, options?: RequestOptions): Promise<LostPasswordHelp> =>
      this.#call("getLostPasswordHelp", {}, { ...options, query: { address } }),
  };

  /**
   * Self-service password reset; no token needed. `request` always resolves the same (a link goes to
   * the user's external address when one is due); `complete` sets the password with the link's token.
   * @example await client.passwordResets.complete(tokenFromTheMail, "New-Horse-8");
   */
  readonly passwordResets = {
    request: (address: string, options?: RequestOptions): Promise<PasswordResetAccepted> =>
      this.#call("requestPasswordReset", {}, { ...options, body: { address } }),
    complete: (token: string, password: string, options?: RequestOptions): Promise<void> =>
      this.#call("completePasswordReset", { token }, { ...options, body: { password } }),
  };

  /** The signed-in mail user's own data; a client made with a session's token. Admin tokens get 403. */
  readonly me = {
    get: (options?: RequestOptions): Promise<Me> => this.#call("getMe", {}, options),
    changePassword: (
      currentPassword: string,
      newPassword: string,
      options?: RequestOptions,
    ): Promise<Session> =>
      this.#call("changeMyPassword", {}, { ...options, body: { currentPassword, newPassword } }),
    enrolTotp: (options?: RequestOptions): Promise<TotpEnrolment> => this.#call("enrolTotp", {}, options),
    confirmTotp: (code: string, options?: RequestOptions): Promise<Session> =>
      this.#call("confirmTotp", {}, { ...options, body: { code } }),
    removeTotp: (code: string, options?: RequestOptions): Promise<void> =>
      this.#call("removeTotp", {}, { ...options, body: { code } }),
    listAppPasswords: (options?: RequestOptions): Promise<Page<AppPassword>> =>
      this.#call("listAppPasswords", {}, options),
    createAppPassword: (spec: AppPasswordSpec, options?: RequestOptions): Promise<AppPasswordCreated> =>
      this.#call("createAppPassword", {}, { ...options, body: spec }),
    revokeAppPassword: (id: string, options?: RequestOptions): Promise<void> =>
      this.#call("revokeAppPassword", { appPassword: id }, options),
    listQuarantine: (
      query: QuarantineQueryInput = {},
      options?: RequestOptions,
    ): Promise<Page<QuarantineEntry>> => this.#call("listMyQuarantine", {}, { ...options, query }),
    getQuarantined: (id: string, options?: RequestOptions): Promise<QuarantinedMessage> =>
      this.#call("getMyQuarantinedMessage", { message: id }, options),
    /**
     * Releases a held message to the user's own addresses (others' copies stay held). `report: "ham"`
     * ("not spam") first teaches rspamd's Bayes classifier that it is ham (MP_FILTER_TRAINING_UNAVAILABLE
     * without rspamd, MP_UNAVAILABLE when rspamd refuses: it stays held).
     * @example await client.me.release(id, { report: "ham" })
     */
    release: (
      id: string,
      options?: RequestOptions & { report?: "ham" },
    ): Promise<{ id: string; queueId: string }> =>
      this.#call("releaseMyQuarantinedMessage", { message: id }, withReportQuery(options)),
    /**
     * Deletes a held message for the user's own addresses (others' copies stay held). `report: "spam"`
     * ("delete and report as spam") first teaches rspamd's Bayes classifier that it is spam
     * (MP_FILTER_TRAINING_UNAVAILABLE without rspamd, MP_UNAVAILABLE when rspamd refuses: it stays held).
     * @example await client.me.deleteQuarantined(id, { report: "spam" })
     */
    deleteQuarantined: (id: string, options?: RequestOptions & { report?: "spam" }): Promise<void> =>
      this.#call("deleteMyQuarantinedMessage", { message: id }, withReportQuery(options)),
    searchLog: (query: MessageLogQueryInput = {}, options?: RequestOptions): Promise<Page<MessageLogEntry>> =>
      this.#call("searchMyMessageLog", {}, { ...options, query }),
    /** The user's own sign-ins and SMTP AUTH attempts, newest first. */
    loginAudit: (query: MyLoginAuditQuery = {}, options?: RequestOptions): Promise<Page<LoginAuditEntry>> =>
      this.#call("listMyLoginAudit", {}, { ...options, query }),
  };

  /** get/put/patch/reset of a singleton at the account path or the domain path. */
  #singleton<T>(
    verb: "get" | "put" | "patch" | "reset",
    kind: "FilterSettings" | "PasswordPolicy" | "ReportSettings",
    scope: string,
    options?: RawRequest,
  ): Promise<T> {
    const params = scopeParams(scope);
    const at = params["domain"] === undefined ? "Account" : "Domain";
    return this.#call(`${verb}${at}${kind}`, params, options);
  }
}

/** The domain a tenancy document declares (the path it is sent to); the server checks it again. */
function tenancyDomain(document: DomainTenancyDocumentInput): string {
  const name = document.domains?.[0]?.name;
  if (typeof name !== "string" || name === "") {
    throw validationErrorFromFields([
      { path: ["domains", 0, "name"], code: "invalid_type", message: "is required", in: "body" },
    ]);
  }
  return name;
}
