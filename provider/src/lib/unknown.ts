/** The engine's placeholder for values that are not known yet (during preview) and how to find it. */

/**
 * What `check` and `diff` receive, during preview, in place of a value computed by another resource
 * that has not been created or updated yet (e.g. `domain.name` of a domain being created).
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value is, or contains at any depth, the engine's unknown placeholder. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * True when the value at `path`, or any value on the way to it, is unknown: a validation issue
 * there says nothing about what the user wrote.
 * @example isUnknownAt({ action: { to: [UNKNOWN] } }, ["action", "to", 0]) // true
 */
export function isUnknownAt(root: unknown, path: readonly PropertyKey[]): boolean {
  let value: unknown = root;
  for (const segment of path) {
    if (value === UNKNOWN) return true;
    if (value === null || typeof value !== "object") return false;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return containsUnknown(value);
}
