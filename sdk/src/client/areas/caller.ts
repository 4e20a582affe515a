/** What every API area of MailplaneClient is built on: the contract caller, and the path and query helpers the areas share. */
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { endpoint as endpointOf } from "../../contract/index.ts";
import { validationError } from "../../errors.ts";
import { fillPath } from "../../models/kinds.ts";
import type { RawRequest, RequestOptions } from "../options.ts";

/** MailplaneClient's `request`: one call with the client's auth, timeout and retries. */
export type SendRequest = <T>(
  method: Dispatcher.HttpMethod,
  path: string,
  options?: RawRequest,
) => Promise<T>;

/** A singleton kind: one object per scope (`account` or a domain), reset rather than deleted. */
export type SingletonKindName = "FilterSettings" | "PasswordPolicy" | "ReportSettings";

/**
 * How an area's methods reach the control plane. Internal to the client: the package does not export
 * it, so users see only the typed groups built on it (`client.routes`, …).
 */
export interface ContractCaller {
  /** Calls a contract endpoint by operationId with its path parameters. */
  call<T>(operationId: string, params: Record<string, string>, options?: RawRequest): Promise<T>;
  /** Parses a spec with its kind's schema (normalising it) or throws MP_VALIDATION_FAILED locally. */
  spec<S extends z.ZodType>(kind: { readonly spec: S }, input: unknown): z.output<S>;
  /** get/put/patch/reset of a singleton at the account path or the domain path. */
  singleton<T>(
    verb: "get" | "put" | "patch" | "reset",
    kind: SingletonKindName,
    scope: string,
    options?: RawRequest,
  ): Promise<T>;
}

/**
 * The contract caller over a client's `request`, which it calls anew each time (so it always sends
 * with the client's current auth, timeout and retries).
 * @example
 * const api = contractCaller((method, path, options) => client.request(method, path, options));
 * await api.call("getDomain", { domain: "example.com" });
 */
export function contractCaller(request: SendRequest): ContractCaller {
  const call = <T>(operationId: string, params: Record<string, string>, options: RawRequest = {}) => {
    const e = endpointOf(operationId);
    return request<T>(e.method, fillPath(e.path, params), options);
  };
  return {
    call,
    spec(kind, input) {
      const result = kind.spec.safeParse(input);
      if (!result.success) throw validationError(result.error, "body");
      return result.data;
    },
    singleton(verb, kind, scope, options) {
      const params = scopeParams(scope);
      const at = params["domain"] === undefined ? "Account" : "Domain";
      return call(`${verb}${at}${kind}`, params, options);
    },
  };
}

/** `example.com` or `account` → the singleton's path parameters. */
function scopeParams(scope: string): Record<string, string> {
  return scope.trim().toLowerCase() === "account" ? {} : { domain: scope };
}

/**
 * The path parameters of an object named by its address (a user, an alias, a group): its domain and,
 * under `param`, the address itself.
 * @example addressParams("alias", "info@example.com") // { domain: "example.com", alias: "info@example.com" }
 */
export function addressParams(param: string, address: string): Record<string, string> {
  return { domain: address.slice(address.lastIndexOf("@") + 1), [param]: address };
}

/**
 * A call's options with `report` (a report to the spam filter: `spam` or `ham`) moved into its query.
 * @example withReportQuery({ report: "spam" }) // { query: { report: "spam" } }
 */
export function withReportQuery(options: (RequestOptions & { report?: string }) | undefined): RawRequest {
  const { report, ...rest } = options ?? {};
  return { ...rest, ...(report ? { query: { report } } : {}) };
}
