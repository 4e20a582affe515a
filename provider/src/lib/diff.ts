/** The generic `diff`: which key fields force a replacement, and whether the old object must go first. */
import { isDeepStrictEqual } from "node:util";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { containsUnknown } from "./unknown.ts";

export interface DiffOutcome {
  /**
   * Always `undefined`: the engine then diffs old and new *inputs* itself, field by field, and shows
   * each changed field old → new in `pulumi preview --diff` and as `detailedDiff` in `--json`
   * (a dynamic provider cannot send a detailed diff of its own: the engine compares lists by index).
   * Inputs are normalised by `check`, so sets in another order or case compare equal, sets keep the
   * order of the stored inputs (see {@link keepListOrder}), and write-only secrets (a user's
   * password) are compared as stored inputs, never read back from the platform.
   */
  changes: undefined;
  /**
   * Key fields whose value changes (or is not known yet): the object's ID changes with them; and
   * `connection` when the object moves to another platform or account.
   */
  replaces: string[];
  /** True when the new object would claim a name the old one still holds. */
  deleteBeforeReplace: boolean;
}

/**
 * Names that must be unique on the platform, per kind; a replacement that keeps one of them must
 * delete the old object first. A kind's ID is always one; a domain's aliases are others.
 */
export type UniqueNames = (state: Record<string, unknown>) => string[];

/**
 * Compares the old state (outputs, which hold every spec field) with the checked new inputs.
 * `moved`: the object moves to another platform or account (see `movesElsewhere`).
 * @example diffResource(routeKind, { domain: "example.com", host: "a.example.net", port: 25, … }, { …, port: 2525 })
 *   // { changes: undefined, replaces: ["port"], deleteBeforeReplace: false }
 */
export function diffResource(
  kind: KindDescriptor,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  uniqueNames?: UniqueNames,
  moved = false,
): DiffOutcome {
  // An unknown key (during preview) may well change: say so, as the plan would otherwise under-promise.
  const replaces = kind.keyFields.filter(
    (field) => containsUnknown(news[field]) || !isDeepStrictEqual(olds[field], news[field]),
  );
  if (moved) replaces.push("connection");
  let deleteBeforeReplace = false;
  if (replaces.length > 0 && uniqueNames !== undefined && !containsUnknown(news)) {
    const held = new Set(uniqueNames(olds));
    deleteBeforeReplace = uniqueNames(news).some((name) => held.has(name));
  }
  return { changes: undefined, replaces, deleteBeforeReplace };
}

type Scalar = string | number | boolean;

const isScalarList = (value: unknown): value is Scalar[] =>
  Array.isArray(value) && value.every((item) => ["string", "number", "boolean"].includes(typeof item));

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Orders every list of `news` (at any depth) as the same list of `olds` is ordered: the elements
 * kept first, in their old order, then the new ones in the order `news` has them.
 *
 * Why: the engine diffs lists by index, so a sorted set with an element inserted in the middle
 * previews as a change at every later index plus an added last one. Kept in the stored order, an
 * insertion is one `+ [i]`, a reorder is no change, and removing the last element is one `- [i]`
 * (removing one in the middle still shifts the ones after it: the engine has no other way to show
 * it). Every list in the model's specs is a set whose order carries no meaning (most are stored
 * sorted, once each; a route's `tlsPins` match in any order), and the platform still receives what
 * the spec makes of the list; only the stack's stored inputs keep the old order.
 * A list with repeated elements is left as it is.
 * @example keepListOrder({ to: ["b@x.org", "c@x.org"] }, { to: ["a@x.org", "b@x.org", "c@x.org"] })
 *   // { to: ["b@x.org", "c@x.org", "a@x.org"] }
 */
export function keepListOrder<T>(olds: unknown, news: T): T {
  if (isScalarList(olds) && isScalarList(news) && new Set(news).size === news.length) {
    const wanted = new Set<Scalar>(news);
    const kept = [...new Set(olds)].filter((item) => wanted.has(item));
    const held = new Set<Scalar>(kept);
    return [...kept, ...news.filter((item) => !held.has(item))] as T;
  }
  if (isPlainObject(olds) && isPlainObject(news)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(news)) out[key] = keepListOrder(olds[key], value);
    return out as T;
  }
  return news;
}
