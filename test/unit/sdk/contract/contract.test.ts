/** The route table: unique operations, consistent paths and headers, and fastify-ready JSON Schemas. */
import { describe, expect, it } from "vitest";
import { endpoint, endpoints, fastifySchema, toJsonSchema } from "../../../../sdk/src/contract/index.ts";
import { ERROR_CODES } from "../../../../sdk/src/errors.ts";
import { tenancyKinds } from "../../../../sdk/src/models/kinds.ts";
import { RouteSpec } from "../../../../sdk/src/models/route.ts";

describe("the route table", () => {
  it("has unique operationIds and unique method + path pairs", () => {
    const ids = endpoints.map((e) => e.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const routes = endpoints.map((e) => `${e.method} ${e.path}`);
    expect(new Set(routes).size).toBe(routes.length);
  });

  it("declares a params schema with exactly the path's parameters", () => {
    for (const e of endpoints) {
      const names = [...e.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]).sort();
      const declared = Object.keys(e.params?.shape ?? {}).sort();
      expect(declared, e.operationId).toEqual(names);
    }
  });

  it("covers list/get/put/patch/delete of each collection kind and get/put/patch/reset of each singleton", () => {
    for (const k of tenancyKinds) {
      const ops = endpoints.filter((e) => e.kind === k.name).map((e) => e.operationId);
      if (k.singleton) {
        expect(ops).toHaveLength(8);
        expect(ops).toContain(`resetAccount${k.name}`);
        expect(ops).toContain(`patchDomain${k.name}`);
      } else {
        expect(ops).toEqual([
          `list${k.plural[0]!.toUpperCase()}${k.plural.slice(1)}`,
          ...["get", "put", "patch", "delete"].map((v) => `${v}${k.name}`),
          // A domain's ownership check is the one action beyond CRUD.
          ...(k.name === "Domain" ? ["verifyDomain"] : []),
        ]);
      }
    }
  });

  it("has the administrative endpoints", () => {
    expect(endpoint("getHealth").path).toBe("/healthz");
    expect(endpoint("getOpenApi").path).toBe("/openapi.json");
    expect(endpoint("createToken").headers.idempotencyKey).toBe("optional");
    expect(endpoint("createToken").successStatuses).toEqual([201]);
    expect(endpoint("listAudit").query?.shape).toHaveProperty("objectId");
    expect(() => endpoint("nope")).toThrow(/unknown operationId/);
  });

  it("accepts If-None-Match: * and an Idempotency-Key on the PUT of each collection kind (create only)", () => {
    for (const k of tenancyKinds) {
      if (k.singleton) continue;
      const put = endpoint(`put${k.name}`);
      expect(put.headers, put.operationId).toMatchObject({
        ifNoneMatch: "optional",
        idempotencyKey: "optional",
      });
      expect(put.errors, put.operationId).toContain("MP_PRECONDITION_FAILED");
    }
    // A domain's whole tenancy is created only with If-None-Match: * too, retried under its key.
    const tenancy = endpoint("applyDomainTenancy");
    expect(tenancy.headers).toMatchObject({ ifNoneMatch: "optional", idempotencyKey: "optional" });
    expect(tenancy.errors).toEqual(
      expect.arrayContaining(["MP_PRECONDITION_FAILED", "MP_IDEMPOTENCY_KEY_REUSED"]),
    );
    const others = endpoints.filter(
      (e) => !(e.method === "PUT" && e.successStatuses.includes(201)) && e !== tenancy,
    );
    for (const e of others) expect(e.headers.ifNoneMatch ?? "none", e.operationId).toBe("none");
  });

  it("accepts If-Match on every update and delete of a versioned object, and only there", () => {
    // A revoked token, a lifted lockout, a cleared callout cache and a user's own session, password,
    // TOTP, application passwords and held messages have no version to match.
    const unversioned = [
      "revokeToken",
      "liftLoginLockout",
      "clearCalloutCache",
      "deleteSession",
      "changeMyPassword",
      "removeTotp",
      "revokeAppPassword",
      "deleteMyQuarantinedMessage",
    ];
    for (const e of endpoints) {
      const writes = e.method === "PUT" || e.method === "PATCH" || e.method === "DELETE";
      expect(e.headers.ifMatch !== "none", e.operationId).toBe(
        writes && !unversioned.includes(e.operationId),
      );
    }
  });

  it("lists only catalogued error codes and gives 204 endpoints no response body", () => {
    for (const e of endpoints) {
      for (const code of e.errors) expect(ERROR_CODES, e.operationId).toContain(code);
      if (e.successStatuses.includes(204)) expect(e.response, e.operationId).toBeNull();
    }
    expect(endpoint("deleteUser").errors).toContain("MP_USER_ENABLED");
  });
});

describe("JSON Schema for fastify", () => {
  it("converts every endpoint to draft-07 schemas without $schema", () => {
    for (const e of endpoints) {
      const schema = fastifySchema(e);
      for (const part of [schema.params, schema.querystring, schema.body, schema.headers]) {
        if (part) expect(part, e.operationId).not.toHaveProperty("$schema");
      }
    }
  });

  it("gives PUT bodies the input side (defaults optional) and responses the output side", () => {
    const put = fastifySchema(endpoint("putRoute"));
    const body = put.body as { $ref: string; definitions: Record<string, { required: string[] }> };
    expect(body.$ref).toBe("#/definitions/RouteSpec");
    expect(body.definitions["RouteSpec"]!.required).toEqual(["domain", "host"]);
    const response = put.response![200] as { definitions: Record<string, { required: string[] }> };
    expect(response.definitions["Route"]!.required).toEqual(
      expect.arrayContaining([
        "port",
        "priority",
        "tls",
        "id",
        "etag",
        "createdAt",
        "updatedAt",
        "managedBy",
      ]),
    );
    expect(put.headers).toEqual({
      type: "object",
      properties: {
        "if-match": { type: "string", minLength: 1 },
        "if-none-match": { type: "string", enum: ["*"] },
        "idempotency-key": { type: "string", minLength: 1 },
        "mailplane-account": { type: "string", minLength: 1 },
        "mailplane-managed-by": { type: "string", minLength: 1, maxLength: 512 },
      },
      required: [],
    });
  });

  it("emits 2020-12 with descriptions for the schema files", () => {
    const schema = toJsonSchema(RouteSpec) as {
      $schema: string;
      $defs: Record<string, { properties: object }>;
    };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$defs["RouteSpec"]!.properties).toHaveProperty("port.description");
  });
});
