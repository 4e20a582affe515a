/**
 * `mailplane/provider-runtime`: what the serialized provider shim imports when a method runs, in the
 * dynamic-provider process. It dispatches `call(kind, method, args)` to the kind's implementation.
 */

import { resolveSettings, type StackConfig, setStackConfig } from "./lib/config.ts";
import { checkConnection, connectionOf } from "./lib/connection.ts";
import type { ResourceImpl } from "./lib/lifecycle.ts";
import type { ShimMethod } from "./lib/shim.ts";
import { withStamp } from "./lib/stamp.ts";
import { containsUnknown } from "./lib/unknown.ts";
import { accessRuleProvider } from "./resources/access-rule.ts";
import { accountProvider } from "./resources/account.ts";
import { aliasProvider } from "./resources/alias.ts";
import { apiTokenProvider } from "./resources/api-token.ts";
import { domainProvider } from "./resources/domain.ts";
import { domainTenancyProvider } from "./resources/domain-tenancy.ts";
import { filterSettingsProvider } from "./resources/filter-settings.ts";
import { groupProvider } from "./resources/group.ts";
import { passwordPolicyProvider } from "./resources/password-policy.ts";
import { reportSettingsProvider } from "./resources/report-settings.ts";
import { routeProvider } from "./resources/route.ts";
import { senderListProvider } from "./resources/sender-list.ts";
import { userProvider } from "./resources/user.ts";

/** Each kind's implementation, by the kind name the shim carries. */
export const providers: Readonly<Record<string, ResourceImpl>> = {
  Domain: domainProvider,
  Route: routeProvider,
  Alias: aliasProvider,
  SenderList: senderListProvider,
  FilterSettings: filterSettingsProvider,
  ReportSettings: reportSettingsProvider,
  PasswordPolicy: passwordPolicyProvider,
  User: userProvider,
  Group: groupProvider,
  AccessRule: accessRuleProvider,
  Account: accountProvider,
  ApiToken: apiTokenProvider,
  DomainTenancy: domainTenancyProvider,
};

/**
 * The one entry point of the shim; `by` is the program's `<project>/<stack>`. `configure` stores the stack config for this process (it is
 * called once per kind, with the same config); `check` also verifies that the provider is configured,
 * so a missing endpoint or token fails at preview, before anything changes.
 * @example await call("Domain", "check", [{}, { name: "example.com" }])
 */
export async function call(kind: string, method: ShimMethod, args: unknown[], by?: string): Promise<unknown> {
  if (method === "configure") {
    setStackConfig((args[0] as { config?: StackConfig } | undefined)?.config);
    return undefined;
  }
  const impl = providers[kind];
  if (impl === undefined) throw new Error(`mailplane: unknown resource kind ${kind}`);
  if (method === "check") {
    // A connection another resource completes in this run (a new token) is resolved at `up`.
    const connection = (args[1] as Record<string, unknown> | undefined)?.["connection"];
    // A malformed one is reported by the kind's check, field by field.
    if (!containsUnknown(connection) && checkConnection(connection).length === 0) {
      resolveSettings(connectionOf({ connection }));
    }
  }
  // `by`: the declaring stack, from the shim (older shims pass none); writes in this call are stamped with it.
  return withStamp(by, () => (impl[method] as (...a: unknown[]) => Promise<unknown>)(...args));
}
