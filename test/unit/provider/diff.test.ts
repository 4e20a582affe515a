/**
 * The generic diff: key fields replace, unknown keys may replace, names that must stay unique go
 * first, and sets keep the stored order so the engine's by-index diff shows an insertion as one element.
 */
import { describe, expect, it } from "vitest";
import { checkInputs } from "../../../provider/src/lib/check.ts";
import { diffResource, keepListOrder } from "../../../provider/src/lib/diff.ts";
import { UNKNOWN } from "../../../provider/src/lib/unknown.ts";
import { aliasProvider } from "../../../provider/src/resources/alias.ts";
import { domainProvider } from "../../../provider/src/resources/domain.ts";
import { senderListProvider } from "../../../provider/src/resources/sender-list.ts";
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

describe("keepListOrder", () => {
  it("keeps the old order and appends an inserted element, so the by-index diff adds one index", () => {
    expect(keepListOrder({ to: ["a", "c"] }, { to: ["a", "b", "c"] })).toEqual({ to: ["a", "c", "b"] });
  });

  it("takes a reorder as the old order: no change", () => {
    expect(keepListOrder(["c", "a", "b"], ["a", "b", "c"])).toEqual(["c", "a", "b"]);
  });

  it("drops a removed element in place and keeps the rest in the old order", () => {
    expect(keepListOrder(["c", "a", "b"], ["a", "c"])).toEqual(["c", "a"]);
  });

  it("reaches lists at any depth and leaves scalars, lists with repeats and new fields alone", () => {
    const olds = { action: { type: "forward", to: [2, 1] }, name: "x" };
    const news = { action: { type: "forward", to: [1, 2, 3] }, name: "y", extra: ["b", "a"] };
    expect(keepListOrder(olds, news)).toEqual({
      action: { type: "forward", to: [2, 1, 3] },
      name: "y",
      extra: ["b", "a"],
    });
    expect(keepListOrder(["a", "b"], ["b", "b", "a"])).toEqual(["b", "b", "a"]);
  });
});

describe("check keeps sets in the stored order", () => {
  const alias = (to: string[]) => ({ address: "team@example.com", action: { type: "forward", to } });

  it("an alias forward list with an insertion: the old elements first, the new one last", async () => {
    const stored = (await aliasProvider.check({}, alias(["carol@example.com", "alice@example.com"]))).inputs;
    expect(stored["action"]).toEqual({ type: "forward", to: ["alice@example.com", "carol@example.com"] });
    const next = await aliasProvider.check(
      stored,
      alias(["alice@example.com", "Bob@example.com", "carol@example.com"]),
    );
    expect(next.failures).toEqual([]);
    expect(next.inputs["action"]).toEqual({
      type: "forward",
      to: ["alice@example.com", "carol@example.com", "bob@example.com"],
    });
  });

  it("a sender list reordered (and in another case) checks to exactly the stored inputs", async () => {
    const base = { domain: "example.com", kind: "block", target: "sender" };
    const stored = (
      await senderListProvider.check({}, { ...base, entries: ["spam.example", "bob@example.net"] })
    ).inputs;
    const reordered = await senderListProvider.check(stored, {
      ...base,
      entries: ["Bob@Example.NET", "@spam.example"],
    });
    expect(reordered.inputs).toEqual(stored);
  });

  it("a domain's aliases after a reorder written over stored inputs in another order stay as stored", async () => {
    const stored = {
      ...(await domainProvider.check({}, { name: "example.com" })).inputs,
      aliases: ["b.example", "a.example"],
    };
    const next = await domainProvider.check(stored, {
      name: "example.com",
      aliases: ["a.example", "b.example", "c.example"],
    });
    expect(next.inputs["aliases"]).toEqual(["b.example", "a.example", "c.example"]);
  });
});
