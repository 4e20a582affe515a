/** A resource's `connection`: preview-time checks, how it resolves over the stack config, and when it moves an object. */
import { afterEach, describe, expect, it } from "vitest";
import { checkInputs, valueText } from "../../../provider/src/lib/check.ts";
import { resolveSettings, setStackConfig } from "../../../provider/src/lib/config.ts";
import { checkConnection, movesElsewhere } from "../../../provider/src/lib/connection.ts";
import { diffResource } from "../../../provider/src/lib/diff.ts";
import { UNKNOWN } from "../../../provider/src/lib/unknown.ts";
import { domainKind } from "../../../sdk/src/models/kinds.ts";

const STACK = {
  "mailplane:endpoint": "http://stack.example:8080",
  "mailplane:token": "mpt_stack-token",
  "mailplane:account": "stack-account",
};
const stackConfig = (values: Record<string, string>) => ({ get: (key: string) => values[key] });

describe("checkConnection", () => {
  it("refuses an endpoint without its own token, so the stack's token is never sent elsewhere", () => {
    expect(checkConnection({ endpoint: "https://other.example" })).toEqual([
      expect.objectContaining({ property: "connection.token" }),
    ]);
  });

  it("names each malformed field, and says nothing about fields not known yet", () => {
    const failures = checkConnection({ endpoint: "not a url", token: "", account: "Not A Slug", extra: 1 });
    expect(failures.map((f) => f.property).sort()).toEqual([
      "connection",
      "connection.account",
      "connection.endpoint",
      "connection.token",
    ]);
    expect(checkConnection({ endpoint: "https://other.example", token: UNKNOWN })).toEqual([]);
    expect(checkConnection(UNKNOWN)).toEqual([]);
    expect(checkConnection("https://other.example")).toEqual([
      expect.objectContaining({ property: "connection" }),
    ]);
  });

  it("is part of every resource's check: kept in the inputs, its failures listed with the model's", () => {
    const connection = { token: "mpt_acme", account: "acme" };
    const ok = checkInputs(domainKind, { name: "Example.COM", connection });
    expect(ok).toEqual({
      inputs: expect.objectContaining({ name: "example.com", connection }),
      failures: [],
    });
    const bad = checkInputs(domainKind, {
      name: "example.com",
      connection: { endpoint: "https://x.example" },
    });
    expect(bad.failures.map((f) => f.property)).toEqual(["connection.token"]);
  });

  it("never shows a connection's values in a failure: the whole object is secret", () => {
    const news = { name: "example.com", connection: { endpoint: "not a url", token: "mpt_secret" } };
    expect(valueText(domainKind, news, "connection.endpoint")).toBe("[secret]");
    expect(valueText(domainKind, news, "connection")).toBe("[secret]");
  });
});

describe("resolveSettings with a connection", () => {
  it("falls back field by field to the stack config for a connection naming only an account", () => {
    expect(resolveSettings({ account: "acme" }, stackConfig(STACK))).toEqual({
      endpoint: STACK["mailplane:endpoint"],
      token: STACK["mailplane:token"],
      account: "acme",
    });
  });

  it("does not lend the stack's account to a connection that brings its own token", () => {
    expect(resolveSettings({ token: "mpt_acme" }, stackConfig(STACK))).toEqual({
      endpoint: STACK["mailplane:endpoint"],
      token: "mpt_acme",
      account: undefined,
    });
  });

  it("refuses an endpoint without a token rather than send the stack's token to it", () => {
    expect(() => resolveSettings({ endpoint: "https://other.example" }, stackConfig(STACK))).toThrow(
      /connection.endpoint is set without connection.token/,
    );
  });

  it("names connection.endpoint when the connection's URL is malformed", () => {
    expect(() => resolveSettings({ endpoint: "nope", token: "mpt_x" }, stackConfig(STACK))).toThrow(
      /connection.endpoint must be a URL/,
    );
  });
});

describe("movesElsewhere", () => {
  afterEach(() => setStackConfig(undefined));

  it("is true for another endpoint or another named account, false for a new token in the same place", () => {
    setStackConfig(stackConfig(STACK));
    const here = { connection: { token: "mpt_a", account: "acme" } };
    expect(movesElsewhere(here, { connection: { token: "mpt_b", account: "acme" } })).toBe(false);
    expect(movesElsewhere(here, { connection: { token: "mpt_b", account: "other" } })).toBe(true);
    expect(
      movesElsewhere(here, {
        connection: { endpoint: "https://b.example", token: "mpt_b", account: "acme" },
      }),
    ).toBe(true);
    // The stack's settings, spelt out or implied, are the same place.
    expect(movesElsewhere({}, { connection: { account: "stack-account" } })).toBe(false);
    expect(
      movesElsewhere({}, { connection: { endpoint: STACK["mailplane:endpoint"], token: "mpt_x" } }),
    ).toBe(false);
  });

  it("does not guess while the new connection is not known (a token made in this run)", () => {
    setStackConfig(stackConfig(STACK));
    const here = { connection: { token: "mpt_a", account: "acme" } };
    expect(movesElsewhere(here, { connection: UNKNOWN })).toBe(false);
    expect(movesElsewhere(here, { connection: { token: UNKNOWN, account: "acme" } })).toBe(false);
    expect(movesElsewhere(here, { connection: { token: UNKNOWN, account: UNKNOWN } })).toBe(false);
  });

  it("makes the diff replace the object, deleting the old one first when its name is unique", () => {
    const olds = { name: "example.com", aliases: [] };
    const diff = diffResource(domainKind, olds, { ...olds }, (s) => [s["name"] as string], true);
    expect(diff).toEqual({ changes: undefined, replaces: ["connection"], deleteBeforeReplace: true });
  });
});
