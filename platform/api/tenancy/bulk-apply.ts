/**
 * Bulk tenancy: turns one domain's document into the store writes of an apply (each kind's write rules,
 * every problem of the document collected at once) and works out the per-object plan.
 */
import { isDeepStrictEqual } from "node:util";
import type { FastifyRequest } from "fastify";
import {
  type DomainTenancy,
  type DomainTenancyDocument,
  isMailplaneError,
  type KindDescriptor,
  type MailplaneError,
  normaliseAddress,
  type PasswordPolicySpec,
  type ProblemFieldError,
  TENANCY_API_VERSION,
  type TenancyChange,
  tenancyKinds,
  toDotPath,
  validationErrorFromFields,
} from "../../../sdk/src/index.ts";
import type { StoredObject } from "../../store/contract/object-store.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import type { TenancyObjectWrite } from "../../store/contract/tenancy-store.ts";
import { blockingClaims } from "../../store/domain-claims.ts";
import { claimsOf } from "../../store/domain-names.ts";
import { DKIM_SPEC_FIELD } from "../domains/dns.ts";
import { fieldError, problem } from "../http/problem.ts";
import { claimDomainNames, keepDkimKeys } from "../routes/domains.ts";
import { catchAllRefusal, hasCatchAll } from "../routes/report-settings.ts";
import { checkRouteReach } from "../routes/routes.ts";
import { passwordCredential } from "../routes/users.ts";
import type { ApiServices } from "../services.ts";
import type { WriteHookInput, WriteHookResult } from "./object-lifecycle.ts";

/**
 * How many objects are prepared at once: argon2id hashes and verifications run on libuv's thread pool
 * (4 threads unless UV_THREADPOOL_SIZE says otherwise), so more would only queue there.
 */
const PREPARE_CONCURRENCY = 4;

const keyOf = (o: { kind: string; id: string }) => `${o.kind}\u0000${o.id}`;

/** One object of the document, where it stands in it, and its kind. */
interface DocumentItem {
  kind: KindDescriptor;
  id: string;
  path: (string | number)[];
  spec: Record<string, unknown>;
}

/** Every object of a document in apply order (Domain first, then kind by kind), each with its path. */
function itemsOf(document: DomainTenancyDocument): DocumentItem[] {
  return tenancyKinds.flatMap((k) => {
    const kind = k as unknown as KindDescriptor;
    const list = document[kind.plural as keyof DomainTenancyDocument] as unknown as Record<string, unknown>[];
    return list.map((spec, i) => ({ kind, id: kind.id(spec as never), path: [kind.plural, i], spec }));
  });
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      out[at] = await fn(items[at]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Options of {@link prepareTenancy}. */
export interface PrepareOptions {
  services: ApiServices;
  request: FastifyRequest;
  accountId: string;
  /** The domain the path names. */
  domain: string;
  document: DomainTenancyDocument;
  /** The domain's objects now. */
  current: readonly StoredObject[];
  /** A plan: check new passwords but do not hash them, and make no DKIM key for a new domain. */
  planOnly: boolean;
}

/**
 * The store writes that make the domain's tenancy the document: each object through its kind's write
 * rules (a Domain's name claims and DKIM keys, a Route's egress policy, a User's password policy and
 * hashing — only for users whose password is new), secrets stripped from the specs. Every problem of
 * every object is collected and thrown at once as 422 MP_VALIDATION_FAILED, each path starting at the
 * object (`users[3].password`).
 *
 * @example const writes = await prepareTenancy({ services, request, accountId, domain, document, current, planOnly: false });
 */
export async function prepareTenancy(options: PrepareOptions): Promise<TenancyObjectWrite[]> {
  const { services, accountId, domain, document, current } = options;
  const errors: ProblemFieldError[] = [];
  /** The write rules' refusals behind `errors` (a name held elsewhere keeps its own code). */
  const refusals: MailplaneError[] = [];
  const declared = document.domains[0]?.name;
  if (declared !== domain) {
    errors.push(fieldError(["domains", 0, "name"], "custom", `must match the path (${domain})`));
  }
  errors.push(...sharedAddresses(document, options.request.body));
  const stored = new Map(current.map((o) => [keyOf(o), o]));
  // The document's own policy governs its users' passwords; without one, the account's.
  const own = document.passwordPolicies[0] as PasswordPolicySpec | undefined;
  const policy =
    own ??
    ((await services.store.getObject(accountId, "PasswordPolicy", "account/password-policy"))?.spec as
      | PasswordPolicySpec
      | undefined) ??
    null;

  const prepare = async (item: DocumentItem): Promise<TenancyObjectWrite | undefined> => {
    const old = stored.get(keyOf({ kind: item.kind.name, id: item.id })) ?? null;
    const hook: WriteHookInput = {
      services,
      request: options.request,
      accountId,
      id: item.id,
      domain,
      spec: item.spec,
      current: old,
    };
    try {
      let result: WriteHookResult = { spec: item.spec };
      if (item.kind.name === "Domain") {
        const claimed = await heldElsewhere(services, accountId, item, await claimDomainNames(hook));
        // A plan makes no DKIM key (that writes a setting); a new domain's key comes with the apply.
        result = options.planOnly && !old ? claimed : await keepDkimKeys(hook, claimed);
      } else if (item.kind.name === "Route") {
        result = await checkRouteReach(hook);
      } else if (item.kind.name === "ReportSettings" && item.spec["userReportAutoActivate"] === true) {
        // The document's own Domain and aliases decide: they are what the apply leaves in force.
        const aliases = (document.aliases as { address: string }[]).map((a) => a.address);
        if (hasCatchAll(document.domains[0] ?? {}, aliases)) throw catchAllRefusal(domain);
      } else if (item.kind.name === "User") {
        const { password, ...spec } = item.spec as { password?: string } & Record<string, unknown>;
        result = { spec, enabled: spec.enabled !== false };
        if (password !== undefined) {
          const credential = old ? await services.store.getCredential(item.id, accountId) : undefined;
          const set = await passwordCredential(services, {
            accountId,
            id: item.id,
            password,
            policy,
            credential,
            hash: !options.planOnly,
          });
          if (set) result.credential = set;
        }
      }
      const spec = { ...result.spec };
      for (const field of item.kind.secretFields) delete spec[field];
      return {
        kind: item.kind.name,
        id: item.id,
        spec,
        ...(result.enabled === undefined ? {} : { enabled: result.enabled }),
        ...(result.credential ? { credential: result.credential } : {}),
        ...(result.claims ? { claims: result.claims } : {}),
      };
    } catch (error) {
      if (!isMailplaneError(error)) throw error;
      refusals.push(error);
      const fields = error.problem.errors ?? [];
      if (fields.length === 0)
        errors.push(fieldError(item.path, "custom", error.problem.detail ?? error.message));
      for (const f of fields) errors.push({ ...f, path: [...item.path, ...f.path] });
      return undefined;
    }
  };

  const before = errors.length;
  const writes = await mapLimit(itemsOf(document), PREPARE_CONCURRENCY, prepare);
  if (errors.length === 0) return writes as TenancyObjectWrite[];
  // The domain's names held elsewhere, and nothing else wrong: 409 with the refusal's own code, as
  // for a Domain by itself (MP_DOMAIN_TAKEN: another account's); anything more is 422, all at once.
  const refusal = refusals[0];
  if (before === 0 && refusals.length === 1 && refusal && CONFLICTS.has(refusal.code)) {
    throw problem(refusal.code, refusal.problem.detail, { errors });
  }
  throw validationErrorFromFields(errors);
}

/** The refusals of a name held elsewhere. */
const CONFLICTS: ReadonlySet<string> = new Set(["MP_DOMAIN_TAKEN", "MP_CONFLICT"]);

/**
 * Refuses, as the store's write would (same holders, same message), a Domain whose name or a domain
 * alias is held by another Domain (this account's, or another account's: "held by another account",
 * never which): so a plan names it too, not only the apply. The store checks again in its transaction.
 */
async function heldElsewhere(
  services: ApiServices,
  accountId: string,
  item: DocumentItem,
  claimed: WriteHookResult,
): Promise<WriteHookResult> {
  const claims = claimed.claims!;
  const holders = claimsOf(await services.store.domainNames(claims.names), { accountId, id: item.id });
  const blocking = blockingClaims(holders, accountId, claims);
  if (blocking.length > 0) throw claims.refuse(blocking);
  return claimed;
}

/** The document's address kinds: one address names one recipient, whichever kind declares it. */
const ADDRESS_LISTS = ["users", "aliases", "groups"] as const;

/** Where the document declares one address: an object's own address, or a user's extra address. */
interface Declaration {
  /** The object's path (`users[3]`). */
  object: (string | number)[];
  /** The field's path (`users[3].address`, `users[3].addresses[1]`). */
  field: (string | number)[];
  extra: boolean;
}

/** The index the caller wrote `address` at in a user's raw `addresses` (the model sorts them). */
function writtenIndex(body: unknown, user: number, address: string, sorted: number): number {
  const raw = (body as { users?: { addresses?: unknown }[] } | undefined)?.users?.[user]?.addresses;
  if (!Array.isArray(raw)) return sorted;
  const at = raw.findIndex((a) => typeof a === "string" && normaliseAddress(a) === address);
  return at < 0 ? sorted : at;
}

/**
 * An address declared by more than one object of the document — a user's, an alias's or a group's
 * address, or one of a user's extra addresses (`addresses`): an error at each declaring field, naming
 * the others (all in this document, so nothing of another tenant is told). Linear in the document.
 */
function sharedAddresses(document: DomainTenancyDocument, body: unknown): ProblemFieldError[] {
  const byAddress = new Map<string, Declaration[]>();
  const declare = (address: string, at: Declaration) => {
    const list = byAddress.get(address) ?? [];
    list.push(at);
    byAddress.set(address, list);
  };
  for (const list of ADDRESS_LISTS) {
    const items = (document[list] ?? []) as { address: string; addresses?: string[] }[];
    items.forEach((item, i) => {
      declare(item.address, { object: [list, i], field: [list, i, "address"], extra: false });
      if (list !== "users") return;
      (item.addresses ?? []).forEach((extra, j) => {
        const written = writtenIndex(body, i, extra, j);
        declare(extra, { object: [list, i], field: [list, i, "addresses", written], extra: true });
      });
    });
  }
  return [...byAddress.values()].flatMap((declared) =>
    declared.length < 2
      ? []
      : declared.map((at) => {
          const others = declared.filter((d) => d !== at);
          const own = others.filter((d) => !d.extra).map((d) => toDotPath(d.object));
          const extra = others.filter((d) => d.extra).map((d) => toDotPath(d.object));
          const held = [
            ...(own.length > 0 ? [`the address of ${own.join(", ")}`] : []),
            ...(extra.length > 0 ? [`an extra address of ${extra.join(", ")}`] : []),
          ];
          return fieldError(at.field, "custom", `is also ${held.join(" and ")}`);
        }),
  );
}

/**
 * The store's own refusal of an apply's shared address (StoreError "conflict", from its check after
 * the writes: a write that came after the document check) as 409 MP_CONFLICT with the document's
 * field, like the document check's refusals and single writes: the store names the write by its index
 * in the writes {@link prepareTenancy} made from `document` (one per object, in document order) and
 * the spec field, sorted — an extra address is named at the index the caller wrote. Undefined for
 * any other error (thrown on as it is).
 *
 * @example throw documentConflict(error, document, request.body) ?? error;
 */
export function documentConflict(
  error: unknown,
  document: DomainTenancyDocument,
  body: unknown,
): MailplaneError | undefined {
  if (!isStoreError(error, "conflict")) return undefined;
  const [at, ...field] = error.path ?? [];
  const item = typeof at === "number" ? itemsOf(document)[at] : undefined;
  if (!item) return undefined;
  const [name, index] = field;
  if (item.kind.name === "User" && name === "addresses" && typeof index === "number") {
    const address = (item.spec["addresses"] as string[] | undefined)?.[index];
    if (address !== undefined) field[1] = writtenIndex(body, item.path[1] as number, address, index);
  }
  return problem("MP_CONFLICT", error.message, {
    errors: [fieldError([...item.path, ...field], "custom", error.message)],
  });
}

/** The spec fields a change touches, as the API shows them (internal fields never). */
function changedFields(old: StoredObject, write: TenancyObjectWrite): string[] {
  const names = new Set([...Object.keys(old.spec), ...Object.keys(write.spec)]);
  names.delete(DKIM_SPEC_FIELD);
  const fields = [...names].filter((name) => !isDeepStrictEqual(old.spec[name], write.spec[name]));
  if (old.enabled !== (write.enabled ?? true) && !fields.includes("enabled")) fields.push("enabled");
  if (write.credential) fields.push("password");
  return fields.sort();
}

/**
 * The per-object changes that make `current` into `writes`: deletes first (children before the
 * Domain), then creates and updates in document order — the order an apply writes them in.
 *
 * @example planChanges(current, writes) // [{ kind: "User", id: "ana@example.com", op: "update", fields: ["enabled"] }]
 */
export function planChanges(
  current: readonly StoredObject[],
  writes: readonly TenancyObjectWrite[],
): TenancyChange[] {
  const wanted = new Set(writes.map(keyOf));
  const stored = new Map(current.map((o) => [keyOf(o), o]));
  const deletes = current
    .filter((o) => !wanted.has(keyOf(o)))
    .reverse()
    .map((o): TenancyChange => ({ kind: o.kind, id: o.id, op: "delete", fields: [] }));
  const writesChanged = writes.flatMap((w): TenancyChange[] => {
    const old = stored.get(keyOf(w));
    if (!old) return [{ kind: w.kind, id: w.id, op: "create", fields: [] }];
    const fields = changedFields(old, w);
    return fields.length === 0 ? [] : [{ kind: w.kind, id: w.id, op: "update", fields }];
  });
  return [...deletes, ...writesChanged];
}

/**
 * The live tenancy as a document (what GET answers and a refresh compares): each object's spec
 * without internal fields, users without passwords, plus when each user's password was set.
 */
export function renderTenancy(objects: readonly StoredObject[], etag: string): DomainTenancy {
  const document: Record<string, unknown[]> = {};
  for (const k of tenancyKinds) document[k.plural] = [];
  const passwordsSetAt: Record<string, string | null> = {};
  for (const o of objects) {
    const kind = tenancyKinds.find((k) => k.name === o.kind);
    if (!kind) continue;
    const { [DKIM_SPEC_FIELD]: _internal, ...spec } = o.spec;
    document[kind.plural]!.push(spec);
    if (o.kind === "User") passwordsSetAt[o.id] = o.secretSetAt;
  }
  return {
    etag,
    document: { ...document, apiVersion: TENANCY_API_VERSION } as DomainTenancy["document"],
    passwordsSetAt,
  };
}
