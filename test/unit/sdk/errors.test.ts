/** The error catalogue: codes, problem types, MailplaneError, zod mapping, and agreement with docs/errors.md. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ERROR_CODES,
  errorCatalogue,
  isMailplaneError,
  MailplaneError,
  problemType,
  toDotPath,
  validationError,
  zodIssuesToProblemErrors,
} from "../../../sdk/src/errors.ts";
import { FilterSettingsSpec } from "../../../sdk/src/models/filter-settings.ts";

const docs = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

describe("the catalogue and docs/errors.md", () => {
  it("documents every code of the catalogue", () => {
    const missing = ERROR_CODES.filter((code) => !docs.includes(`### ${code}\n`));
    expect(missing).toEqual([]);
  });

  it("documents no code the catalogue lacks", () => {
    const documented = [...docs.matchAll(/^### (MP_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.filter((code) => !ERROR_CODES.includes(code as never))).toEqual([]);
    expect(documented).toHaveLength(ERROR_CODES.length);
  });

  it("documents each code's status and type as the catalogue has them", () => {
    for (const code of ERROR_CODES) {
      const section = docs.split(`### ${code}\n`)[1]!.split("\n### ")[0]!;
      const { status } = errorCatalogue[code];
      expect(section, code).toContain(status === 0 ? "status: none" : `status: ${status}`);
      expect(section, code).toContain(problemType(code));
    }
  });
});

describe("codes", () => {
  it("are MP_ + SCREAMING_SNAKE and map to kebab-case problem types", () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^MP_[A-Z]+(?:_[A-Z]+)*$/);
    expect(problemType("MP_PRECONDITION_FAILED")).toBe("https://mailplane.dev/problems/precondition-failed");
  });

  it("give the statuses the API contract promises", () => {
    expect(errorCatalogue.MP_PRECONDITION_FAILED.status).toBe(412);
    expect(errorCatalogue.MP_PRECONDITION_REQUIRED.status).toBe(428);
    expect(errorCatalogue.MP_IDEMPOTENCY_KEY_REUSED.status).toBe(422);
    expect(errorCatalogue.MP_USER_ENABLED.status).toBe(409);
    expect(errorCatalogue.MP_RATE_LIMITED.status).toBe(429);
    expect(errorCatalogue.MP_VALIDATION_FAILED.status).toBe(422);
  });
});

describe("MailplaneError", () => {
  it("carries code, status, errors and an RFC 9457 problem", () => {
    const err = new MailplaneError("MP_NOT_FOUND", "no domain example.com", {
      instance: "/v1/domains/example.com",
    });
    expect(err.code).toBe("MP_NOT_FOUND");
    expect(err.status).toBe(404);
    expect(err.message).toBe("no domain example.com");
    expect(err.retryable).toBe(false);
    expect(err.toJSON()).toEqual({
      type: "https://mailplane.dev/problems/not-found",
      title: errorCatalogue.MP_NOT_FOUND.title,
      status: 404,
      detail: "no domain example.com",
      instance: "/v1/domains/example.com",
      code: "MP_NOT_FOUND",
    });
  });

  it("is recognised by shape, so a second copy of the SDK still matches", () => {
    const foreign = Object.assign(new Error("x"), { code: "MP_CONFLICT", problem: {} });
    expect(isMailplaneError(foreign)).toBe(true);
    expect(isMailplaneError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(false);
    expect(isMailplaneError({ code: "MP_CONFLICT", problem: {} })).toBe(false);
  });

  it("marks rate limiting and unavailability retryable", () => {
    expect(new MailplaneError("MP_RATE_LIMITED").retryable).toBe(true);
    expect(new MailplaneError("MP_UNAVAILABLE").retryable).toBe(true);
  });
});

describe("zod issues as problem errors", () => {
  it("keep paths as arrays and say where in the request they are", () => {
    const result = FilterSettingsSpec.safeParse({ scope: "account", blockedExtensions: ["ok", "no way"] });
    expect(result.success).toBe(false);
    expect(zodIssuesToProblemErrors(result.error!.issues, "body", ["filterSettings"])).toEqual([
      {
        path: ["filterSettings", "blockedExtensions", 1],
        code: "custom",
        message: "must be a file extension of 1–10 letters or digits, without the dot (e.g. exe)",
        in: "body",
      },
    ]);
  });

  it("become one MP_VALIDATION_FAILED whose detail names the first path", () => {
    const err = validationError(
      FilterSettingsSpec.safeParse({ scope: "account", tagThreshold: 0.95 }).error!,
    );
    expect(err.code).toBe("MP_VALIDATION_FAILED");
    expect(err.status).toBe(422);
    expect(err.message).toBe("tagThreshold: must be below quarantineThreshold (0.9)");
    expect(err.problem.errors).toHaveLength(1);
  });

  it("count further issues in the detail", () => {
    const err = validationError(z.object({ a: z.string(), b: z.string() }).safeParse({}).error!, "query");
    expect(err.message).toMatch(/^a: .* \(and 1 more\)$/);
    expect(err.errors.map((e) => e.in)).toEqual(["query", "query"]);
  });
});

describe("toDotPath", () => {
  it("prints property names with dots and indexes in brackets", () => {
    expect(toDotPath(["routes", 2, "host"])).toBe("routes[2].host");
    expect(toDotPath(["headers", "if-match"])).toBe('headers["if-match"]');
    expect(toDotPath([])).toBe("");
  });
});
