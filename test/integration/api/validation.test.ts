/**
 * Every validation rule of the model rejected over real HTTP with its path, on both stores. The
 * shape rules (types, bounds, enums, required and unknown fields) are generated from the checked-in
 * JSON Schemas (schema/*.schema.json, themselves generated from the zod model); the rules JSON
 * Schema cannot express (normalisation, cross-field rules, password policies) are listed by hand.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../../platform/api/app.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

type Json = Record<string, any>;

/** One request that must be refused, and the field path the refusal must name. */
interface Case {
  name: string;
  method: "PUT" | "POST";
  path: string;
  body: unknown;
  expectPath: (string | number)[];
  code?: string;
}

/** How to build a valid body and its path for a kind, given a domain. */
interface Target {
  schemaFile: string;
  def: string;
  method: "PUT" | "POST";
  path(d: string): string;
  valid(d: string): Json;
}

const TARGETS: Target[] = [
  {
    schemaFile: "domain",
    def: "DomainSpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}`,
    valid: (d) => ({ name: d }),
  },
  {
    schemaFile: "route",
    def: "RouteSpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}/routes/mx.example.net:25`,
    valid: (d) => ({ domain: d, host: "mx.example.net", port: 25 }),
  },
  {
    schemaFile: "alias",
    def: "AliasSpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}/aliases/info@${d}`,
    valid: (d) => ({ address: `info@${d}`, action: { type: "forward", to: [`a@${d}`] } }),
  },
  {
    schemaFile: "sender-list",
    def: "SenderListSpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}/sender-lists/block-sender`,
    valid: (d) => ({ domain: d, kind: "block", target: "sender", entries: ["spam.example"] }),
  },
  {
    schemaFile: "filter-settings",
    def: "FilterSettingsSpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}/filter-settings`,
    valid: (d) => ({ scope: d }),
  },
  {
    schemaFile: "password-policy",
    def: "PasswordPolicySpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}/password-policy`,
    valid: (d) => ({ scope: d }),
  },
  {
    schemaFile: "user",
    def: "UserSpec",
    method: "PUT",
    path: (d) => `/v1/domains/${d}/users/u@${d}`,
    valid: (d) => ({ address: `u@${d}`, password: "Blue-Kettle-42" }),
  },
  {
    schemaFile: "account",
    def: "AccountSpec",
    method: "PUT",
    path: () => "/v1/accounts/validation-acct",
    valid: () => ({ id: "validation-acct", name: "V" }),
  },
  {
    schemaFile: "api-token",
    def: "ApiTokenSpec",
    method: "POST",
    path: () => "/v1/tokens",
    valid: () => ({ role: "read-only" }),
  },
];

/** Values that break one JSON Schema keyword of `s`, each with what it breaks. */
function breakers(s: Json): [string, unknown][] {
  const out: [string, unknown][] = [];
  const nullable = Array.isArray(s.anyOf) && s.anyOf.some((x: Json) => x.type === "null");
  const base: Json = nullable ? s.anyOf.find((x: Json) => x.type !== "null") : s;
  if (base.enum) out.push(["enum", "definitely-not-one-of-them"]);
  if (base.const !== undefined) out.push(["const", "not-the-constant"]);
  switch (base.type) {
    case "integer":
    case "number":
      out.push(["type", "not-a-number"]);
      if (base.type === "integer") out.push(["integer", 1.5]);
      if (base.minimum !== undefined)
        out.push(["minimum", base.minimum - (base.type === "integer" ? 1 : 0.01)]);
      if (base.maximum !== undefined)
        out.push(["maximum", base.maximum + (base.type === "integer" ? 1 : 0.01)]);
      break;
    case "string":
      out.push(["type", 42]);
      if (base.minLength) out.push(["minLength", ""]);
      if (base.maxLength !== undefined && base.maxLength <= 100_000)
        out.push(["maxLength", "x".repeat(base.maxLength + 1)]);
      break;
    case "boolean":
      out.push(["type", "yes"]);
      break;
    case "array":
      out.push(["type", "not-an-array"]);
      if (base.items?.type === "string") out.push(["items.type", [42]]);
      if (base.items?.type === "integer") out.push(["items.type", ["x"]]);
      if (base.minItems) out.push(["minItems", []]);
      if (base.maxItems !== undefined && base.maxItems <= 10_000) {
        out.push(["maxItems", Array.from({ length: base.maxItems + 1 }, (_, i) => `item${i}.example`)]);
      }
      break;
    case "object":
      out.push(["type", "not-an-object"]);
      break;
  }
  return out;
}

/** Cases generated from one kind's JSON Schema: every property's keywords, required fields, unknown fields. */
function generatedCases(target: Target, d: string): Case[] {
  const file = JSON.parse(
    readFileSync(join(packageRoot(), "schema", `${target.schemaFile}.schema.json`), "utf8"),
  );
  const root: Json = file.$defs[target.def];
  const valid = target.valid(d);
  const cases: Case[] = [];
  const walk = (schema: Json, at: (string | number)[], baseValue: Json) => {
    const set = (value: unknown) => {
      const body = structuredClone(valid);
      let node: Json = body;
      for (const key of at.slice(0, -1)) node = node[key as string] ??= {};
      node[at[at.length - 1] as string] = value;
      return body;
    };
    for (const [name, value] of breakers(schema)) {
      cases.push({
        name: `${at.join(".")}: ${name}`,
        method: target.method,
        path: target.path(d),
        body: set(value),
        expectPath: at,
      });
    }
    if (schema.type === "object" && schema.properties) {
      for (const [prop, sub] of Object.entries(schema.properties as Record<string, Json>)) {
        walk(sub, [...at, prop], baseValue);
      }
      const body = set({ ...(baseValue ?? {}), bogusField: 1 });
      cases.push({
        name: `${at.join(".")}: unknown field`,
        method: target.method,
        path: target.path(d),
        body,
        expectPath: [...at, "bogusField"],
      });
    }
  };
  for (const [prop, sub] of Object.entries(root.properties as Record<string, Json>)) {
    // Discriminated unions (Alias.action) are covered by the hand-written cases below.
    if (sub.oneOf) continue;
    if (sub.type === "object") {
      walk(sub, [prop], valid[prop] ?? {});
      continue;
    }
    for (const [name, value] of breakers(sub)) {
      cases.push({
        name: `${prop}: ${name}`,
        method: target.method,
        path: target.path(d),
        body: { ...valid, [prop]: value },
        expectPath: [prop],
      });
    }
  }
  for (const prop of (root.required ?? []) as string[]) {
    const { [prop]: _dropped, ...rest } = valid;
    cases.push({
      name: `${prop}: required`,
      method: target.method,
      path: target.path(d),
      body: rest,
      expectPath: [prop],
    });
  }
  cases.push({
    name: "unknown top-level field",
    method: target.method,
    path: target.path(d),
    body: { ...valid, bogusField: true },
    expectPath: ["bogusField"],
  });
  return cases.map((c) => ({ ...c, name: `${target.def} ${c.name}` }));
}

/** The rules only the zod model knows: normalisation, formats, cross-field rules and key/path agreement. */
function modelCases(d: string): Case[] {
  const dom = (body: Json, expectPath: (string | number)[], name: string): Case => ({
    name: `DomainSpec ${name}`,
    method: "PUT",
    path: `/v1/domains/${d}`,
    body: { name: d, ...body },
    expectPath,
  });
  const put = (
    def: string,
    path: string,
    body: Json,
    expectPath: (string | number)[],
    name: string,
  ): Case => ({
    name: `${def} ${name}`,
    method: "PUT",
    path,
    body,
    expectPath,
  });
  const alias = `/v1/domains/${d}/aliases/info@${d}`;
  const rcptList = `/v1/domains/${d}/sender-lists/allow-recipient`;
  const fs = `/v1/domains/${d}/filter-settings`;
  const pp = `/v1/domains/${d}/password-policy`;
  const user = `/v1/domains/${d}/users/u@${d}`;
  return [
    dom({ name: "not a domain" }, ["name"], "name is a domain name"),
    dom({ name: uniqueDomain("other") }, ["name"], "name matches the path"),
    dom({ aliases: [d] }, ["aliases", 0], "is not its own alias"),
    dom({ aliases: ["bad_domain!"] }, ["aliases", 0], "aliases are domain names"),
    dom({ localRecipients: ["bad local"] }, ["localRecipients", 0], "local recipients are local parts"),
    dom({ catchAll: `all@${d}`, localRecipientsOnly: true }, ["catchAll"], "catch-all is a local recipient"),
    dom({ rejectedLocalPartChars: "a%" }, ["rejectedLocalPartChars"], "never rejects letters"),
    dom({ timezone: "Mars/Olympus_Mons" }, ["timezone"], "timezone is an IANA zone"),
    dom({ primaryContact: "nobody" }, ["primaryContact"], "contacts are addresses"),
    dom({ notificationFrom: "x@" }, ["notificationFrom"], "notification sender is an address"),
    dom({ catchAll: "@@" }, ["catchAll"], "catch-all is an address"),
    put(
      "RouteSpec",
      `/v1/domains/${d}/routes/mx.example.net:25`,
      { domain: d, host: "bad host!" },
      ["host"],
      "host is a host",
    ),
    put(
      "RouteSpec",
      `/v1/domains/${d}/routes/mx.example.net:25`,
      { domain: d, host: "mx2.example.net" },
      ["host"],
      "host matches the path",
    ),
    put(
      "RouteSpec",
      `/v1/domains/${d}/routes/mx.example.net:25`,
      { domain: "other.example", host: "mx.example.net" },
      ["domain"],
      "domain matches the path",
    ),
    put(
      "AliasSpec",
      alias,
      { address: "not an address", action: { type: "reject", message: "x" } },
      ["address"],
      "address is an address",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "forward", to: [`info@${d}`] } },
      ["action", "to", 0],
      "no forwarding loop",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "forward", to: [] } },
      ["action", "to"],
      "forwards somewhere",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "forward", to: ["nope"] } },
      ["action", "to", 0],
      "forwards to addresses",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "autoReply", subject: "s", body: "b", copyTo: [`info@${d}`] } },
      ["action", "copyTo", 0],
      "no copy loop",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "reject", message: "two\nlines" } },
      ["action", "message"],
      "reject text is one line",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "explode" } },
      ["action"],
      "action type is known",
    ),
    put(
      "AliasSpec",
      alias,
      { address: `info@${d}`, action: { type: "autoReply", subject: "", body: "b" } },
      ["action", "subject"],
      "auto-reply has a subject",
    ),
    put(
      "SenderListSpec",
      `/v1/domains/${d}/sender-lists/block-sender`,
      { domain: d, kind: "block", target: "sender", entries: ["not valid!"] },
      ["entries", 0],
      "sender entries are addresses or domains",
    ),
    put(
      "SenderListSpec",
      rcptList,
      { domain: d, kind: "allow", target: "recipient", entries: ["x@other.example"] },
      ["entries", 0],
      "recipient entries are at the domain",
    ),
    put(
      "SenderListSpec",
      rcptList,
      { domain: d, kind: "block", target: "recipient", entries: [] },
      ["kind"],
      "kind matches the path",
    ),
    put(
      "FilterSettingsSpec",
      fs,
      { scope: d, tagThreshold: 0.95 },
      ["tagThreshold"],
      "tag below quarantine threshold",
    ),
    put(
      "FilterSettingsSpec",
      fs,
      { scope: d, spfExemptNetworks: ["999.1.1.1/8"] },
      ["spfExemptNetworks", 0],
      "SPF exemptions are CIDRs",
    ),
    put(
      "FilterSettingsSpec",
      fs,
      { scope: d, blockedExtensions: ["ex e"] },
      ["blockedExtensions", 0],
      "extensions are extensions",
    ),
    put(
      "FilterSettingsSpec",
      fs,
      { scope: d, unsureSubjectNotation: "a\u0007b" },
      ["unsureSubjectNotation"],
      "notation has no control characters",
    ),
    put("FilterSettingsSpec", fs, { scope: "account" }, ["scope"], "scope matches the path"),
    put(
      "PasswordPolicySpec",
      pp,
      { scope: d, minLength: 20, maxLength: 10 },
      ["maxLength"],
      "maxLength at least minLength",
    ),
    put(
      "PasswordPolicySpec",
      pp,
      { scope: d, expiry: { days: 10, warnDays: [14] } },
      ["expiry", "warnDays", 0],
      "warnings before expiry",
    ),
    put("PasswordPolicySpec", pp, { scope: "not a scope!" }, ["scope"], "scope is account or a domain"),
    put(
      "UserSpec",
      user,
      { address: `u@${d}`, password: "Blue-Kettle-42", externalAddress: `u@${d}` },
      ["externalAddress"],
      "external address is another address",
    ),
    put(
      "UserSpec",
      user,
      { address: "u@", password: "Blue-Kettle-42" },
      ["address"],
      "address is an address",
    ),
    put(
      "UserSpec",
      user,
      { address: `v@${d}`, password: "Blue-Kettle-42" },
      ["address"],
      "address matches the path",
    ),
    put(
      "UserSpec",
      user,
      { address: `u@${d}`, password: "Blue-Kettle-42", firstName: "a\u0000b" },
      ["firstName"],
      "names have no control characters",
    ),
    put("UserSpec", user, { address: `u@${d}` }, ["password"], "a new user needs a password"),
    put(
      "AccountSpec",
      "/v1/accounts/validation-acct",
      { id: "Not A Slug!", name: "x" },
      ["id"],
      "id is a slug",
    ),
    put(
      "AccountSpec",
      "/v1/accounts/validation-acct",
      { id: "validation-acct", name: "  " },
      ["name"],
      "name is not blank",
    ),
    put(
      "AccountSpec",
      "/v1/accounts/validation-acct",
      { id: "other-acct", name: "x" },
      ["id"],
      "id matches the path",
    ),
    {
      name: "ApiTokenSpec domain-admin needs domains",
      method: "POST",
      path: "/v1/tokens",
      body: { role: "domain-admin" },
      expectPath: ["domains"],
    },
    {
      name: "ApiTokenSpec other roles have no domains",
      method: "POST",
      path: "/v1/tokens",
      body: { role: "read-only", domains: [d] },
      expectPath: ["domains"],
    },
    {
      name: "ApiTokenSpec domains are domain names",
      method: "POST",
      path: "/v1/tokens",
      body: { role: "domain-admin", domains: ["nope!"] },
      expectPath: ["domains", 0],
    },
    {
      name: "ApiTokenSpec expiresAt is a timestamp",
      method: "POST",
      path: "/v1/tokens",
      body: { role: "read-only", expiresAt: "tomorrow" },
      expectPath: ["expiresAt"],
    },
  ];
}

describe.each(BACKENDS)("validation on $name", (backend) => {
  let h: Harness;
  let t: { id: string; token: string };
  let d: string;

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant("v");
    d = uniqueDomain("v");
    await h.call("PUT", `/v1/domains/${d}`, { token: t.token, body: { name: d } });
  });
  afterAll(async () => h?.close());

  const send = (c: Case) =>
    h.call(c.method, c.path, {
      token: c.path.startsWith("/v1/accounts") ? h.adminToken : t.token,
      body: c.body,
    });

  const expectRejected = async (c: Case) => {
    const res = await send(c);
    const paths = (res.body?.errors ?? []).map((e: { path: unknown }) => JSON.stringify(e.path));
    const hit = (res.body?.errors ?? []).find((e: { path: (string | number)[] }) =>
      c.expectPath.every((p, i) => e.path[i] === p),
    );
    expect({
      case: c.name,
      status: res.status,
      code: res.body?.code,
      named: hit !== undefined,
      paths,
    }).toEqual({
      case: c.name,
      status: 422,
      code: c.code ?? "MP_VALIDATION_FAILED",
      named: true,
      paths,
    });
    expect(hit.in).toBe("body");
    expect(res.headers["content-type"]).toContain("application/problem+json");
  };

  it("rejects every shape rule of every kind's JSON Schema with the field's path", async () => {
    const cases = TARGETS.flatMap((target) => generatedCases(target, d));
    expect(cases.length).toBeGreaterThan(150);
    for (const c of cases) await expectRejected(c);
  });

  it("rejects every rule only the model knows with the field's path", async () => {
    for (const c of modelCases(d)) await expectRejected(c);
  });

  it("leaves nothing behind after refused writes", async () => {
    const users = await h.call("GET", `/v1/domains/${d}/users`, { token: t.token });
    expect(users.body.items).toEqual([]);
    const fs = await h.call("GET", `/v1/domains/${d}/filter-settings`, { token: t.token });
    expect(fs.body.etag).toBe("defaults");
    expect((await h.call("GET", "/v1/accounts/validation-acct", { token: h.adminToken })).status).toBe(404);
  });

  describe("password rules", () => {
    /** A domain with its own policy (or none), and a function that tries a password for a new user. */
    async function scope(policy?: Json) {
      const dom = uniqueDomain("pw");
      await h.call("PUT", `/v1/domains/${dom}`, { token: t.token, body: { name: dom } });
      if (policy) {
        const res = await h.call("PUT", `/v1/domains/${dom}/password-policy`, {
          token: t.token,
          body: { scope: dom, ...policy },
        });
        expect(res.status).toBe(200);
      }
      return (local: string, password: string) =>
        h.call("PUT", `/v1/domains/${dom}/users/${local}@${dom}`, {
          token: t.token,
          body: { address: `${local}@${dom}`, password },
        });
    }

    const expectRule = async (res: Awaited<ReturnType<Awaited<ReturnType<typeof scope>>>>, rule: string) => {
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 422,
        code: "MP_PASSWORD_POLICY_VIOLATION",
      });
      expect(res.body.errors).toContainEqual({
        path: ["password"],
        code: rule,
        message: expect.any(String),
        in: "body",
      });
      expect(res.body.detail).toContain(rule);
    };

    it("applies the base rule without a policy: 6–25 characters, an upper-case letter or a digit, no spaces", async () => {
      const tryPw = await scope();
      await expectRule(await tryPw("a", "Ab1"), "minLength");
      await expectRule(await tryPw("a", `A${"b".repeat(25)}`), "maxLength");
      await expectRule(await tryPw("a", "Has Space1"), "noWhitespace");
      await expectRule(await tryPw("a", "alllowercase"), "upperOrDigit");
      await expectRule(await tryPw("a", "Abc\u0001def1"), "noControlCharacters");
      expect((await tryPw("a", "Blue-Kettle-42")).status).toBe(201);
    });

    it("applies each rule of a domain's policy", async () => {
      const lax = { minCharacterClasses: 0, rejectCommon: false, noUsernameParts: false };
      await expectRule(await (await scope({ ...lax, minLength: 12 }))("a", "Short-Pass1"), "minLength");
      await expectRule(await (await scope({ ...lax, maxLength: 10 }))("a", "Much-Too-Long-1"), "maxLength");
      await expectRule(
        await (await scope({ ...lax, requireUpper: true }))("a", "lower-only-123"),
        "requireUpper",
      );
      await expectRule(
        await (await scope({ ...lax, requireLower: true }))("a", "UPPER-ONLY-123"),
        "requireLower",
      );
      await expectRule(
        await (await scope({ ...lax, requireDigit: true }))("a", "No-Digits-Here"),
        "requireDigit",
      );
      await expectRule(
        await (await scope({ ...lax, requireSymbol: true }))("a", "NoSymbols123"),
        "requireSymbol",
      );
      await expectRule(
        await (await scope({ ...lax, minCharacterClasses: 3 }))("a", "onlylowercase"),
        "minCharacterClasses",
      );
      await expectRule(
        await (await scope({ ...lax, noUsernameParts: true }))("carol.jones", "Jones-Kettle-9"),
        "noUsernameParts",
      );
      await expectRule(
        await (await scope({ ...lax, rejectCommon: true }))("a", "password2024"),
        "rejectCommon",
      );
    });

    it("refuses a password used before (last N and within D days) and accepts the current one unchanged", async () => {
      const dom = uniqueDomain("reuse");
      await h.call("PUT", `/v1/domains/${dom}`, { token: t.token, body: { name: dom } });
      await h.call("PUT", `/v1/domains/${dom}/password-policy`, {
        token: t.token,
        body: { scope: dom, reuse: { lastN: 2, withinDays: 0 } },
      });
      const path = `/v1/domains/${dom}/users/r@${dom}`;
      const setPw = (password: string) =>
        h.call("PUT", path, { token: t.token, body: { address: `r@${dom}`, password } });
      expect((await setPw("First-Kettle-1")).status).toBe(201);
      const second = await setPw("Second-Kettle-2");
      expect(second.status).toBe(200);
      const unchanged = await setPw("Second-Kettle-2");
      expect(unchanged.body.passwordChangedAt).toBe(second.body.passwordChangedAt);
      await expectRule(await setPw("First-Kettle-1"), "reuse");
      expect((await setPw("Third-Kettle-3")).status).toBe(200);
      // lastN is 2: the first password has dropped out of the window.
      expect((await setPw("First-Kettle-1")).status).toBe(200);
      const patched = await h.call("PATCH", path, { token: t.token, body: { password: "Third-Kettle-3" } });
      await expectRule(patched, "reuse");
    });

    it("uses the account's policy when the domain has none, and the domain's over the account's", async () => {
      const account = await h.call("PUT", "/v1/password-policy", {
        token: t.token,
        body: { scope: "account", minLength: 20, minCharacterClasses: 0 },
      });
      expect(account.status).toBe(200);
      try {
        await expectRule(await (await scope())("a", "Blue-Kettle-42"), "minLength");
        const own = await scope({ minLength: 8 });
        expect((await own("a", "Blue-Kettle-42")).status).toBe(201);
      } finally {
        await h.call("DELETE", "/v1/password-policy", { token: t.token });
      }
    });
  });
});
