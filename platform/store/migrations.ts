/**
 * The one migration history both adapters apply. Statements are written once; the few dialect
 * differences are tokens expanded per dialect ({C}: binary collation for keys we paginate on, {SEQ}:
 * an auto-increment key, {BIGINT}, {EXTRAS}: each User row joined with the extra addresses of its spec).
 *
 * Why one `objects` table for every tenancy kind rather than a table per kind: all kinds share one
 * lifecycle (etag/version, audit, idempotency, cursor pagination, change feed, the SMTP snapshot), the
 * spec is validated by the zod model before it reaches the store, and nothing queries inside a spec —
 * the SMTP engine works from its in-memory snapshot (the one thing a write must look up inside specs,
 * a user's extra addresses, has a table of its own: recipient_addresses). One table is one code path
 * and one snapshot query; a new kind in the model needs no migration. IDs are namespaced by domain name (`example.com/…`,
 * `alice@example.com`), so a partial unique index on (kind, id) keeps a domain and everything under it
 * owned by exactly one account.
 *
 * To add a migration, append to MIGRATIONS with the next version; never edit an applied one.
 */
import type { SqlDriver, SqlExecutor } from "./sql.ts";

/** One numbered migration: statements applied in order, in one transaction. */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "accounts, tokens, tenancy objects, credentials, audit, idempotency, change feed",
    statements: [
      `CREATE TABLE accounts (
        id TEXT{C} PRIMARY KEY,
        spec TEXT NOT NULL,
        etag TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      // Only the sha256 of a token's secret is kept; the prefix lets people recognise a token.
      `CREATE TABLE api_tokens (
        id TEXT{C} PRIMARY KEY,
        account_id TEXT{C},
        description TEXT NOT NULL,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        domains TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        created_by TEXT
      )`,
      "CREATE INDEX api_tokens_account ON api_tokens (account_id, id)",
      // domain is '' (not NULL) for account-wide objects so it can sit in indexes and equality tests.
      `CREATE TABLE objects (
        account_id TEXT{C} NOT NULL,
        kind TEXT{C} NOT NULL,
        id TEXT{C} NOT NULL,
        domain TEXT{C} NOT NULL DEFAULT '',
        spec TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        etag TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        secret_set_at TEXT,
        PRIMARY KEY (account_id, kind, id)
      )`,
      "CREATE UNIQUE INDEX objects_global_id ON objects (kind, id) WHERE domain <> ''",
      "CREATE INDEX objects_domain ON objects (account_id, domain, kind, id)",
      // failed_logins/last_failed_at/locked_until belong to the SMTP engine's login lockout.
      `CREATE TABLE user_credentials (
        account_id TEXT{C} NOT NULL,
        user_id TEXT{C} NOT NULL,
        hash TEXT NOT NULL,
        set_at TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        last_failed_at TEXT,
        locked_until TEXT,
        PRIMARY KEY (account_id, user_id)
      )`,
      "CREATE INDEX user_credentials_user ON user_credentials (user_id)",
      `CREATE TABLE password_history (
        account_id TEXT{C} NOT NULL,
        user_id TEXT{C} NOT NULL,
        hash TEXT NOT NULL,
        set_at TEXT NOT NULL,
        PRIMARY KEY (account_id, user_id, hash)
      )`,
      `CREATE TABLE audit_log (
        seq {SEQ},
        at TEXT NOT NULL,
        account_id TEXT{C},
        actor TEXT NOT NULL,
        actor_role TEXT,
        action TEXT NOT NULL,
        kind TEXT NOT NULL,
        object_id TEXT NOT NULL,
        before_json TEXT,
        after_json TEXT,
        request_id TEXT
      )`,
      "CREATE INDEX audit_log_account ON audit_log (account_id, seq)",
      "CREATE INDEX audit_log_object ON audit_log (object_id, seq)",
      `CREATE TABLE idempotency (
        token_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (token_id, idem_key)
      )`,
      "CREATE INDEX idempotency_expiry ON idempotency (expires_at)",
      // The single revision row doubles as the writers' lock (PostgreSQL: SELECT … FOR UPDATE), so
      // revisions are assigned in commit order and change_log never shows a gap that fills in later.
      "CREATE TABLE tenancy_revision (id INTEGER PRIMARY KEY, revision {BIGINT} NOT NULL)",
      "INSERT INTO tenancy_revision (id, revision) VALUES (1, 0)",
      `CREATE TABLE change_log (
        revision {BIGINT} PRIMARY KEY,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        object_id TEXT NOT NULL,
        op TEXT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: "platform settings shared by every node (e.g. the DKIM key pair)",
    statements: [
      "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)",
    ],
  },
  {
    version: 3,
    name: "domain ownership: verification status per domain name (server state, not declared)",
    statements: [
      // One row per name (a Domain's name or domain alias) once it was checked or marked; no row is
      // "pending, never checked". Rows go with the Domain (or the alias) that holds the name, so a
      // name given up and claimed again is verified again.
      `CREATE TABLE domain_verifications (
        account_id TEXT{C} NOT NULL,
        name TEXT{C} NOT NULL,
        domain TEXT{C} NOT NULL,
        status TEXT NOT NULL,
        method TEXT,
        verified_at TEXT,
        checked_at TEXT,
        check_result TEXT,
        check_detail TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (account_id, name)
      )`,
      "CREATE INDEX domain_verifications_domain ON domain_verifications (account_id, domain)",
      // A name is verified for one account at most, whatever the code above the store does.
      "CREATE UNIQUE INDEX domain_verifications_verified ON domain_verifications (name) WHERE status = 'verified'",
    ],
  },
  {
    version: 4,
    name: "object generations: each object's lifetime gets its own ID (a Domain's data belongs to one lifetime)",
    statements: [
      // '' marks objects created before generations existed: the engine files their mail data under
      // the layout of that time (see platform/smtp/owners.ts).
      "ALTER TABLE objects ADD COLUMN generation TEXT NOT NULL DEFAULT ''",
    ],
  },
  {
    version: 5,
    name: "login lockouts per IPv4 address or IPv6 /64, shared by every engine on the store",
    statements: [
      // One row per lockout key. `failures` is a JSON array of failure times (ms), oldest first,
      // pruned to the attempted domain's window; `expires_at` is when the row stops mattering (the
      // lock ended and its failures aged out), after which it is purged.
      `CREATE TABLE login_lockouts (
        lock_key TEXT{C} PRIMARY KEY,
        failures TEXT NOT NULL,
        last_failure_at TEXT NOT NULL,
        locked_at TEXT,
        locked_until TEXT,
        expires_at TEXT NOT NULL
      )`,
      "CREATE INDEX login_lockouts_expiry ON login_lockouts (expires_at)",
      // Which domains (and so which accounts) a key's failures aimed at: account admins see and may
      // lift the lockouts that concern their domains. '' stands for a name no account hosts.
      `CREATE TABLE login_lockout_targets (
        lock_key TEXT{C} NOT NULL,
        account_id TEXT{C} NOT NULL,
        domain TEXT{C} NOT NULL,
        failures INTEGER NOT NULL,
        last_failure_at TEXT NOT NULL,
        PRIMARY KEY (lock_key, account_id, domain)
      )`,
      "CREATE INDEX login_lockout_targets_account ON login_lockout_targets (account_id, lock_key)",
    ],
  },
  {
    version: 6,
    name: "user sign-in: sessions, TOTP second factor with recovery codes, application passwords",
    statements: [
      // Only the sha256 of a session's secret is kept. `stage` is what the session may do:
      // `active`, or one step first (`second-factor`, `password-change`, `two-factor-enrolment`).
      `CREATE TABLE user_sessions (
        id TEXT{C} PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        account_id TEXT{C} NOT NULL,
        user_id TEXT{C} NOT NULL,
        stage TEXT NOT NULL,
        ip TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        revoked_at TEXT
      )`,
      "CREATE INDEX user_sessions_user ON user_sessions (account_id, user_id)",
      // The TOTP secret is sealed with the master key (AES-256-GCM); `last_step` refuses replays.
      `CREATE TABLE user_totp (
        account_id TEXT{C} NOT NULL,
        user_id TEXT{C} NOT NULL,
        sealed_secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        last_step {BIGINT},
        PRIMARY KEY (account_id, user_id)
      )`,
      // sha256 of each recovery code; a used code's row is deleted.
      `CREATE TABLE user_recovery_codes (
        account_id TEXT{C} NOT NULL,
        user_id TEXT{C} NOT NULL,
        code_hash TEXT NOT NULL,
        PRIMARY KEY (account_id, user_id, code_hash)
      )`,
      `CREATE TABLE app_passwords (
        id TEXT{C} PRIMARY KEY,
        account_id TEXT{C} NOT NULL,
        user_id TEXT{C} NOT NULL,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
      )`,
      "CREATE INDEX app_passwords_user ON app_passwords (account_id, user_id, id)",
    ],
  },
  {
    version: 7,
    name: "login audit: sign-in and SMTP AUTH attempts per hosted domain, coalesced per hour; the notice outbox",
    statements: [
      // One row per (account, domain, clock hour, address, ip, service, result, reason, credential):
      // repeated attempts count up instead of adding rows. '' stands for no reason / no credential.
      // Rows are purged once their last attempt is older than the retention (see login-audit.ts).
      `CREATE TABLE login_audit (
        seq {SEQ},
        account_id TEXT{C} NOT NULL,
        domain TEXT{C} NOT NULL,
        address TEXT{C} NOT NULL,
        user_exists INTEGER NOT NULL,
        ip TEXT{C} NOT NULL,
        service TEXT{C} NOT NULL,
        result TEXT{C} NOT NULL,
        reason TEXT{C} NOT NULL,
        credential TEXT{C} NOT NULL,
        hour {BIGINT} NOT NULL,
        count INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL
      )`,
      `CREATE UNIQUE INDEX login_audit_key
        ON login_audit (account_id, domain, hour, address, ip, service, result, reason, credential)`,
      "CREATE INDEX login_audit_domain ON login_audit (account_id, domain, seq)",
      "CREATE INDEX login_audit_address ON login_audit (account_id, address, seq)",
      "CREATE INDEX login_audit_expiry ON login_audit (last_at)",
      // The notice outbox (see notices.ts): mail the platform owes a person, written by any process
      // (in the transaction of what caused it) and sent by whichever engine claims it. The key is the
      // notice's identity: a throttle or a once-only mail is a key that already exists.
      `CREATE TABLE notice_outbox (
        notice_key TEXT{C} PRIMARY KEY,
        account_id TEXT{C} NOT NULL,
        domain TEXT{C} NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        claimed_by TEXT,
        claimed_until TEXT,
        sent_at TEXT,
        queue_id TEXT
      )`,
      "CREATE INDEX notice_outbox_pending ON notice_outbox (sent_at, created_at)",
    ],
  },
  {
    version: 8,
    name: "managed-by stamps: the Pulumi stack that declares an object",
    statements: [
      // Canonical JSON of the ManagedBy stamp (tool, project, stack …), NULL when no stack wrote the
      // object. Set by a write that carries the Mailplane-Managed-By header, kept by one without it,
      // gone with the row.
      "ALTER TABLE objects ADD COLUMN managed_by TEXT",
    ],
  },
  {
    version: 9,
    name: "report sends: each digest and domain report once per period across engines and restarts",
    statements: [
      // One row per send key (kind|account|domain|generation|recipient|period; see report-sends.ts):
      // an engine claims the key before it queues the notice and marks it sent after, so engines
      // sharing the store send each one once. Rows are purged a while after their period is over.
      `CREATE TABLE report_sends (
        send_key TEXT{C} PRIMARY KEY,
        claimed_by TEXT NOT NULL,
        claimed_until TEXT NOT NULL,
        sent_at TEXT,
        queue_id TEXT,
        created_at TEXT NOT NULL
      )`,
      "CREATE INDEX report_sends_created ON report_sends (created_at)",
    ],
  },
  {
    version: 10,
    name: "change feed: one revision per write transaction (a tenancy apply is one revision)",
    statements: [
      // A revision is a committed write transaction, however many objects it changed: the change log
      // holds each change as (revision, seq), seq counting the changes of that transaction in order.
      `CREATE TABLE change_log_v10 (
        revision {BIGINT} NOT NULL,
        seq INTEGER NOT NULL,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        object_id TEXT NOT NULL,
        op TEXT NOT NULL,
        PRIMARY KEY (revision, seq)
      )`,
      `INSERT INTO change_log_v10 (revision, seq, account_id, kind, object_id, op)
        SELECT revision, 0, account_id, kind, object_id, op FROM change_log`,
      "DROP TABLE change_log",
      "ALTER TABLE change_log_v10 RENAME TO change_log",
    ],
  },
  {
    version: 11,
    name: "recipient addresses: every address a User, Alias or Group holds, a user's extra addresses included",
    statements: [
      // One row per address an object holds (its own; a user's extra addresses too), kept in step by
      // every object write (recipient-addresses.ts), so "who holds this address" is a key probe, not a
      // scan of specs. Not unique on the address: rows backfilled from a store written before the rule
      // covered extra addresses may show one address twice; the write path refuses any new such pair.
      `CREATE TABLE recipient_addresses (
        account_id TEXT{C} NOT NULL,
        address TEXT{C} NOT NULL,
        kind TEXT{C} NOT NULL,
        id TEXT{C} NOT NULL,
        PRIMARY KEY (account_id, address, kind, id)
      )`,
      "CREATE INDEX recipient_addresses_holder ON recipient_addresses (account_id, kind, id)",
      `INSERT INTO recipient_addresses (account_id, address, kind, id)
        SELECT account_id, id, kind, id FROM objects WHERE kind IN ('User', 'Alias', 'Group')`,
      `INSERT INTO recipient_addresses (account_id, address, kind, id)
        SELECT o.account_id, e.value, o.kind, o.id FROM {EXTRAS} WHERE o.kind = 'User'
        ON CONFLICT DO NOTHING`,
    ],
  },
];

const TOKENS: Record<SqlDriver["dialect"], Record<string, string>> = {
  sqlite: {
    "{C}": "",
    "{SEQ}": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "{BIGINT}": "INTEGER",
    "{EXTRAS}": "objects o, json_each(o.spec, '$.addresses') e",
  },
  postgres: {
    "{C}": ' COLLATE "C"',
    "{SEQ}": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "{BIGINT}": "BIGINT",
    "{EXTRAS}": "objects o, jsonb_array_elements_text(o.spec::jsonb -> 'addresses') AS e(value)",
  },
};

/** A statement with its dialect tokens expanded. */
export function expandStatement(statement: string, dialect: SqlDriver["dialect"]): string {
  return statement.replace(/\{[A-Z]+\}/g, (token) => {
    const value = TOKENS[dialect][token];
    if (value === undefined) throw new Error(`unknown migration token ${token}`);
    return value;
  });
}

/**
 * Applies every pending migration in one transaction. Concurrent starters (several nodes on one
 * PostgreSQL, two processes on one SQLite file) wait for each other: PostgreSQL takes a transaction
 * advisory lock, SQLite's BEGIN IMMEDIATE holds the write lock.
 *
 * @returns the versions applied now (empty when the store was current).
 */
export async function migrate(driver: SqlDriver, now: () => Date): Promise<number[]> {
  return driver.transaction(async (q: SqlExecutor) => {
    if (driver.dialect === "postgres") {
      // The key is per schema so test schemas in one database migrate independently.
      await q.all("SELECT pg_advisory_xact_lock(hashtext('mailplane.migrate.' || current_schema()))");
    }
    await q.run(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL
      )`,
    );
    const rows = await q.all<{ version: number | string }>("SELECT version FROM schema_migrations");
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) {
        await q.run(expandStatement(statement, driver.dialect));
      }
      await q.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
        migration.version,
        migration.name,
        now().toISOString(),
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
