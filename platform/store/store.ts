/** The store's interface: what the control plane and the SMTP engine may ask of SQLite or PostgreSQL, composed of one interface per concern (see contract/). */
import type { AccountStore } from "./contract/account-store.ts";
import type { AuditStore } from "./contract/audit-store.ts";
import type { ChangeFeedStore } from "./contract/change-feed-store.ts";
import type { CredentialStore } from "./contract/credential-store.ts";
import type { DomainNameStore } from "./contract/domain-name-store.ts";
import type { IdempotencyStore } from "./contract/idempotency-store.ts";
import type { LoginAuditStore } from "./contract/login-audit-store.ts";
import type { LoginLockoutStore } from "./contract/login-lockout-store.ts";
import type { NoticeOutboxStore } from "./contract/notice-outbox-store.ts";
import type { ObjectStore } from "./contract/object-store.ts";
import type { ReportSendStore } from "./contract/report-send-store.ts";
import type { SettingStore } from "./contract/setting-store.ts";
import type { TenancyStore } from "./contract/tenancy-store.ts";
import type { TokenStore } from "./contract/token-store.ts";
import type { UserAuthStore } from "./contract/user-auth-store.ts";

/**
 * The store both adapters implement. Every write runs in one transaction together with its audit entry
 * and (for tenancy objects) its change-log entry and revision bump; nothing is ever half-applied.
 *
 * Returned records may be shared between callers: treat them as read-only. Plain reads are memoised:
 * on SQLite until any connection or process commits (checked on every read, so never stale); on
 * PostgreSQL until this node commits or a NOTIFY from another node arrives (at its COMMIT), never
 * longer than a second, and not at all while the LISTEN connection is down. Conditional writes are
 * always checked against the database itself.
 *
 * @example
 * const store = await openStore({ dataDir: ".data" });
 * const { object } = await store.putObject(
 *   { accountId: "acme", kind: "Domain", id: "example.com", domain: "example.com", spec: { name: "example.com" } },
 *   { actor: "system" },
 * );
 * const stop = store.watch((ev) => console.log("revision", ev.revision));
 */
export interface Store
  extends AccountStore,
    TokenStore,
    ObjectStore,
    TenancyStore,
    DomainNameStore,
    CredentialStore,
    LoginLockoutStore,
    LoginAuditStore,
    NoticeOutboxStore,
    ReportSendStore,
    AuditStore,
    IdempotencyStore,
    SettingStore,
    ChangeFeedStore,
    UserAuthStore {
  readonly dialect: "sqlite" | "postgres";

  close(): Promise<void>;
}
