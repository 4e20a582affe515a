/** The generic diff: key fields replace, unknown keys may replace, and names that must stay unique go first. */
import { describe, expect, it } from "vitest";
import { checkInputs } from "../../../provider/src/lib/check.ts";
import { diffResource } from "../../../provider/src/lib/diff.ts";
import { UNKNOWN } from "../../../provider/src/lib/unknown.ts";
import { domainProvider } from "../../../provider/src/resources/domain.ts";
import { domainKind, routeKind } from "../../../sdk/src/models/kinds.ts";

const route = checkInputs(routeKind, { domain: "example.com", host: "mx1.example.net" }).inputs;
const stored = { ...route, etag: '"1"', createdAt: "2025-01-01T00:00:00.000Z" };

describe("diffResource", () => {
  it("leaves the field-level diff to the engine (changes undefined) and replaces nothing for a non-key change", () => {
    expect(diffResource(routeKind, stored, { ...route, priority: 20 })).toEqual({
      changes: undefined,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("replaces when a key field changes", () => {
    expect(diffResource(routeKind, stored, { ...route, port: 2525 }).replaces).toEqual(["port"]);
    expect(diffResource(routeKind, stored, { ...route, host: "mx2.example.net" }).replaces).toEqual(["host"]);
  });

  it("plans a replacement when a key field is not known yet (preview)", () => {
    expect(diffResource(routeKind, stored, { ...route, domain: UNKNOWN }).replaces).toEqual(["domain"]);
  });

  it("deletes first when the new domain would claim an alias the old one holds", async () => {
    const old = checkInputs(domainKind, { name: "example.com", aliases: ["example.org"] }).inputs;
    const renamed = checkInputs(domainKind, { name: "example.net", aliases: ["example.org"] }).inputs;
    const result = await domainProvider.diff("example.com", old, renamed);
    expect(result).toMatchObject({ replaces: ["name"], deleteBeforeReplace: true });
    const fresh = checkInputs(domainKind, { name: "example.net" }).inputs;
    expect(await domainProvider.diff("example.com", old, fresh)).toMatchObject({
      deleteBeforeReplace: false,
    });
  });
});
