/** The generic check: normalisation, failures named by property path, and the engine's unknown placeholder. */
import { describe, expect, it } from "vitest";
import { checkInputs, valueText } from "../../../provider/src/lib/check.ts";
import { UNKNOWN } from "../../../provider/src/lib/unknown.ts";
import { aliasProvider } from "../../../provider/src/resources/alias.ts";
import { userProvider } from "../../../provider/src/resources/user.ts";
import {
  aliasKind,
  domainKind,
  filterSettingsKind,
  routeKind,
  senderListKind,
  userKind,
} from "../../../sdk/src/models/kinds.ts";

describe("checkInputs", () => {
  it("normalises names and sets so that two spellings of one declaration are equal", () => {
    const a = checkInputs(domainKind, {
      name: "Example.COM",
      aliases: ["b.example", "A.example", "a.example"],
    });
    const b = checkInputs(domainKind, { name: "example.com", aliases: ["a.example", "b.example"] });
    expect(a.failures).toEqual([]);
    expect(a.inputs).toEqual(b.inputs);
    expect(a.inputs["aliases"]).toEqual(["a.example", "b.example"]);
  });

  it("fills defaults in, so writing a default explicitly is no change", () => {
    const implicit = checkInputs(routeKind, { domain: "example.com", host: "mx1.example.net" });
    const explicit = checkInputs(routeKind, { domain: "example.com", host: "mx1.example.net", port: 25 });
    expect(implicit.inputs).toEqual(explicit.inputs);
    expect(implicit.inputs["tls"]).toBe("opportunistic");
  });

  it("drops the serialized provider and keeps adopt", () => {
    const { inputs } = checkInputs(routeKind, {
      __provider: "exports.handler = …",
      adopt: true,
      domain: "example.com",
      host: "mx1.example.net",
    });
    expect(inputs["__provider"]).toBeUndefined();
    expect(inputs["adopt"]).toBe(true);
  });

  it("names the property of each failure with its dot path", () => {
    expect(
      checkInputs(routeKind, { domain: "example.com", host: "mx1.example.net", port: 0 }).failures,
    ).toEqual([{ property: "port", reason: expect.stringMatching(/>=\s?1/) }]);
    const alias = checkInputs(aliasKind, {
      address: "info@example.com",
      action: { type: "forward", to: ["not an address"] },
    });
    expect(alias.failures.map((f) => f.property)).toEqual(["action.to[0]"]);
  });

  it("reports a cross-field rule on the field it names: tag threshold above quarantine threshold", () => {
    const { failures } = checkInputs(filterSettingsKind, {
      scope: "example.com",
      quarantineThreshold: 0.5,
      tagThreshold: 0.8,
    });
    expect(failures).toEqual([
      { property: "tagThreshold", reason: "must be below quarantineThreshold (0.5)" },
    ]);
  });

  it("rejects a bad extension and an invalid address with their paths", () => {
    const filter = checkInputs(filterSettingsKind, {
      scope: "example.com",
      blockedExtensions: ["exe", "not/ok"],
    });
    expect(filter.failures.map((f) => f.property)).toEqual(["blockedExtensions[1]"]);
    const user = checkInputs(userKind, { address: "alice", password: "Secret-123" });
    expect(user.failures.map((f) => f.property)).toEqual(["address"]);
  });

  it("names properties the resource does not have", () => {
    const { failures } = checkInputs(routeKind, {
      domain: "example.com",
      host: "mx1.example.net",
      weight: 3,
    });
    expect(failures).toEqual([{ property: "weight", reason: "is not a property of this resource" }]);
  });

  it("tolerates unknown values during preview: no failure at them, cross-field rules wait", () => {
    const { inputs, failures } = checkInputs(senderListKind, {
      domain: UNKNOWN,
      kind: "allow",
      target: "recipient",
      entries: ["nofilter", "Ops@Example.com"],
    });
    expect(failures).toEqual([]);
    expect(inputs["domain"]).toBe(UNKNOWN);
    // Known fields are still normalised one by one, so they do not show as spurious changes.
    expect(inputs["entries"]).toEqual(["nofilter", "ops@example.com"]);
  });

  it("still reports known bad values next to unknown ones", () => {
    const { failures } = checkInputs(routeKind, { domain: UNKNOWN, host: "mx1.example.net", port: 70000 });
    expect(failures.map((f) => f.property)).toEqual(["port"]);
  });

  it("tolerates an unknown element inside a list", () => {
    const { failures } = checkInputs(aliasKind, {
      address: "team@example.com",
      action: { type: "forward", to: [UNKNOWN, "ken@example.com"] },
    });
    expect(failures).toEqual([]);
  });

  it("rejects a non-boolean adopt", () => {
    const { failures } = checkInputs(domainKind, { name: "example.com", adopt: "yes" });
    expect(failures).toEqual([{ property: "adopt", reason: "must be true or false" }]);
  });
});

describe("check failures as the engine prints them", () => {
  it("show the offending value of a nested property, not the engine's {<nil>}", async () => {
    const { failures } = await aliasProvider.check(
      {},
      { address: "team@example.com", action: { type: "forward", to: ["ken@example.com", "not an address"] } },
    );
    expect(failures).toEqual([
      {
        property: "",
        reason: expect.stringMatching(
          /^property action.to\[1\] value "not an address": must be an email address/,
        ),
      },
    ]);
  });

  it("list every error of the resource at once, the kind's own rules included", async () => {
    const { failures } = await userProvider.check({}, { address: "alice", quotaMb: -1 });
    expect((failures ?? []).map((f) => f.reason.split(":")[0])).toEqual([
      'property address value "alice"',
      "property quotaMb value -1",
      "property password value (not set)",
    ]);
  });

  it("show a secret as [secret], never its value", async () => {
    const password = `Hunter2-${"x".repeat(1100)}`;
    const { failures } = await userProvider.check({}, { address: "alice@example.com", password });
    expect(failures).toEqual([
      { property: "", reason: expect.stringMatching(/^property password value \[secret\]: .*1024/) },
    ]);
    expect(JSON.stringify(failures)).not.toContain("Hunter2");
  });

  it("render absent, unknown, long and oddly named values", () => {
    expect(valueText(routeKind, {}, "port")).toBe("(not set)");
    expect(valueText(aliasKind, { action: { to: [UNKNOWN] } }, "action.to[0]")).toBe("(unknown)");
    expect(valueText(routeKind, { host: "h".repeat(500) }, "host")).toMatch(/^"h{119}…$/);
    expect(valueText(routeKind, { "a b": { c: 1 } }, '["a b"].c')).toBe("1");
  });
});

describe("User check", () => {
  it("requires a password to create a user, unless adopting one", async () => {
    const create = await userProvider.check({}, { address: "alice@example.com" });
    expect(create.failures).toEqual([
      { property: "", reason: expect.stringContaining("password value (not set): is required") },
    ]);
    const adopt = await userProvider.check({}, { address: "alice@example.com", adopt: true });
    expect(adopt.failures).toEqual([]);
    const update = await userProvider.check(
      { address: "alice@example.com" },
      { address: "alice@example.com" },
    );
    expect(update.failures).toEqual([]);
  });

  it("never puts the password into a failure reason", async () => {
    const result = await userProvider.check({}, { address: "not-an-address", password: "Hunter2-Secret" });
    expect(JSON.stringify(result.failures)).not.toContain("Hunter2-Secret");
  });
});
