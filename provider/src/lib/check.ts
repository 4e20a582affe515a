/** The generic `check`: normalise and validate a resource's inputs with its kind's zod spec, at preview time. */
import type { z } from "zod";
import { toDotPath } from "../../../sdk/src/errors.ts";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { containsUnknown, isUnknownAt, UNKNOWN } from "./unknown.ts";

/** A validation failure as Pulumi prints it: the property's dot path and what is wrong. */
export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckOutcome {
  /** The inputs Pulumi stores and diffs: normalised and with defaults filled in (unknowns kept as is). */
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
}

/** Inputs of every resource that are about the provider, not the model. */
export interface ProviderInputs {
  adopt?: boolean;
}

type Issue = z.core.$ZodIssue;

function toFailures(issues: readonly Issue[], prefix: PropertyKey[] = []): CheckFailure[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path].map((p) => (typeof p === "symbol" ? String(p) : p));
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        property: toDotPath([...path, key]),
        reason: "is not a property of this resource",
      }));
    }
    return [{ property: toDotPath(path), reason: issue.message }];
  });
}

/**
 * Validates `news` against the kind's spec and returns the normalised inputs (lower-cased names,
 * sorted de-duplicated sets, defaults filled in), so two spellings of one declaration never diff.
 *
 * During preview some values may be the engine's unknown placeholder. Then each field is checked on
 * its own, issues at unknown values are dropped and the cross-field rules wait for `up`, when the
 * engine calls `check` again with every value known.
 * @example checkInputs(routeKind, { domain: "Example.com", host: "MX1.example.net", port: 0 })
 *   // failures: [{ property: "port", reason: "Too small: expected number to be >=1" }]
 */
export function checkInputs(kind: KindDescriptor, news: Record<string, unknown>): CheckOutcome {
  const { __provider: _provider, adopt, ...declared } = news;
  // A secret Output that resolved to undefined (e.g. `passwords.apply((all) => all[address])` for a
  // user with no entry) reaches the provider as null: it means "not set", so the current one is kept.
  for (const field of kind.secretFields) if (declared[field] === null) delete declared[field];
  const failures: CheckFailure[] = [];
  if (adopt !== undefined && adopt !== UNKNOWN && typeof adopt !== "boolean") {
    failures.push({ property: "adopt", reason: "must be true or false" });
  }
  const schema = kind.spec as unknown as z.ZodObject;
  let inputs: Record<string, unknown>;
  if (!containsUnknown(declared)) {
    const parsed = schema.safeParse(declared);
    if (parsed.success) {
      inputs = parsed.data as Record<string, unknown>;
    } else {
      inputs = declared;
      failures.push(...toFailures(parsed.error.issues));
    }
  } else {
    inputs = {};
    const shape = schema.shape as Record<string, z.ZodType>;
    for (const [key, value] of Object.entries(declared)) {
      const field = shape[key];
      if (field === undefined) {
        failures.push({ property: key, reason: "is not a property of this resource" });
        continue;
      }
      const parsed = field.safeParse(value);
      if (parsed.success) {
        inputs[key] = parsed.data;
        continue;
      }
      inputs[key] = value;
      const known = parsed.error.issues.filter((issue) => !isUnknownAt(value, issue.path));
      failures.push(...toFailures(known, [key]));
    }
    for (const [key, field] of Object.entries(shape)) {
      if (key in declared) continue;
      const parsed = field.safeParse(undefined);
      if (!parsed.success) failures.push(...toFailures(parsed.error.issues, [key]));
      else if (parsed.data !== undefined) inputs[key] = parsed.data;
    }
  }
  if (adopt !== undefined) inputs = { ...inputs, adopt };
  return { inputs, failures };
}
