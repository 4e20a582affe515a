/** The `audit` and `lockouts` groups of MailplaneClient: who did what, who signed in, and who is locked out. */
import type { AuditEntry, AuditQuery } from "../../models/audit.ts";
import type { LoginLockout, LoginLockoutQuery } from "../../models/lockout.ts";
import type { LoginAuditEntry, LoginAuditQuery } from "../../models/login-audit.ts";
import type { Page } from "../../models/page.ts";
import type { RequestOptions } from "../options.ts";
import type { ContractCaller } from "./caller.ts";

/**
 * `client.audit`: the audit log, newest first, and a domain's login audit.
 * @example await client.audit.list({ limit: 20 })
 */
export function auditApi(api: ContractCaller) {
  return {
    list: (query: AuditQuery = {}, options?: RequestOptions): Promise<Page<AuditEntry>> =>
      api.call("listAudit", {}, { ...options, query }),
    /** @example await client.audit.logins("example.com", { user: "alice@example.com", result: "failure" }) */
    logins: (
      domain: string,
      query: LoginAuditQuery = {},
      options?: RequestOptions,
    ): Promise<Page<LoginAuditEntry>> => api.call("listLoginAudit", { domain }, { ...options, query }),
  };
}

/** The type of `client.audit`. */
export type AuditApi = ReturnType<typeof auditApi>;

/**
 * `client.lockouts`: SMTP login lockouts, per client IPv4 address or IPv6 /64.
 * @example await client.lockouts.lift("192.0.2.1")
 */
export function lockoutsApi(api: ContractCaller) {
  return {
    list: (query: LoginLockoutQuery = {}, options?: RequestOptions): Promise<Page<LoginLockout>> =>
      api.call("listLoginLockouts", {}, { ...options, query }),
    /** Lifts the lockout of a key (`192.0.2.1`, `2001:db8:1:2::/64`, or any address in that /64). */
    lift: (key: string, options?: RequestOptions): Promise<void> =>
      api.call("liftLoginLockout", { key }, options),
  };
}

/** The type of `client.lockouts`. */
export type LockoutsApi = ReturnType<typeof lockoutsApi>;
