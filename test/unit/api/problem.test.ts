/** ajv errors → problem field errors with zod-style paths pointing at the field itself. */
import { describe, expect, it } from "vitest";
import { ajvToFieldError } from "../../../platform/api/http/problem.ts";

describe("ajvToFieldError", () => {
  it("points required and unknown-field errors at the field, and keeps array indexes as numbers", () => {
    expect(
      ajvToFieldError(
        {
          instancePath: "/action",
          keyword: "required",
          params: { missingProperty: "to" },
          schemaPath: "",
          message: "x",
        },
        "body",
      ),
    ).toEqual({ path: ["action", "to"], code: "invalid_type", message: "is required", in: "body" });
    expect(
      ajvToFieldError(
        {
          instancePath: "",
          keyword: "additionalProperties",
          params: { additionalProperty: "bogus" },
          schemaPath: "",
        },
        "body",
      ),
    ).toMatchObject({ path: ["bogus"], code: "unrecognized_keys" });
    expect(
      ajvToFieldError(
        {
          instancePath: "/entries/3",
          keyword: "type",
          params: {},
          schemaPath: "",
          message: "must be string",
        },
        "body",
      ),
    ).toEqual({ path: ["entries", 3], code: "invalid_type", message: "must be string", in: "body" });
  });

  it("decodes JSON Pointer escapes and keeps the request part", () => {
    expect(
      ajvToFieldError(
        { instancePath: "/a~1b/c~0d", keyword: "maximum", params: {}, schemaPath: "", message: "m" },
        "query",
      ),
    ).toEqual({ path: ["a/b", "c~d"], code: "too_big", message: "m", in: "query" });
  });
});
