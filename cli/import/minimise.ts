/** Turns a normalised manifest into the shortest declaration that means exactly the same: defaults left out. */
import { isDeepStrictEqual } from "node:util";
import { type KindDescriptor, tenancyKinds } from "../../sdk/src/models/kinds.ts";
import { TenancyManifest } from "../../sdk/src/models/tenancy.ts";

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON's view of a value: `undefined` fields vanish, as they do in a manifest file. */
function canonical(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/**
 * The shortest input of `kind` whose parse equals `spec`: every field (and nested field, e.g.
 * `lockout.failures`) that the schema would fill in with the same value is dropped. Key fields are
 * always kept, because they name the object. Each removal is checked by parsing with the kind's own
 * schema, so cross-field rules and normalisation are honoured and the result means the same thing.
 * @example minimalSpec(routeKind, { domain: "example.com", host: "mx1.example.net", port: 25, priority: 10, tls: "opportunistic" })
 *   // { domain: "example.com", host: "mx1.example.net", port: 25 }
 */
export function minimalSpec(kind: KindDescriptor, spec: Json): Json {
  const target = canonical(spec);
  const same = (input: Json) => {
    const parsed = kind.spec.safeParse(input);
    return parsed.success && isDeepStrictEqual(canonical(parsed.data), target);
  };
  let current = canonical(spec) as Json;
  if (!same(current))
    throw new Error(`${kind.name} ${kind.id(spec as never)}: the spec does not parse to itself`);

  /** Tries to drop each key of the object at `path` (deepest objects after their parents failed). */
  const reduce = (path: string[]) => {
    const holder = path.reduce<Json>((o, key) => o[key] as Json, current);
    for (const key of Object.keys(holder)) {
      if (path.length === 0 && kind.keyFields.includes(key)) continue;
      const candidate = structuredClone(current);
      const parent = path.reduce<Json>((o, k) => o[k] as Json, candidate);
      delete parent[key];
      if (same(candidate)) {
        current = candidate;
      } else if (isPlainObject(holder[key])) {
        reduce([...path, key]);
      }
    }
  };
  reduce([]);
  return current;
}

/**
 * The manifest as it should be written: `apiVersion` first, then each kind's objects (empty kinds
 * left out) with their defaults dropped. Verified: parsing the result with the manifest model gives
 * back exactly `manifest`, so adopting it changes nothing on the platform.
 * @throws Error when the round trip does not hold (a bug, never a user error).
 */
export function manifestDocument(manifest: TenancyManifest): Json {
  const doc: Json = { apiVersion: manifest.apiVersion };
  for (const kind of tenancyKinds) {
    const items = manifest[kind.plural as keyof TenancyManifest] as unknown as Json[];
    if (items.length === 0) continue;
    doc[kind.plural] = items.map((item) => minimalSpec(kind as unknown as KindDescriptor, item));
  }
  const back = TenancyManifest.safeParse(doc);
  if (!back.success || !isDeepStrictEqual(canonical(back.data), canonical(manifest))) {
    throw new Error(
      `mailplane import: the written manifest would not mean what the platform holds${back.success ? "" : `: ${back.error.message}`}`,
    );
  }
  return doc;
}
