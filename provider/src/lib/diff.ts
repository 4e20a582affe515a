/** The generic `diff`: which key fields force a replacement, and whether the old object must go first. */
import { isDeepStrictEqual } from "node:util";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { containsUnknown } from "./unknown.ts";

export interface DiffOutcome {
  /**
   * Always `undefined`: the engine then diffs old and new *inputs* itself, field by field, and shows
   * each changed field old → new in `pulumi preview --diff` and as `detailedDiff` in `--json`
   * (a dynamic provider cannot send a detailed diff of its own). Inputs are normalised by `check`,
   * so sets in another order or case compare equal, and write-only secrets (a user's password) are
   * compared as stored inputs, never read back from the platform.
   */
  changes: undefined;
  /** Key fields whose value changes (or is not known yet): the object's ID changes with them. */
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
 * @example diffResource(routeKind, { domain: "example.com", host: "a.example.net", port: 25, … }, { …, port: 2525 })
 *   // { changes: undefined, replaces: ["port"], deleteBeforeReplace: false }
 */
export function diffResource(
  kind: KindDescriptor,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  uniqueNames?: UniqueNames,
): DiffOutcome {
  // An unknown key (during preview) may well change: say so, as the plan would otherwise under-promise.
  const replaces = kind.keyFields.filter(
    (field) => containsUnknown(news[field]) || !isDeepStrictEqual(olds[field], news[field]),
  );
  let deleteBeforeReplace = false;
  if (replaces.length > 0 && uniqueNames !== undefined && !containsUnknown(news)) {
    const held = new Set(uniqueNames(olds));
    deleteBeforeReplace = uniqueNames(news).some((name) => held.has(name));
  }
  return { changes: undefined, replaces, deleteBeforeReplace };
}
