/** Derives a PATCH body schema from a kind's fields: every non-key field optional and without its default. */
import { z } from "zod";

type Shape = Record<string, z.ZodType>;

/** Removes `.default()`/`.prefault()` wrappers so an absent field stays absent instead of resetting. */
function withoutDefault(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    return withoutDefault(schema.unwrap() as z.ZodType);
  }
  return schema;
}

/**
 * The merge-patch schema for a kind: the fields except its key fields (changing those means a new
 * object), each optional and without a default. A patch replaces each field it names as a whole
 * (sets and nested objects included); the server merges it over the stored spec and re-validates the
 * result with the full spec schema, so cross-field rules still apply.
 * @example patchOf(RouteFields, ["domain", "host", "port"]) // { priority?: number, tls?: ... }
 */
export function patchOf<S extends Shape, K extends keyof S & string>(
  fields: z.ZodObject<S>,
  keys: readonly K[],
): z.ZodObject<{ [P in Exclude<keyof S, K>]: z.ZodOptional<S[P]> }, z.core.$strict> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, field] of Object.entries(fields.shape)) {
    if ((keys as readonly string[]).includes(name)) continue;
    // Keep the field's description (and flags such as writeOnly) but not a named id.
    const { id: _id, ...meta } = z.globalRegistry.get(field) ?? {};
    shape[name] = withoutDefault(field).optional().meta(meta);
  }
  return z.strictObject(shape) as never;
}
