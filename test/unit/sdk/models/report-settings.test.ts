/** ReportSettings: defaults, the domain report's recipients rule, and the closed set of languages and formats. */
import { describe, expect, it } from "vitest";
import { defaultReportSettings, ReportSettingsSpec } from "../../../../sdk/src/models/report-settings.ts";

describe("ReportSettingsSpec", () => {
  it("sends nothing by default, weekly, in English, as HTML", () => {
    expect(defaultReportSettings("example.com")).toMatchObject({
      domainReport: false,
      userReport: false,
      userReportAutoActivate: false,
      frequency: "weekly",
      language: "en",
      format: "html",
      extraSpamTable: true,
      sendWhenEmpty: false,
    });
  });

  it("refuses a domain report without recipients, naming domainReportRecipients", () => {
    const r = ReportSettingsSpec.safeParse({ scope: "example.com", domainReport: true });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["domainReportRecipients"]);
  });

  it("takes en, de and fr, and refuses an unknown language and format", () => {
    for (const language of ["en", "de", "fr"]) {
      expect(ReportSettingsSpec.parse({ scope: "example.com", language }).language).toBe(language);
    }
    expect(ReportSettingsSpec.safeParse({ scope: "example.com", language: "es" }).success).toBe(false);
    expect(ReportSettingsSpec.safeParse({ scope: "example.com", format: "docx" }).success).toBe(false);
  });

  it("normalises recipient lists to sorted unique lower-case addresses", () => {
    const r = ReportSettingsSpec.parse({
      scope: "Example.COM",
      userReportRecipients: ["Bob@Example.com", "ana@example.com", "bob@example.com"],
    });
    expect(r.scope).toBe("example.com");
    expect(r.userReportRecipients).toEqual(["ana@example.com", "bob@example.com"]);
  });
});
