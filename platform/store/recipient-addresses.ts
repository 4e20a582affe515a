/** Recipient addresses: which User, Alias or Group holds each address (a user's extra addresses too), kept in step with every object write, and the rule that one address names one recipient. */
import { StoreError } from "./contract/store-error.ts";
import type { SqlExecutor } from "./sql.ts";

/**
 * The kinds that are recipient addresses: one address names one recipient, so no two of these may
 * hold one address — as their own address or as a user's extra address (`UserSpec.addresses`).
 */
export const ADDRESS_KINDS: ReadonlySet<string> = new Set(["User", "Alias", "Group"]);

/** Addresses per `IN (…)` list: well under either driver's parameter limit. */
const CHUNK = 200;

/** One row of recipient_addresses: `address` held by the object `kind`/`id`. */
export interface AddressHolder {
  address: string;
  kind: string;
  id: string;
}

/**
 * The addresses an object holds: its own (its ID) and, for a user, its extra addresses; none for
 * other kinds.
 *
 * @example addressesOf({ kind: "User", id: "ana@example.com", spec: { addresses: ["a@example.com"] } }) // ["ana@example.com", "a@example.com"]
 */
export function addressesOf(o: { kind: string; id: string; spec: Record<string, unknown> }): string[] {
  if (!ADDRESS_KINDS.has(o.kind)) return [];
  const extras = o.kind === "User" && Array.isArray(o.spec["addresses"]) ? o.spec["addresses"] : [];
  return [...new Set([o.id, ...extras.filter((a): a is string => typeof a === "string")])];
}

/** How a holder reads in a refusal: "the address of a user" or "an extra address of the user ana@…". */
export function heldAs(holder: AddressHolder): string {
  return holder.address === holder.id
    ? `the address of a ${holder.kind.toLowerCase()}`
    : `an extra address of the user ${holder.id}`;
}

/** `$first…` placeholders for `count` values. */
function marks(first: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `$${first + i}`).join(", ");
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * The statement that finds the holders of `count` addresses in an account (`$1`, then the addresses),
 * leaving out one object (its kind and ID follow) when `except`: a probe of the primary key.
 *
 * @example holdersQuery(2, false) // "SELECT … WHERE account_id = $1 AND address IN ($2, $3) …"
 */
export function holdersQuery(count: number, except: boolean): string {
  const not = except ? ` AND NOT (kind = $${count + 2} AND id = $${count + 3})` : "";
  return `SELECT address, kind, id FROM recipient_addresses
    WHERE account_id = $1 AND address IN (${marks(2, count)})${not} ORDER BY address, kind, id`;
}

/** Every holder of any of `addresses` in the account, but the object `except`; ordered by address. */
async function holdersOf(
  q: SqlExecutor,
  accountId: string,
  addresses: readonly string[],
  except?: { kind: string; id: string },
): Promise<AddressHolder[]> {
  const found: AddressHolder[] = [];
  for (const part of chunks(addresses)) {
    found.push(
      ...(await q.all<AddressHolder>(holdersQuery(part.length, except !== undefined), [
        accountId,
        ...part,
        ...(except ? [except.kind, except.id] : []),
      ])),
    );
  }
  return found;
}

/** An address a write of a bulk apply took, and where: the object and its spec field. */
export interface TakenAddress {
  address: string;
  kind: string;
  id: string;
  /** `["address"]`, or `["addresses", i]` at the index in the stored (sorted) spec. */
  field: (string | number)[];
}

/** The spec field of `object` that holds `address`: its own address, or one of its extra addresses. */
function fieldOf(object: AddressWrite, address: string): (string | number)[] {
  if (address === object.id) return ["address"];
  const extras = (object.spec["addresses"] as string[] | undefined) ?? [];
  return ["addresses", extras.indexOf(address)];
}

/** What {@link recordAddresses} is told of the write. */
export interface AddressWrite {
  accountId: string;
  kind: string;
  id: string;
  spec: Record<string, unknown>;
}

/**
 * Inside a write (the caller holds the writers' lock, so two requests cannot both pass): records the
 * addresses `object` holds after the write and forgets those it gives up. An address it takes that
 * another User, Alias or Group holds (as its address or as an extra address) is refused with
 * StoreError "conflict" naming the address, the holder, and the field (`address`, `addresses[i]`) —
 * unless `deferred` is given: then the addresses taken are appended to it and the caller refuses a
 * shared one once all its writes are done ({@link refuseShared}; a bulk apply, where an address may
 * move from one object to another). Only addresses the write adds are checked, so an update that
 * keeps an address (shared in a store written before this rule) is not refused for it.
 *
 * @returns the addresses the write takes (for reclaiming a departed user's forward there).
 * @example const taken = await recordAddresses(q, input, current);
 */
export async function recordAddresses(
  q: SqlExecutor,
  object: AddressWrite,
  current: AddressWrite | null,
  deferred?: TakenAddress[],
): Promise<string[]> {
  if (!ADDRESS_KINDS.has(object.kind)) return [];
  const next = addressesOf(object);
  const before = new Set(current ? addressesOf(current) : []);
  const added = next.filter((a) => !before.has(a));
  const dropped = [...before].filter((a) => !next.includes(a));
  const key = [object.accountId, object.kind, object.id];
  for (const part of chunks(dropped)) {
    await q.run(
      `DELETE FROM recipient_addresses WHERE account_id = $1 AND kind = $2 AND id = $3 AND address IN (${marks(4, part.length)})`,
      [...key, ...part],
    );
  }
  if (added.length === 0) return added;
  if (deferred) {
    for (const address of added)
      deferred.push({ address, kind: object.kind, id: object.id, field: fieldOf(object, address) });
  } else {
    const holders = await holdersOf(q, object.accountId, added, object);
    const first = added.map((a) => holders.find((h) => h.address === a)).find((h) => h !== undefined);
    if (first) {
      const field = fieldOf(object, first.address);
      const own =
        first.address === object.id
          ? ""
          : `(an extra address of the ${object.kind.toLowerCase()} ${object.id}) `;
      throw new StoreError(
        "conflict",
        `${first.address} ${own}is already ${heldAs(first)}; ${first.address === first.id ? "delete it" : "remove it there"} first`,
        undefined,
        { path: field },
      );
    }
  }
  for (const part of chunks(added)) {
    const rows = part.map((_, i) => `($1, $${i + 4}, $2, $3)`).join(", ");
    await q.run(
      `INSERT INTO recipient_addresses (account_id, address, kind, id) VALUES ${rows} ON CONFLICT DO NOTHING`,
      [...key, ...part],
    );
  }
  return added;
}

/** Inside a write: forgets every address the object held (it is being deleted). */
export async function forgetAddresses(
  q: SqlExecutor,
  o: { accountId: string; kind: string; id: string },
): Promise<void> {
  if (!ADDRESS_KINDS.has(o.kind)) return;
  await q.run("DELETE FROM recipient_addresses WHERE account_id = $1 AND kind = $2 AND id = $3", [
    o.accountId,
    o.kind,
    o.id,
  ]);
}

/**
 * Inside a write, after writes that deferred the rule ({@link recordAddresses} with `deferred`):
 * refuses with StoreError "conflict" when any address taken now has more than one holder, naming the
 * address and each holder. Its `path` is where the first such address was taken: the index of the
 * object in `objects` (the apply's writes, in order), then the spec field (`[3, "addresses", 1]`), so
 * the caller can name the field of its document as single writes do. One key probe per {@link CHUNK}
 * addresses: linear in the writes.
 *
 * @example await refuseShared(q, "acme", taken, input.objects);
 */
export async function refuseShared(
  q: SqlExecutor,
  accountId: string,
  taken: readonly TakenAddress[],
  objects: readonly { kind: string; id: string }[],
): Promise<void> {
  const holders = await holdersOf(q, accountId, [...new Set(taken.map((t) => t.address))]);
  const byAddress = new Map<string, AddressHolder[]>();
  for (const h of holders) byAddress.set(h.address, [...(byAddress.get(h.address) ?? []), h]);
  const shared = [...byAddress.entries()].filter(([, list]) => list.length > 1);
  if (shared.length === 0) return;
  const text = shared
    .slice(0, 10)
    .map(([address, list]) => `${address} (${list.map(describe).join(", ")})`)
    .join("; ");
  const more = shared.length > 10 ? ` and ${shared.length - 10} more` : "";
  // The first write (in apply order) that took a shared address: the field a caller should change.
  const isShared = new Set(shared.map(([address]) => address));
  const first = taken.find((t) => isShared.has(t.address));
  const at = first ? objects.findIndex((o) => o.kind === first.kind && o.id === first.id) : -1;
  throw new StoreError(
    "conflict",
    `an address may name one recipient only: ${text}${more}`,
    undefined,
    first && at >= 0 ? { path: [at, ...first.field] } : {},
  );
}

/** A holder in a list: "the user ana@…", "the user ana@…'s extra address". */
function describe(h: AddressHolder): string {
  return h.address === h.id ? `the ${h.kind.toLowerCase()}` : `an extra address of the user ${h.id}`;
}

/** An address more than one object holds (a store written before the rule covered extra addresses). */
export interface SharedAddress {
  accountId: string;
  address: string;
  holders: { kind: string; id: string }[];
}

/**
 * Every address more than one object holds, at most `limit` of them (default 100), by account and
 * address. A write never makes one; a store written by an earlier version may hold some (two users
 * listing one extra address, say). Read once at start-up to report them.
 *
 * @example for (const s of await sharedAddresses(q)) log.warn(s, "address held twice");
 */
export async function sharedAddresses(q: SqlExecutor, limit = 100): Promise<SharedAddress[]> {
  const rows = await q.all<{ account_id: string; address: string; kind: string; id: string }>(
    `SELECT r.account_id, r.address, r.kind, r.id FROM recipient_addresses r
     JOIN (SELECT account_id, address FROM recipient_addresses GROUP BY account_id, address HAVING COUNT(*) > 1
           ORDER BY account_id, address LIMIT $1) d
       ON d.account_id = r.account_id AND d.address = r.address
     ORDER BY r.account_id, r.address, r.kind, r.id`,
    [limit],
  );
  const out: SharedAddress[] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (last && last.accountId === r.account_id && last.address === r.address) {
      last.holders.push({ kind: r.kind, id: r.id });
    } else {
      out.push({ accountId: r.account_id, address: r.address, holders: [{ kind: r.kind, id: r.id }] });
    }
  }
  return out;
}

/** What {@link reportSharedAddresses} tells of one shared address, besides its message. */
export interface SharedAddressWarning {
  accountId: string;
  address: string;
  /** Each holder: "User ana@example.com", "User bob@example.com (extra address)". */
  holders: string[];
}

/**
 * Warns once per address that more than one User, Alias or Group holds (a store written before the
 * address rule covered users' extra addresses), at start-up of `mailplane serve` and `mailplane
 * smtp` alike: the platform starts anyway, mail to such an address goes to whichever the engine's
 * resolution order checks first, and the next write that gives the address to yet another object is
 * refused. One side must give it up to end it. Resolves with how many addresses it warned of (at
 * most the store's limit, 100).
 *
 * @example await reportSharedAddresses(store, (message, fields) => log.warn(fields, message));
 */
export async function reportSharedAddresses(
  store: { sharedAddresses(): Promise<SharedAddress[]> },
  warn: (message: string, fields: SharedAddressWarning) => void,
): Promise<number> {
  const shared = await store.sharedAddresses();
  for (const s of shared) {
    const holders = s.holders.map((h) =>
      h.id === s.address ? `${h.kind} ${h.id}` : `User ${h.id} (extra address)`,
    );
    warn(
      `address ${s.address} is held by more than one recipient (${holders.join(", ")}); remove it from all but one`,
      { accountId: s.accountId, address: s.address, holders },
    );
  }
  return shared.length;
}
