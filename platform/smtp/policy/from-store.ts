/** The engine's policy fed by the store: built from `snapshot()`, patched per domain on every `watch` event. */
import { randomBytes } from "node:crypto";
import {
  APP_PASSWORD_PREFIX,
  type Argon2Params,
  argon2ParamsOf,
  DEFAULT_ARGON2,
  hashAppPassword,
  hashPassword,
  verifyPassword,
} from "../../api/passwords.ts";
import type { Change } from "../../store/contract/change-feed-store.ts";
import { DEPARTED_KIND, type StoredObject } from "../../store/contract/object-store.ts";
import type { Store } from "../../store/store.ts";
import { srsKeyFrom } from "../delivery/srs.ts";
import type { PolicySource } from "../engine-contract.ts";
import type { CredentialSource } from "../phases/auth.ts";
import { DkimKeyring } from "./dkim-keys.ts";
import { splitMailbox } from "./matchers.ts";
import {
  type AccessRuleInput,
  type AccountInput,
  type AliasInput,
  buildPolicySnapshot,
  type DomainInput,
  type FilterSettingsInput,
  type GroupInput,
  type PasswordPolicyInput,
  type PolicySnapshot,
  type RouteInput,
  type SenderListInput,
  type UserInput,
} from "./snapshot.ts";

const key = (o: { accountId: string; kind: string; id: string }) =>
  `${o.accountId}\u0000${o.kind}\u0000${o.id}`;

/** The main domain a stored object belongs to; null for account-wide objects (scope "account"). */
function domainOf(o: StoredObject): string | null {
  if (o.kind === "Domain") return o.id;
  if (o.domain) return o.domain;
  if (o.kind === "AccessRule") {
    // A domain's or user's rule touches that domain only; an account rule, every domain.
    const scope = String(o.spec.scope ?? "account");
    return scope === "account" ? null : (scope.split("@").at(-1) ?? null);
  }
  if (o.kind === "FilterSettings" || o.kind === "PasswordPolicy") {
    const scope = String(o.spec.scope ?? "account");
    return scope === "account" ? null : scope;
  }
  const address = typeof o.spec.address === "string" ? o.spec.address : undefined;
  return address ? (splitMailbox(address)?.domain ?? null) : null;
}

/**
 * Which of a Domain's names the engine treats as local: all of them in trusted mode, else those whose
 * ownership is verified (see `DomainInput.verified`).
 */
function verifiedNames(o: StoredObject, trustAll: boolean): DomainInput["verified"] {
  if (trustAll) return true;
  return (o.verification ?? []).flatMap((v) => (v.status === "verified" ? [v.name] : []));
}

/**
 * Groups stored objects into the builder's input for the given accounts and (optionally) only some
 * domains. Exported for `mailplane plan-summary --simulate`, which feeds the engine's builder the
 * same way from a live or planned tenancy.
 *
 * @example buildPolicySnapshot({ revision: 1, accounts: accountInputs(objects, false) })
 */
export function accountInputs(
  objects: Iterable<StoredObject>,
  trustAll: boolean,
  contacts: ReadonlyMap<string, string>,
  only?: { accountId: string; domains: Set<string> }[],
  keyring?: DkimKeyring,
): AccountInput[] {
  const accounts = new Map<string, Required<AccountInput>>();
  const wanted = only ? new Map(only.map((o) => [o.accountId, o.domains])) : null;
  for (const o of objects) {
    const domains = wanted?.get(o.accountId);
    if (wanted && !domains) continue;
    const d = domainOf(o);
    // Account-wide singletons are needed for every domain of the account; others only for theirs.
    if (domains && d !== null && !domains.has(d)) continue;
    let a = accounts.get(o.accountId);
    if (!a) {
      a = {
        id: o.accountId,
        contact: contacts.get(o.accountId) ?? null,
        domains: [],
        routes: [],
        aliases: [],
        senderLists: [],
        filterSettings: [],
        passwordPolicies: [],
        users: [],
        groups: [],
        accessRules: [],
        departed: [],
      };
      accounts.set(o.accountId, a);
    }
    const spec = o.spec as Record<string, unknown>;
    switch (o.kind) {
      case "Domain":
        {
          // The stored DKIM state (public keys) is not the engine's input; the opened active key is.
          const { dkim: _state, ...declared } = spec;
          const dkim = keyring?.keyOf(o);
          const dkimEd25519 = keyring?.ed25519KeyOf(o);
          a.domains.push({
            ...(declared as unknown as DomainInput),
            generation: o.generation,
            verified: verifiedNames(o, trustAll),
            ...(dkim ? { dkim } : {}),
            ...(dkimEd25519 ? { dkimEd25519 } : {}),
          });
        }
        break;
      case "Route":
        a.routes.push(spec as unknown as RouteInput);
        break;
      case "Alias":
        a.aliases.push(spec as unknown as AliasInput);
        break;
      case "SenderList":
        a.senderLists.push(spec as unknown as SenderListInput);
        break;
      case "FilterSettings":
        a.filterSettings.push(spec as unknown as FilterSettingsInput);
        break;
      case "PasswordPolicy":
        a.passwordPolicies.push(spec as unknown as PasswordPolicyInput);
        break;
      case "Group":
        a.groups.push(spec as unknown as GroupInput);
        break;
      case "AccessRule":
        a.accessRules.push(spec as unknown as AccessRuleInput);
        break;
      case DEPARTED_KIND:
        a.departed.push({ address: String(spec.address), forwardTo: String(spec.forwardTo) });
        break;
      case "User":
        a.users.push({
          address: String(spec.address),
          enabled: o.enabled && spec.enabled !== false,
          addresses: Array.isArray(spec.addresses) ? (spec.addresses as string[]) : [],
          role: typeof spec.role === "string" ? spec.role : "email-user",
        } satisfies UserInput);
        break;
    }
  }
  return [...accounts.values()];
}

/** Options of {@link storePolicy}. */
export interface StorePolicyOptions {
  /** Told after each rebuild: the revision now enforced and how long the rebuild took (ms). */
  onUpdate?: (revision: number, ms: number) => void;
  /**
   * Told when reading the store failed. The previous snapshot stays in force and the failed batch is
   * kept: it is read again after a back-off, so a change made during a blip is still enforced.
   */
  onError?: (error: unknown) => void;
  /**
   * Treat every declared domain name as local, verified or not: single-tenant or demo platforms only
   * (`mailplane serve --trust-all-domains`), where whoever declares a domain runs the platform too.
   * Default false: only verified names are local, so no account can take mail for a name it does not own.
   */
  trustAllDomains?: boolean;
  /** First wait before re-reading a batch that failed, in ms; doubles per failure. Default 250 ms. */
  retryMinDelayMs?: number;
  /** Longest wait between re-reads while the store keeps failing, in ms. Default 5 s. */
  retryMaxDelayMs?: number;
  /**
   * Opens the DKIM private keys the store keeps sealed (the control plane's master key, see
   * `loadMasterKey`) and keys the SRS addresses of forwards. Without it the engine signs nothing and
   * forwards keep their envelope sender.
   */
  masterKey?: Buffer;
}

/** Back-off of the watcher's re-reads: 250 ms, doubling, at most 5 s. */
export const POLICY_RETRY_DELAYS = { minMs: 250, maxMs: 5_000 } as const;

/** A policy source that follows the store, plus the revision it enforces. */
export interface StorePolicy extends PolicySource {
  /** The store revision the current snapshot reflects. */
  revision(): number;
  /** Resolves once the snapshot reflects at least `revision`. */
  reached(revision: number): Promise<void>;
}

/**
 * Loads the whole tenancy once, then follows the store's change feed (PostgreSQL LISTEN/NOTIFY or
 * SQLite's revision poll, so it works when the engine is another process sharing the store): each
 * event's changed objects are re-read and only the domains they touch are rebuilt, so a change to
 * one domain costs that domain's size, not the platform's. A change log that no longer reaches
 * back (`changes: null`) triggers a full reload. Events arriving during a rebuild are coalesced.
 * A batch whose read fails (the database is restarting) is kept and read again after a back-off
 * (options `retryMinDelayMs`, `retryMaxDelayMs`) until it succeeds: no event is dropped.
 *
 * @example
 * const policy = await storePolicy(store);
 * const engine = await startSmtpEngine({ dataDir, policy, credentials: storeCredentials(store) });
 */
export async function storePolicy(store: Store, opts: StorePolicyOptions = {}): Promise<StorePolicy> {
  const objects = new Map<string, StoredObject>();
  const trustAll = opts.trustAllDomains === true;
  let current: PolicySnapshot;
  let revision = 0;
  const waiters: { revision: number; resolve: () => void }[] = [];

  const keyring = new DkimKeyring(store, opts.masterKey);
  /** `AccountSpec.contact` by account, for the reserved addresses of its domains. */
  const contacts = new Map<string, string>();
  const noteContact = (id: string, spec: Record<string, unknown> | undefined) => {
    if (typeof spec?.contact === "string") contacts.set(id, spec.contact);
    else contacts.delete(id);
  };
  // Forwards rewrite their envelope sender (SRS) only where the master key gives every node one key.
  const srsKey = opts.masterKey ? srsKeyFrom(opts.masterKey) : undefined;

  const fullLoad = async () => {
    const snap = await store.snapshot();
    await keyring.load(snap.objects);
    objects.clear();
    for (const o of snap.objects) objects.set(key(o), o);
    contacts.clear();
    for (const a of snap.accounts) noteContact(a.id, a.spec as Record<string, unknown>);
    current = buildPolicySnapshot({
      revision: snap.revision,
      accounts: accountInputs(objects.values(), trustAll, contacts, undefined, keyring),
    });
    if (srsKey) current.srsKey = srsKey;
    revision = snap.revision;
  };

  const applyChanges = async (batch: Change[], target: number) => {
    let changes = batch;
    let toRevision = target;
    const touched = new Map<string, Set<string>>();
    const wholeAccount = new Set<string>();
    const note = (o: StoredObject) => {
      const d = domainOf(o);
      if (d === null) wholeAccount.add(o.accountId);
      else {
        const set = touched.get(o.accountId) ?? new Set<string>();
        set.add(d);
        touched.set(o.accountId, set);
      }
    };
    // Read every changed object before touching `objects`: a read that fails leaves the batch
    // unapplied as a whole, so its retry starts from the same state.
    let read: (StoredObject | undefined)[] = [];
    // An Account's change (its contact) rebuilds all its domains; accounts are not objects.
    const accountSpecs = new Map<string, Record<string, unknown> | undefined>();
    for (;;) {
      read = [];
      for (const c of changes) {
        if (c.kind === "Account") {
          const account = c.op === "delete" ? undefined : await store.getAccount(c.id);
          accountSpecs.set(c.id, account?.spec as Record<string, unknown> | undefined);
          read.push(undefined);
          continue;
        }
        read.push(c.op === "delete" ? undefined : await store.getObject(c.accountId, c.kind, c.id));
      }
      // The objects are read one by one: a write committed meanwhile (another tenancy apply) may
      // show in some reads and not in others. Only when the revision still is the target did every
      // read see that revision; otherwise the batch grows by what was committed since and is read
      // again, so the snapshot never holds part of a transaction (a bulk apply is all or nothing).
      const now = await store.revision();
      if (now <= toRevision) break;
      const more = await store.changesSince(toRevision);
      if (more === null) {
        await fullLoad();
        return;
      }
      changes = [...changes, ...more.filter((c) => c.revision <= now)];
      toRevision = now;
    }
    // A Domain's new signing key is read with the batch: a failed read retries the whole batch.
    await keyring.load(read.filter((o): o is StoredObject => o !== undefined));
    for (const [id, spec] of accountSpecs) {
      noteContact(id, spec);
      wholeAccount.add(id);
    }
    for (const [i, c] of changes.entries()) {
      if (c.kind === "Account") continue;
      const k = key(c);
      const before = objects.get(k);
      if (before) note(before);
      const after = read[i];
      if (after) {
        objects.set(k, after);
        note(after);
      } else objects.delete(k);
    }
    for (const accountId of wholeAccount) {
      const set = touched.get(accountId) ?? new Set<string>();
      for (const o of objects.values()) if (o.accountId === accountId && o.kind === "Domain") set.add(o.id);
      touched.set(accountId, set);
    }
    const scope = [...touched].map(([accountId, domains]) => ({ accountId, domains }));
    const partial = buildPolicySnapshot({
      revision: toRevision,
      accounts: accountInputs(objects.values(), trustAll, contacts, scope, keyring),
    });
    const domains = new Map(current.domains);
    // Drop every name (main or alias domain) that pointed at a rebuilt or removed domain…
    const rebuilt = new Set(scope.flatMap((s) => [...s.domains]));
    for (const [name, policy] of current.domains) if (rebuilt.has(policy.name)) domains.delete(name);
    // …and put back what the rebuild produced; main names win over alias names.
    for (const [name, policy] of partial.domains)
      if (name === policy.name || !domains.has(name)) domains.set(name, policy);
    const declared = new Map(current.declared);
    for (const name of rebuilt) declared.delete(name);
    for (const [name, d] of partial.declared) declared.set(name, d);
    let aliases = 0;
    let users = 0;
    let count = 0;
    for (const [name, policy] of domains) {
      if (name !== policy.name) continue;
      count++;
      aliases += policy.aliases.size + (policy.catchAllAlias ? 1 : 0);
      users += policy.users.size;
    }
    current = {
      revision: toRevision,
      domains,
      declared,
      counts: { domains: count, aliases, users },
      ...(srsKey ? { srsKey } : {}),
    };
    revision = toRevision;
  };

  const listeners = new Set<() => void>();
  let running = false;
  let ready = false;
  let closed = false;
  let pending: { revision: number; changes: Change[] | null }[] = [];
  // While a failed batch waits for its re-read, events only queue: the timer drains them together.
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  const minDelay = opts.retryMinDelayMs ?? POLICY_RETRY_DELAYS.minMs;
  const maxDelay = opts.retryMaxDelayMs ?? POLICY_RETRY_DELAYS.maxMs;
  const drain = async () => {
    if (running || !ready || retryTimer || closed) return;
    running = true;
    try {
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        const started = performance.now();
        const target = Math.max(...batch.map((b) => b.revision));
        try {
          if (batch.some((b) => b.changes === null)) await fullLoad();
          else
            await applyChanges(
              batch.flatMap((b) => b.changes!),
              target,
            );
          failures = 0;
          opts.onUpdate?.(revision, performance.now() - started);
          for (const listener of listeners) listener();
        } catch (error) {
          opts.onError?.(error);
          // Keep the batch (ahead of anything that arrived meanwhile) and read it again later.
          pending = [...batch, ...pending];
          const delay = Math.min(maxDelay, minDelay * 2 ** failures++);
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            void drain();
          }, delay);
          retryTimer.unref();
          break;
        }
        for (const w of waiters.splice(0)) {
          if (revision >= w.revision) w.resolve();
          else waiters.push(w);
        }
      }
    } finally {
      running = false;
    }
  };
  // Subscribe before loading and catch up afterwards: the watch's own starting point is not known,
  // so changes committed between the load and that point are read with changesSince. Applying a
  // change twice is harmless (objects are re-read).
  const stop = store.watch((event) => {
    if (event.revision <= revision && event.changes !== null) return;
    pending.push({ revision: event.revision, changes: event.changes });
    void drain();
  });
  try {
    await fullLoad();
    const missed = await store.changesSince(revision);
    if (missed === null || missed.length > 0) {
      pending.push({
        revision: Math.max(revision, ...(missed ?? []).map((c) => c.revision)),
        changes: missed,
      });
    }
  } catch (error) {
    stop();
    throw error;
  }
  ready = true;
  void drain();

  return {
    current: () => current,
    revision: () => revision,
    reached(target) {
      if (revision >= target) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ revision: target, resolve }));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      stop();
    },
  };
}

/**
 * SMTP AUTH against the store's argon2id hashes. The dummy hash (see `CredentialSource.dummyHash`)
 * is made at start with `params` and remade with the parameters of the latest real hash looked up
 * when they differ, so a name without a hash costs what a real one costs even after the platform's
 * argon2 cost changed.
 *
 * @param params the dummy's parameters until a real hash is seen; default {@link DEFAULT_ARGON2}
 * @example const engine = await startSmtpEngine({ dataDir, policy, credentials: storeCredentials(store) });
 */
export function storeCredentials(store: Store, params: Argon2Params = DEFAULT_ARGON2): CredentialSource {
  let dummyParams = params;
  const makeDummy = (p: Argon2Params) => {
    const made = hashPassword(randomBytes(24).toString("base64url"), p);
    // Awaited by dummyHash(); this only keeps a failure from being an unhandled rejection meanwhile.
    made.catch(() => {});
    return made;
  };
  let dummy = makeDummy(dummyParams);
  return {
    async lookup(address) {
      const c = await store.getCredential(address);
      if (!c) return undefined;
      const seen = argon2ParamsOf(c.hash);
      if (
        seen &&
        (seen.memory !== dummyParams.memory ||
          seen.passes !== dummyParams.passes ||
          seen.parallelism !== dummyParams.parallelism)
      ) {
        dummyParams = seen;
        dummy = makeDummy(seen);
      }
      const totp = await store.getUserTotp(c.accountId, address);
      return { hash: c.hash, setAt: c.setAt, appPasswordsOnly: totp?.confirmedAt != null };
    },
    async appPassword(password) {
      if (!password.startsWith(APP_PASSWORD_PREFIX)) return undefined;
      const found = await store.findAppPassword(hashAppPassword(password));
      if (!found) return undefined;
      return {
        id: found.id,
        accountId: found.accountId,
        user: found.userId,
        scopes: found.scopes,
        revoked: found.revokedAt !== null,
      };
    },
    appPasswordUsed: (id, now) => store.touchAppPassword(id, new Date(now).toISOString()),
    verify: (hash, password) => verifyPassword(password, hash),
    dummyHash: () => dummy,
  };
}
