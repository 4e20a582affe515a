/** Writes schema/: one JSON Schema per kind, the tenancy-manifest schema and the OpenAPI document (`npm run schema`). */
import { readFileSync, writeFileSync } from "node:fs";
import { buildOpenApiDocument, endpoints, type JsonSchema, toJsonSchema } from "../sdk/src/contract/index.ts";
import { ApiTokenSpec } from "../sdk/src/models/api-token.ts";
import { kinds } from "../sdk/src/models/kinds.ts";
import { TenancyManifest } from "../sdk/src/models/tenancy.ts";

/** Where the published schemas say they live (their `$id`s). */
export const SCHEMA_BASE_URI = "https://mailplane.dev/schema/";
const SCHEMA_DIR = new URL("../schema/", import.meta.url);

/** `SenderList` → `sender-list`. */
function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** A declared-input schema file: what a program or manifest may write (defaults optional). */
function specFile(fileName: string, schema: Parameters<typeof toJsonSchema>[0]): JsonSchema {
  return { $id: `${SCHEMA_BASE_URI}${fileName}`, ...toJsonSchema(schema, { io: "input" }) };
}

/**
 * Every file of schema/, by file name, as it should be on disk (pretty JSON plus a newline).
 * Pure: the drift test compares it with the checked-in files.
 */
export function generateSchemaFiles(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const documents: Record<string, JsonSchema> = {};
  for (const k of kinds)
    documents[`${kebab(k.name)}.schema.json`] = specFile(`${kebab(k.name)}.schema.json`, k.spec);
  documents["api-token.schema.json"] = specFile("api-token.schema.json", ApiTokenSpec);
  documents["tenancy.schema.json"] = specFile("tenancy.schema.json", TenancyManifest);
  documents["openapi.json"] = buildOpenApiDocument(endpoints, { version: pkg.version });
  return Object.fromEntries(
    Object.entries(documents)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, doc]) => [name, `${JSON.stringify(doc, null, 2)}\n`]),
  );
}

if (import.meta.main) {
  const files = generateSchemaFiles();
  for (const [name, text] of Object.entries(files)) writeFileSync(new URL(name, SCHEMA_DIR), text);
  console.log(`schema/: wrote ${Object.keys(files).join(", ")}`);
}
