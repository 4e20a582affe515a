/**
 * Loads a YAML tenancy manifest and validates it with ajv against schema/tenancy.schema.json; every
 * problem is reported as `file:line:column path: message`, and nothing is returned (so nothing is
 * applied) unless the whole manifest is valid.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { type Document, isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";

/** One problem in a manifest, located in the file. */
export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  /** Path in the manifest, e.g. `users[1].address`. */
  path: string;
  message: string;
}

/** Thrown when a manifest is not valid; `problems` lists every problem found, in file order. */
export class ManifestError extends Error {
  readonly code = "MP_MANIFEST_INVALID";
  readonly problems: ManifestProblem[];
  constructor(problems: ManifestProblem[]) {
    super(
      `invalid tenancy manifest (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems
        .map(formatProblem)
        .join("\n")}`,
    );
    this.name = "ManifestError";
    this.problems = problems;
  }
}

export function formatProblem(p: ManifestProblem): string {
  return `  ${p.file}:${p.line}:${p.column} ${p.path || "(document)"}: ${p.message}`;
}

/** A rule beyond JSON Schema: returns the problems it finds, with manifest paths. */
export type ManifestRule = (manifest: any) => { path: (string | number)[]; message: string }[];

export interface LoadManifestOptions {
  /** The JSON Schema (2020-12) the manifest must satisfy. */
  schema: object;
  /** Cross-object rules (e.g. no duplicate IDs), run after the schema passes. */
  rules?: ManifestRule[];
}

const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
    addFormats(ajv);
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** `/users/1/address` → `["users", 1, "address"]`. */
function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `["users", 1, "address"]` → `users[1].address` (the notation of zod's toDotPath). */
export function toDotPath(path: (string | number)[]): string {
  return path.map((seg, i) => (typeof seg === "number" ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join("");
}

/** The node to point at: the deepest existing node on the path (or a named key inside it). */
function locate(doc: Document, path: (string | number)[], key?: string): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of path) {
    if (isMap(node) || isSeq(node)) {
      const next = node.get(seg, true);
      if (next === undefined) break;
      node = next;
    } else break;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    if (pair?.key) return pair.key as Node;
  }
  return node as Node | undefined;
}

function describeAjvError(e: ErrorObject): { path: (string | number)[]; message: string; key?: string } {
  const path = pointerToPath(e.instancePath);
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      return { path: [...path, key], message: `unknown key "${key}"`, key };
    }
    case "required": {
      const prop = String((e.params as { missingProperty: string }).missingProperty);
      return { path: [...path, prop], message: `"${prop}" is required` };
    }
    case "enum":
      return {
        path,
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "type":
      return { path, message: `must be ${(e.params as { type: string }).type}` };
    case "format":
      return { path, message: `must be a valid ${(e.params as { format: string }).format}` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

/**
 * Parses and validates manifest text. Returns the manifest as plain data, or throws ManifestError.
 *
 * @example
 * const tenancy = parseManifest(text, "tenancy/dev.yaml", { schema: tenancySchema });
 */
export function parseManifest(text: string, file: string, options: LoadManifestOptions): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };

  const syntax = [...doc.errors];
  if (syntax.length > 0) {
    throw new ManifestError(
      syntax.map((e) => ({
        file,
        ...at(e.pos[0]),
        path: "",
        message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      })),
    );
  }

  const data = doc.toJS() ?? {};
  const validate = validatorFor(options.schema);
  const problems: ManifestProblem[] = [];
  // One problem per path: a value that breaks one rule tends to break rules built on it too (an
  // invalid address also has no declared domain); the first found says what to fix.
  const reported = new Set<string>();
  const report = (path: (string | number)[], message: string, key?: string) => {
    const dotted = toDotPath(path);
    if (reported.has(dotted)) return;
    reported.add(dotted);
    const node = locate(doc, key === undefined ? path : path.slice(0, -1), key);
    problems.push({ file, ...at(node?.range?.[0]), path: dotted, message });
  };
  if (!validate(data)) {
    for (const error of validate.errors ?? []) {
      // oneOf/anyOf report every branch; the specific errors beneath them say more.
      if (error.keyword === "oneOf" || error.keyword === "anyOf" || error.keyword === "if") continue;
      const described = describeAjvError(error);
      report(described.path, described.message, described.key);
    }
  }
  // The rules run on schema-invalid manifests too, so one run lists every problem.
  for (const rule of options.rules ?? []) {
    for (const found of rule(data)) report(found.path, found.message);
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ManifestError(problems);
  }
  return data;
}

/** Reads and validates a manifest file. */
export function loadManifest(file: string, options: LoadManifestOptions): unknown {
  return parseManifest(readFileSync(file, "utf8"), file, options);
}
