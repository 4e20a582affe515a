/** The kinds catalogue: IDs and API paths per kind, key and secret fields. */
import { describe, expect, it } from "vitest";
import {
  accessRuleKind,
  aliasKind,
  domainKind,
  encodeSegment,
  fillPath,
  filterSettingsKind,
  kindByName,
  passwordPolicyKind,
  routeKind,
  senderListKind,
  tenancyKinds,
  userKind,
} from "../../../../sdk/src/models/kinds.ts";

describe("the kinds catalogue", () => {
  it("lists the ten tenancy kinds in dependency order", () => {
    expect(tenancyKinds.map((k) => k.name)).toEqual([
      "Domain",
      "Route",
      "Alias",
      "SenderList",
      "FilterSettings",
      "PasswordPolicy",
      "User",
      "Group",
      "AccessRule",
      "ReportSettings",
    ]);
  });

  it("gives IDs and paths for a normalised spec of each kind", () => {
    const cases = [
      [domainKind, { name: "example.com" }, "example.com", "/v1/domains/example.com"],
      [
        routeKind,
        { domain: "example.com", host: "mx1.example.net" },
        "example.com/routes/mx1.example.net:25",
        "/v1/domains/example.com/routes/mx1.example.net:25",
      ],
      [
        aliasKind,
        { address: "*@example.com", action: { type: "forward", to: ["a@example.com"] } },
        "*@example.com",
        "/v1/domains/example.com/aliases/*@example.com",
      ],
      [
        senderListKind,
        { domain: "example.com", kind: "block", target: "sender" },
        "example.com/sender-lists/block-sender",
        "/v1/domains/example.com/sender-lists/block-sender",
      ],
      [
        filterSettingsKind,
        { scope: "example.com" },
        "example.com/filter-settings",
        "/v1/domains/example.com/filter-settings",
      ],
      [filterSettingsKind, { scope: "account" }, "account/filter-settings", "/v1/filter-settings"],
      [passwordPolicyKind, { scope: "account" }, "account/password-policy", "/v1/password-policy"],
      [
        passwordPolicyKind,
        { scope: "example.com" },
        "example.com/password-policy",
        "/v1/domains/example.com/password-policy",
      ],
      [
        userKind,
        { address: "alice@example.com" },
        "alice@example.com",
        "/v1/domains/example.com/users/alice@example.com",
      ],
      [accessRuleKind, { scope: "Account", service: "api" }, "account/api", "/v1/access-rules/account/api"],
      [
        accessRuleKind,
        { scope: "Example.COM", service: "smtp-submission" },
        "example.com/smtp-submission",
        "/v1/access-rules/example.com/smtp-submission",
      ],
      [
        accessRuleKind,
        { scope: "Alice@Example.com", service: "api" },
        "alice@example.com/api",
        "/v1/access-rules/alice@example.com/api",
      ],
    ] as const;
    for (const [k, input, id, path] of cases) {
      const spec = k.spec.parse(input) as never;
      expect(k.id(spec), k.name).toBe(id);
      expect(k.path(spec), k.name).toBe(path);
    }
  });

  it("encodes only what a path segment cannot hold", () => {
    expect(encodeSegment("alice+tag@example.com")).toBe("alice+tag@example.com");
    expect(encodeSegment("[2001:db8::1]:25")).toBe("%5B2001:db8::1%5D:25");
    expect(encodeSegment("a/b c")).toBe("a%2Fb%20c");
    expect(() => fillPath("/v1/domains/:domain", {})).toThrow(/missing path parameter domain/);
  });

  it("names key fields that force replacement and the secret fields", () => {
    expect(kindByName("Route").keyFields).toEqual(["domain", "host", "port"]);
    expect(kindByName("SenderList").keyFields).toEqual(["domain", "kind", "target"]);
    expect(kindByName("User").secretFields).toEqual(["password"]);
    expect(tenancyKinds.filter((k) => k.singleton).map((k) => k.name)).toEqual([
      "FilterSettings",
      "PasswordPolicy",
      "ReportSettings",
    ]);
  });

  it("never exposes a secret field in the API object", () => {
    for (const k of tenancyKinds) {
      const fields = Object.keys((k.object as unknown as { shape: object }).shape);
      for (const secret of k.secretFields) expect(fields, k.name).not.toContain(secret);
    }
  });

  it("keeps key fields out of PATCH bodies", () => {
    for (const k of tenancyKinds) {
      const fields = Object.keys((k.patch as unknown as { shape: object }).shape);
      for (const key of k.keyFields) expect(fields, k.name).not.toContain(key);
    }
  });

  it("throws for an unknown kind", () => {
    expect(() => kindByName("Mailbox")).toThrow(/unknown kind Mailbox/);
  });
});
