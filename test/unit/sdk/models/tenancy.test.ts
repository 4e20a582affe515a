/** The tenancy manifest: specs per kind, duplicate IDs and undeclared domains. */
import { describe, expect, it } from "vitest";
import { DomainTenancyDocument } from "../../../../sdk/src/models/domain-tenancy.ts";
import { TenancyManifest } from "../../../../sdk/src/models/tenancy.ts";
import { issues } from "./helpers.ts";

describe("TenancyManifest", () => {
  it("parses a small tenancy and normalises every spec", () => {
    const manifest = TenancyManifest.parse({
      domains: [{ name: "Example.com", aliases: ["example.org"] }],
      routes: [{ domain: "example.com", host: "MX1.example.net" }],
      aliases: [{ address: "info@example.com", action: { type: "forward", to: ["alice@example.com"] } }],
      senderLists: [{ domain: "example.com", kind: "block", target: "sender", entries: ["spam.example"] }],
      filterSettings: [{ scope: "example.com", quarantineDays: 14 }],
      passwordPolicies: [{ scope: "account" }],
      users: [{ address: "Alice@example.com", password: "Secret-1" }],
    });
    expect(manifest.apiVersion).toBe("mailplane/v1");
    expect(manifest.domains[0]!.name).toBe("example.com");
    expect(manifest.routes[0]!.host).toBe("mx1.example.net");
    expect(manifest.users[0]!.address).toBe("alice@example.com");
  });

  it("defaults every collection to empty", () => {
    expect(TenancyManifest.parse({}).users).toEqual([]);
  });

  it("reports duplicate IDs after normalisation", () => {
    expect(
      issues(TenancyManifest, {
        domains: [{ name: "example.com" }],
        users: [{ address: "alice@example.com" }, { address: "ALICE@example.com" }],
      }),
    ).toEqual(["users[1]: duplicate User alice@example.com (also at users[0])"]);
  });

  it("reports objects of undeclared domains and of domain aliases", () => {
    expect(
      issues(TenancyManifest, {
        domains: [{ name: "example.com", aliases: ["example.org"] }],
        routes: [{ domain: "example.net", host: "mx" }],
        users: [{ address: "bob@example.org" }],
      }),
    ).toEqual([
      "routes[0].domain: domain example.net is not declared in domains",
      "users[0].address: example.org is a domain alias of example.com; declare this for example.com",
    ]);
  });

  it("reports access rules of undeclared domains and users, and duplicate scope+service pairs; an account rule needs no domain", () => {
    expect(
      issues(TenancyManifest, {
        domains: [{ name: "example.com" }],
        accessRules: [
          { scope: "account", service: "api", deny: ["192.0.2.0/24"] },
          { scope: "example.net", service: "api" },
          { scope: "bob@example.org", service: "smtp-submission" },
          { scope: "Example.com", service: "api" },
          { scope: "example.com", service: "api" },
        ],
      }),
    ).toEqual([
      "accessRules[4]: duplicate AccessRule example.com/api (also at accessRules[3])",
      "accessRules[1].scope: domain example.net is not declared in domains",
      "accessRules[2].scope: domain example.org is not declared in domains",
    ]);
  });

  it("keeps access rules out of a domain's tenancy document", () => {
    expect(
      issues(DomainTenancyDocument, {
        domains: [{ name: "example.com" }],
        accessRules: [{ scope: "example.com", service: "api" }],
      }),
    ).toEqual(["accessRules[0]: access rules are not part of a domain's tenancy; manage them on their own"]);
  });

  it("reports a domain alias claimed by two domains, or a domain that is another's alias", () => {
    expect(
      issues(TenancyManifest, {
        domains: [
          { name: "example.com", aliases: ["example.org"] },
          { name: "example.net", aliases: ["example.biz", "EXAMPLE.org"] },
          { name: "example.org" },
        ],
      }),
    ).toEqual([
      "domains[1].aliases[1]: is already a domain alias of example.com",
      "domains[2].name: is already a domain alias of example.com",
    ]);
  });

  it("reports nested spec errors with the full path", () => {
    expect(
      issues(TenancyManifest, {
        domains: [{ name: "example.com" }],
        filterSettings: [{ scope: "example.com", tagThreshold: 0.95 }],
      }),
    ).toEqual(["filterSettings[0].tagThreshold: must be below quarantineThreshold (0.9)"]);
  });
});
