/** Rule no-catch-all-with-user-reports: the seeds' "no periodic user report on a catch-all domain". */
import { describe, expect, it } from "vitest";
import { noCatchAllWithUserReports } from "../../../policy/catch-all.ts";
import { policyResource, validateStack, withUnknown } from "./support.ts";

const reports = (domain: string, flags: { enabled?: boolean; autoActivate?: boolean }) =>
  policyResource("ReportSettings", `reports-${domain}`, {
    scope: domain,
    userReport: flags.enabled ?? false,
    userReportAutoActivate: flags.autoActivate ?? false,
  });

describe("no-catch-all-with-user-reports", () => {
  it("refuses a Domain with catchAll whose user reports are on", async () => {
    const resources = [
      policyResource("Domain", "example.org", { name: "example.org", catchAll: "inbox@example.org" }),
      reports("example.org", { enabled: true }),
    ];
    expect(await validateStack(noCatchAllWithUserReports, resources)).toEqual([
      {
        message:
          "Domain example.org: a catch-all (catchAll inbox@example.org) and periodic user reports are declared together; a catch-all makes a report recipient of every made-up address, so turn one of them off.",
      },
    ]);
  });

  it("refuses an alias *@domain with user reports auto-activated for all recipients", async () => {
    const resources = [
      policyResource("Alias", "catch", {
        address: "*@example.org",
        action: { type: "forward", to: ["a@example.org"] },
      }),
      reports("example.org", { enabled: false, autoActivate: true }),
    ];
    const reported = await validateStack(noCatchAllWithUserReports, resources);
    expect(reported.map((r) => r.message)).toEqual([expect.stringContaining("(alias *@example.org)")]);
  });

  it("accepts a catch-all without user reports, user reports without a catch-all, and either on another domain", async () => {
    const resources = [
      policyResource("Domain", "a", { name: "a.org", catchAll: "inbox@a.org" }),
      reports("a.org", { enabled: false, autoActivate: false }),
      policyResource("Domain", "b", { name: "b.org", catchAll: null }),
      policyResource("Alias", "sales", { address: "sales@b.org" }),
      reports("b.org", { enabled: true }),
    ];
    expect(await validateStack(noCatchAllWithUserReports, resources)).toEqual([]);
  });

  it("skips a resource whose values are unknown in preview and still checks the others", async () => {
    const resources = [
      policyResource("Domain", "a", withUnknown({ name: "a.org", catchAll: null }, ["catchAll"])),
      policyResource("Domain", "b", { name: "b.org", catchAll: "inbox@b.org" }),
      reports("a.org", { enabled: true }),
      reports("b.org", { enabled: true }),
    ];
    const reported = await validateStack(noCatchAllWithUserReports, resources);
    expect(reported.map((r) => r.message)).toEqual([expect.stringMatching(/^Domain b\.org: /)]);
  });
});
