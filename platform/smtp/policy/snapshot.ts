/** The SMTP engine's in-memory policy: hash maps built once from the declared tenancy, read per command. */
import { AccessRules } from "../../access-rules.ts";
import type { DkimSigningKey } from "./dkim-keys.ts";
import { AddressList, CidrSet, splitMailbox } from "./matchers.ts";

/** Filter settings as the model declares them (`FilterSettingsSpec`); missing fields take the defaults. */
export interface FilterSettingsInput {
  scope: string;
  quarantineEnabled?: boolean;
  quarantineThreshold?: number;
  tagThreshold?: number;
  unsureSubjectNotation?: string;
  quarantineResponse?: "reject" | "accept";
  quarantineDays?: number;
  skipSpf?: boolean;
  spfExemptNetworks?: string[];
  skipLineLengthCheck?: boolean;
  blockedExtensions?: string[];
  sizeLimitMb?: number;
  oversizedAction?: "reject" | "quarantine";
  dmarcPolicy?: "follow" | "ignore";
  trustedArcSealers?: string[];
}

/** The part of `PasswordPolicySpec` the engine enforces at SMTP AUTH. */
export interface PasswordPolicyInput {
  scope: string;
  expiry?: { days?: number | null; warnDays?: number[] };
  lockout?: { failures?: number; windowMinutes?: number; durationMinutes?: number };
}

/** `DomainSpec` fields the engine uses, the store's generation of the Domain, and which of its names are verified. */
export interface DomainInput {
  name: string;
  /** The Domain's lifetime ID from the store (`StoredObject.generation`); default '' (before generations). */
  generation?: string;
  aliases?: string[];
  /**
   * Which of the domain's names the account proved it owns: `true` for all (the name and every
   * alias), or the verified names. Default none: a name not verified is not local — the engine
   * treats it exactly like a domain the platform does not host (inbound mail refused as relay,
   * submitted, forwarded and automatic mail sent out as remote mail, its users cannot log in).
   * A domain alias is local only while its domain is too: its mail goes to the domain's mailboxes.
   */
  verified?: boolean | readonly string[];
  notificationFrom?: string | null;
  timezone?: string;
  maxRetryDays?: number;
  maxBouncesPerHour?: number;
  rejectedLocalPartChars?: string;
  logInvalidRecipients?: boolean;
  catchAll?: string | null;
  localRecipientsOnly?: boolean;
  localRecipients?: string[];
  logRetentionDays?: number;
  /** The key the domain's outgoing mail is signed with (RFC 6376); absent: not signed. */
  dkim?: DkimSigningKey;
  /** An Ed25519 key that signs beside `dkim` (RFC 8463); absent: RSA only. */
  dkimEd25519?: DkimSigningKey;
}

/** `RouteSpec`. */
export interface RouteInput {
  domain: string;
  host: string;
  port?: number;
  priority?: number;
  tls?: "none" | "opportunistic" | "required";
  tlsPins?: string[] | undefined;
  tlsCa?: string | undefined;
}

/** `AliasSpec`: forward, reject with a text, or auto-reply. `*@domain` is the catch-all. */
export interface AliasInput {
  address: string;
  action:
    | { type: "forward"; to: string[] }
    | { type: "reject"; message: string }
    | { type: "autoReply"; subject: string; body: string; copyTo?: string[]; periodDays?: number };
}

/** `SenderListSpec`: entries are `local@domain` or `*@domain`. */
export interface SenderListInput {
  domain: string;
  kind: "allow" | "block";
  target: "sender" | "recipient";
  entries: string[];
}

/** `GroupSpec`: a group address delivering to its members; `senders` says who may write to it. */
export interface GroupInput {
  address: string;
  members: string[];
  senders?: "anyone" | "members" | "domain";
}

/** A user as the engine needs it; the password hash stays in the store and is read at AUTH time. */
export interface UserInput {
  address: string;
  enabled?: boolean;
  /** `UserSpec.addresses`: extra addresses in the user's domain that reach the same mailbox. */
  addresses?: string[];
}

/** `AccessRuleSpec`: which networks may sign in to a service, for the account, a domain or a user. */
export interface AccessRuleInput {
  scope: string;
  service: "smtp-submission" | "api";
  allow: string[];
  deny: string[];
}

/** One account's declared objects. */
export interface AccountInput {
  id: string;
  /** `AccountSpec.contact`: where the account's domains' reserved addresses go unless declared; default none. */
  contact?: string | null;
  domains: DomainInput[];
  routes?: RouteInput[];
  aliases?: AliasInput[];
  senderLists?: SenderListInput[];
  filterSettings?: FilterSettingsInput[];
  passwordPolicies?: PasswordPolicyInput[];
  users?: UserInput[];
  groups?: GroupInput[];
  accessRules?: AccessRuleInput[];
  /** Deleted users' forwards (`UserSpec.forwardOnDelete`): their address and where it goes now. */
  departed?: { address: string; forwardTo: string }[];
}

/** Everything declared, at one store revision. */
export interface TenancyInput {
  revision: number;
  accounts: AccountInput[];
}

/** Effective filter settings of a domain (its own, else the account default, else the built-in defaults). */
export interface FilterPolicy {
  quarantineEnabled: boolean;
  quarantineThreshold: number;
  tagThreshold: number;
  unsureSubjectNotation: string;
  quarantineResponse: "reject" | "accept";
  quarantineDays: number;
  skipSpf: boolean;
  spfExempt: CidrSet;
  skipLineLengthCheck: boolean;
  blockedExtensions: Set<string>;
  /** Bytes; 0 means no limit of the domain's own (the engine's hard limit still applies). */
  sizeLimitBytes: number;
  oversizedAction: "reject" | "quarantine";
  /** `follow`: a DMARC failure gets the author domain's p= (reject/quarantine); `ignore`: recorded only. */
  dmarcPolicy: "follow" | "ignore";
  /** Lower-case ARC sealer domains whose dmarc=pass lifts a DMARC failure's policy (see InboundAuthenticator). */
  trustedArcSealers: ReadonlySet<string>;
}

/** Effective login rules of a domain's users. */
export interface AuthPolicy {
  expiryDays: number | null;
  /** Days before expiry that a warning is mailed (descending); none without expiry. */
  expiryWarnDays?: readonly number[];
  lockoutFailures: number;
  lockoutWindowMs: number;
  lockoutDurationMs: number;
}

/** A route with its defaults applied. */
export interface RoutePolicy {
  host: string;
  port: number;
  priority: number;
  tls: "none" | "opportunistic" | "required";
  /** With `required`: pins of the server's key or certificate (replace the CA and name checks). */
  tlsPins?: string[] | undefined;
  /** With `required`: PEM CA certificates the chain must lead to. */
  tlsCa?: string | undefined;
}

/** An alias, keyed by local part in its domain. */
export interface AliasPolicy {
  address: string;
  action: AliasInput["action"];
}

/** A group, keyed by local part; members lower-cased. */
export interface GroupPolicy {
  address: string;
  members: string[];
  senders: "anyone" | "members" | "domain";
}

/** A user (mailbox owner), keyed by local part. */
export interface UserPolicy {
  address: string;
  accountId: string;
  enabled: boolean;
}

/** Everything the RCPT, MAIL and DATA phases need about one main domain. */
export interface DomainPolicy {
  name: string;
  accountId: string;
  /** The Domain's lifetime in the store: every message record of the domain is stamped with it. */
  generation: string;
  aliasDomains: string[];
  users: Map<string, UserPolicy>;
  /** Users by the local parts of their extra addresses (`UserSpec.addresses`). */
  userAddresses: Map<string, UserPolicy>;
  aliases: Map<string, AliasPolicy>;
  groups: Map<string, GroupPolicy>;
  /** The account's access rules (AccessRule), consulted at SMTP AUTH for the domain's users. */
  access: AccessRules;
  /** Deleted users' addresses by local part, and where their mail goes now. */
  departed: Map<string, string>;
  /** The `*@domain` alias, if declared. */
  catchAllAlias: AliasPolicy | null;
  /** `Domain.catchAll`: where mail for unknown local parts goes. */
  catchAll: string | null;
  localRecipientsOnly: boolean;
  localRecipients: Set<string>;
  rejectedLocalPartChars: string;
  logInvalidRecipients: boolean;
  routes: RoutePolicy[];
  senderAllow: AddressList;
  senderBlock: AddressList;
  recipientAllow: AddressList;
  recipientBlock: AddressList;
  filter: FilterPolicy;
  auth: AuthPolicy;
  maxRetryDays: number;
  maxBouncesPerHour: number;
  /** From: of the bounces the platform sends for the domain. */
  notificationFrom: string;
  logRetentionDays: number;
  /** IANA zone of the domain's statistics days. */
  timezone: string;
  /** The DKIM key the platform signs the domain's (and its alias domains') outgoing mail with; null: none. */
  dkim: DkimSigningKey | null;
  /** The Ed25519 key that adds a second signature (RFC 8463 §5) when `dkim` signs; null: none. */
  dkimEd25519: DkimSigningKey | null;
  /**
   * Where mail to the domain's reserved addresses ({@link RESERVED_LOCAL_PARTS}) goes when no user or
   * alias of that name is declared: the account's contact; null: those addresses are unknown users.
   */
  reservedTo: string | null;
}

/**
 * Role mailboxes every mail domain is expected to have: `postmaster` (RFC 5321 §4.5.1: a SMTP
 * domain MUST accept it) and `abuse` (RFC 2142 §2). Local parts, compared lower-cased.
 */
export const RESERVED_LOCAL_PARTS: ReadonlySet<string> = new Set(["postmaster", "abuse"]);

/** A declared domain's lifetime: which account holds the name, and the store's generation of it. */
export interface DeclaredDomain {
  accountId: string;
  domain: string;
  generation: string;
  logRetentionDays: number;
}

/**
 * The engine's view of the declared tenancy. `domains` maps every main domain and every domain
 * alias to its main domain's policy, so a recipient's domain is one probe.
 */
export interface PolicySnapshot {
  revision: number;
  domains: Map<string, DomainPolicy>;
  /**
   * Every Domain the store holds, by main name, whether or not `domains` routes mail to it: the
   * engine keeps a domain's message data while its lifetime is declared here, and seals or purges
   * it once it is gone (see lifecycle.ts).
   */
  declared: Map<string, DeclaredDomain>;
  counts: { domains: number; aliases: number; users: number };
  /** The SRS key (from the master key) when forwards rewrite their envelope sender; absent: no SRS. */
  srsKey?: Buffer;
}

/** The built-in filter defaults: the SpamPanel manual's numbers, as the model's `FilterSettingsSpec` declares them. */
export const DEFAULT_FILTER: Required<Omit<FilterSettingsInput, "scope">> = {
  quarantineEnabled: true,
  quarantineThreshold: 0.9,
  tagThreshold: 0.1,
  unsureSubjectNotation: "[SPAM?]",
  quarantineResponse: "reject",
  quarantineDays: 28,
  skipSpf: false,
  spfExemptNetworks: [],
  skipLineLengthCheck: false,
  blockedExtensions: ["bat", "btm", "cmd", "com", "cpl", "dll", "exe", "msi", "pif"],
  sizeLimitMb: 0,
  oversizedAction: "reject",
  dmarcPolicy: "follow",
  trustedArcSealers: [],
};

/** The built-in login rules: lockout after 5 failures in 10 minutes per IP, for 10 minutes; no expiry. */
export const DEFAULT_AUTH: AuthPolicy = {
  expiryDays: null,
  lockoutFailures: 5,
  lockoutWindowMs: 10 * 60_000,
  lockoutDurationMs: 10 * 60_000,
};

function filterPolicy(input: Partial<FilterSettingsInput> | undefined): FilterPolicy {
  const f = { ...DEFAULT_FILTER, ...stripUndefined(input ?? {}) };
  return {
    quarantineEnabled: f.quarantineEnabled,
    quarantineThreshold: f.quarantineThreshold,
    tagThreshold: f.tagThreshold,
    unsureSubjectNotation: f.unsureSubjectNotation,
    quarantineResponse: f.quarantineResponse,
    quarantineDays: f.quarantineDays,
    skipSpf: f.skipSpf,
    spfExempt: new CidrSet(f.spfExemptNetworks),
    skipLineLengthCheck: f.skipLineLengthCheck,
    blockedExtensions: new Set(f.blockedExtensions.map((e) => e.toLowerCase())),
    sizeLimitBytes: f.sizeLimitMb * 1024 * 1024,
    oversizedAction: f.oversizedAction,
    dmarcPolicy: f.dmarcPolicy,
    trustedArcSealers: new Set(f.trustedArcSealers.map((d) => d.toLowerCase())),
  };
}

function authPolicy(input: PasswordPolicyInput | undefined): AuthPolicy {
  if (!input) return DEFAULT_AUTH;
  const minutes = 60_000;
  return {
    expiryDays: input.expiry?.days ?? null,
    // The model's default when a stored policy predates the field.
    expiryWarnDays: input.expiry?.warnDays ?? [14, 3],
    lockoutFailures: input.lockout?.failures ?? DEFAULT_AUTH.lockoutFailures,
    lockoutWindowMs: (input.lockout?.windowMinutes ?? 10) * minutes,
    lockoutDurationMs: (input.lockout?.durationMinutes ?? 10) * minutes,
  };
}

/** True when `name` (the domain's name or one of its aliases) is verified for the domain's account. */
function isVerified(d: DomainInput, name: string): boolean {
  return d.verified === true || (Array.isArray(d.verified) && d.verified.includes(name));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Builds the snapshot. Only verified names are hosted (see {@link DomainInput.verified}); objects
 * whose domain is not hosted are ignored (the store refuses undeclared ones anyway: a Route needs its
 * Domain). Cost is linear in the number of objects; lookups afterwards are constant time.
 *
 * @example
 * const snap = buildPolicySnapshot({ revision: 1, accounts: [{ id: "acme", domains: [{ name: "example.com", verified: true }] }] });
 * snap.domains.get("example.com")?.filter.quarantineThreshold // 0.9
 */
export function buildPolicySnapshot(input: TenancyInput): PolicySnapshot {
  const domains = new Map<string, DomainPolicy>();
  const declared = new Map<string, DeclaredDomain>();
  let aliasCount = 0;
  let userCount = 0;
  let domainCount = 0;
  for (const account of input.accounts) {
    const filterByScope = new Map((account.filterSettings ?? []).map((f) => [f.scope, f]));
    const passwordByScope = new Map((account.passwordPolicies ?? []).map((p) => [p.scope, p]));
    const own = new Map<string, DomainPolicy>();
    const access = new AccessRules(account.accessRules ?? []);
    for (const d of account.domains) {
      declared.set(d.name, {
        accountId: account.id,
        domain: d.name,
        generation: d.generation ?? "",
        logRetentionDays: d.logRetentionDays ?? 28,
      });
      // Declared (its data lives) but not hosted until verified: no mail is routed to it.
      if (!isVerified(d, d.name)) continue;
      const policy: DomainPolicy = {
        name: d.name,
        accountId: account.id,
        generation: d.generation ?? "",
        aliasDomains: (d.aliases ?? []).filter((alias) => isVerified(d, alias)),
        users: new Map(),
        userAddresses: new Map(),
        aliases: new Map(),
        groups: new Map(),
        access,
        departed: new Map(),
        catchAllAlias: null,
        catchAll: d.catchAll ?? null,
        localRecipientsOnly: d.localRecipientsOnly ?? false,
        localRecipients: new Set(d.localRecipients ?? []),
        rejectedLocalPartChars: d.rejectedLocalPartChars ?? "",
        logInvalidRecipients: d.logInvalidRecipients ?? false,
        routes: [],
        senderAllow: new AddressList(),
        senderBlock: new AddressList(),
        recipientAllow: new AddressList(),
        recipientBlock: new AddressList(),
        filter: filterPolicy(filterByScope.get(d.name) ?? filterByScope.get("account")),
        auth: authPolicy(passwordByScope.get(d.name) ?? passwordByScope.get("account")),
        maxRetryDays: d.maxRetryDays ?? 4,
        maxBouncesPerHour: d.maxBouncesPerHour ?? 100,
        notificationFrom: d.notificationFrom ?? `postmaster@${d.name}`,
        logRetentionDays: d.logRetentionDays ?? 28,
        timezone: d.timezone ?? "UTC",
        dkim: d.dkim ?? null,
        dkimEd25519: d.dkimEd25519 ?? null,
        reservedTo: account.contact ?? null,
      };
      own.set(d.name, policy);
      domains.set(d.name, policy);
      domainCount++;
    }
    // Domain aliases after all main domains, so a name declared as both resolves to the main domain.
    for (const policy of own.values()) {
      for (const alias of policy.aliasDomains) if (!domains.has(alias)) domains.set(alias, policy);
    }
    for (const r of account.routes ?? []) {
      own.get(r.domain)?.routes.push({
        host: r.host,
        port: r.port ?? 25,
        priority: r.priority ?? 10,
        tls: r.tls ?? "opportunistic",
        ...(r.tlsPins ? { tlsPins: r.tlsPins } : {}),
        ...(r.tlsCa ? { tlsCa: r.tlsCa } : {}),
      });
    }
    for (const policy of own.values()) {
      // Lower priority first (RFC 5321 §5.1 MX preference semantics); ties keep declaration order.
      policy.routes.sort((a, b) => a.priority - b.priority);
    }
    for (const a of account.aliases ?? []) {
      const parts = splitMailbox(a.address);
      const policy = parts && own.get(parts.domain);
      if (!parts || !policy) continue;
      const alias: AliasPolicy = { address: a.address.toLowerCase(), action: a.action };
      if (parts.local === "*") policy.catchAllAlias = alias;
      else policy.aliases.set(parts.local, alias);
      aliasCount++;
    }
    for (const d of account.departed ?? []) {
      const parts = splitMailbox(d.address);
      const policy = parts && own.get(parts.domain);
      if (parts && policy) policy.departed.set(parts.local, d.forwardTo.toLowerCase());
    }
    for (const g of account.groups ?? []) {
      const parts = splitMailbox(g.address);
      const policy = parts && own.get(parts.domain);
      if (!parts || !policy) continue;
      policy.groups.set(parts.local, {
        address: g.address.toLowerCase(),
        members: g.members.map((m) => m.toLowerCase()),
        senders: g.senders ?? "anyone",
      });
    }
    for (const u of account.users ?? []) {
      const parts = splitMailbox(u.address);
      const policy = parts && own.get(parts.domain);
      if (!parts || !policy) continue;
      const user: UserPolicy = {
        address: u.address.toLowerCase(),
        accountId: account.id,
        enabled: u.enabled ?? true,
      };
      policy.users.set(parts.local, user);
      for (const extra of u.addresses ?? []) {
        const at = splitMailbox(extra);
        // The model keeps extra addresses in the user's domain; anything else is ignored here too.
        if (at?.domain === parts.domain) policy.userAddresses.set(at.local, user);
      }
      userCount++;
    }
    for (const l of account.senderLists ?? []) {
      const policy = own.get(l.domain);
      if (!policy) continue;
      const list =
        l.target === "sender"
          ? l.kind === "allow"
            ? policy.senderAllow
            : policy.senderBlock
          : l.kind === "allow"
            ? policy.recipientAllow
            : policy.recipientBlock;
      for (const entry of l.entries) list.add(entry);
    }
  }
  return {
    revision: input.revision,
    domains,
    declared,
    counts: { domains: domainCount, aliases: aliasCount, users: userCount },
  };
}

/** An empty snapshot: every recipient is refused until the first real one arrives. */
export function emptySnapshot(): PolicySnapshot {
  return buildPolicySnapshot({ revision: 0, accounts: [] });
}
