/** The generic `check`: normalise and validate a resource's inputs with its kind's zod spec, at preview time. */
import type { z } from "zod";
import { toDotPath } from "../../../sdk/src/errors.ts";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { checkConnection } from "./connection.ts";
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
  connection?: Record<string, unknown>;
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
  const { __provider: _provider, adopt, connection, ...declared } = news;
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
  failures.push(...checkConnection(connection));
  if (connection !== undefined && connection !== null) inputs = { ...inputs, connection };
  return { inputs, failures };
}

/** Splits a dot path (`action.to[2]`, `a["b c"]`) back into its segments: the inverse of `toDotPath`. */
function pathSegments(property: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of property.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] !== undefined) segments.push(JSON.parse(match[2]) as string);
    else if (match[3] !== undefined) segments.push(match[3]);
  }
  return segments;
}

/** Longest value text a failure shows; a longer one is cut, so a pasted blob cannot flood the log. */
const MAX_VALUE_TEXT = 120;

/**
 * The value at a failure's property, as the failure shows it: JSON, `[secret]` for a secret field
 * (at any depth below it), `(not set)` when absent, `(unknown)` for a value not known yet.
 * @example valueText(userKind, { password: "hunter2" }, "password") // "[secret]"
 */
export function valueText(kind: KindDescriptor, news: Record<string, unknown>, property: string): string {
  const path = pathSegments(property);
  let value: unknown = news;
  for (const segment of path) {
    if (value === null || typeof value !== "object") {
      value = undefined;
      break;
    }
    value = (value as Record<string | number, unknown>)[segment];
  }
  if (value === undefined || value === null) return "(not set)";
  // Below a secret field, any value is the secret or part of it; the whole connection is secret.
  if (kind.secretFields.includes(String(path[0])) || path[0] === "connection") return "[secret]";
  if (containsUnknown(value)) return "(unknown)";
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT)}…` : text;
}

/**
 * Failures as the engine should print them: the property, the value the program gave it and the
 * reason, in the reason itself. The engine prints a failure's value by looking the property up as
 * a top-level key, so a nested one (`action.to[2]`) would read `value {<nil>}`, and a secret could
 * be printed as is; with the property left empty it prints the reason alone:
 * `… resource 'team' has a problem: property action.to[2] value "not an address": must be an email address`.
 * @example describeFailures(aliasKind, news, [{ property: "action.to[2]", reason: "must be an email address" }])
 *   // [{ property: "", reason: 'property action.to[2] value "not an address": must be an email address' }]
 */
export function describeFailures(
  kind: KindDescriptor,
  news: Record<string, unknown>,
  failures: readonly CheckFailure[],
): CheckFailure[] {
  return failures.map(({ property, reason }) => ({
    property: "",
    reason:
      property === "" ? reason : `property ${property} value ${valueText(kind, news, property)}: ${reason}`,
  }));
}
