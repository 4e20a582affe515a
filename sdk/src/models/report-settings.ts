/** The ReportSettings kind: periodic protection reports of a domain and quarantine digests of its users (a singleton per scope). */
import { z } from "zod";
import { address, objectMeta, scope, stringSet } from "./common.ts";
import { patchOf } from "./patch.ts";

/** The languages reports and digests are written in: English, German, French. */
export const REPORT_LANGUAGES = ["en", "de", "fr"] as const;

/** The fields of the report settings. Key: scope. */
export const ReportSettingsFields = z.strictObject({
  scope: scope("`account` for the account-wide default, or the domain the settings apply to (key)."),
  domainReport: z
    .boolean()
    .default(false)
    .describe(
      "Send the periodic domain report (totals, a per-day chart, the quarantine) to domainReportRecipients. Default false.",
    ),
  domainReportRecipients: stringSet(
    address("An address the domain report goes to."),
    "Where the periodic domain report goes; required when domainReport is on (1–50 addresses). Default none.",
  )
    .max(50)
    .default(() => []),
  frequency: z
    .enum(["daily", "weekly"])
    .default("weekly")
    .describe(
      "How often reports and digests go out: `daily` (each day from midnight) or `weekly` (each week from Monday midnight), in the domain's timezone. Default `weekly`.",
    ),
  language: z
    .enum(REPORT_LANGUAGES)
    .default("en")
    .describe(
      "The language reports and digests are written in: `en` (English), `de` (German) or `fr` (French). Default `en`.",
    ),
  format: z
    .enum(["html", "pdf"])
    .default("html")
    .describe(
      "The domain report's format: `html` (inline) or `pdf` (attached, with a plain-text summary). Default `html`.",
    ),
  extraSpamTable: z
    .boolean()
    .default(true)
    .describe(
      "Add to the domain report a table of the messages refused as spam but not quarantined. Default true.",
    ),
  sendWhenEmpty: z
    .boolean()
    .default(false)
    .describe("Send the domain report even when nothing was quarantined in the period. Default false."),
  userReport: z
    .boolean()
    .default(false)
    .describe(
      "Send quarantine digests: each listed user (and, with userReportAutoActivate, each user of the domain) with held mail gets a list of it, each message with a one-click release link. Default false.",
    ),
  userReportRecipients: stringSet(
    address("A user who gets quarantine digests."),
    "Users who get quarantine digests (at most 10000). Default none.",
  )
    .max(10000)
    .default(() => []),
  userReportAutoActivate: z
    .boolean()
    .default(false)
    .describe(
      "Send digests to every user of the domain with held mail, listed or not. Refused while the domain has a catch-all (Domain.catchAll or a `*@` alias): mail to made-up addresses would make digests for them. Default false.",
    ),
});

/**
 * Report settings as declared. A singleton per scope: creating adopts the existing settings and
 * deleting resets them to these defaults (nothing is sent).
 * @example ReportSettingsSpec.parse({ scope: "example.com", userReport: true, userReportAutoActivate: true })
 */
export const ReportSettingsSpec = ReportSettingsFields.superRefine((spec, ctx) => {
  if (spec.domainReport && spec.domainReportRecipients.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["domainReportRecipients"],
      message: "must name at least one address when domainReport is on",
    });
  }
}).meta({
  id: "ReportSettingsSpec",
  title: "ReportSettingsSpec",
  description:
    "Periodic domain reports and user quarantine digests of a domain or the account default, as declared.",
});

/** Report settings as the API returns them. */
export const ReportSettings = ReportSettingsFields.extend(objectMeta).strip().meta({
  id: "ReportSettings",
  title: "ReportSettings",
  description:
    "Periodic domain reports and user quarantine digests of a domain or the account default, as stored.",
});

/** The PATCH body for report settings: any field but the scope. */
export const ReportSettingsPatch = patchOf(ReportSettingsFields, ["scope"]).meta({
  id: "ReportSettingsPatch",
  title: "ReportSettingsPatch",
  description: "Fields to change on report settings; each replaces the stored value.",
});

export type ReportSettingsSpecInput = z.input<typeof ReportSettingsSpec>;
export type ReportSettingsSpec = z.output<typeof ReportSettingsSpec>;
export type ReportSettings = z.output<typeof ReportSettings>;
export type ReportSettingsPatch = z.input<typeof ReportSettingsPatch>;

/**
 * The defaults for a scope (what `DELETE` resets to): nothing is sent.
 * @example defaultReportSettings("example.com").frequency // "weekly"
 */
export function defaultReportSettings(scopeName: string): ReportSettingsSpec {
  return ReportSettingsSpec.parse({ scope: scopeName });
}

/** @example reportSettingsId({ scope: "example.com" }) // "example.com/report-settings"; account: "account/report-settings" */
export function reportSettingsId(spec: Pick<ReportSettingsSpec, "scope">): string {
  return `${spec.scope}/report-settings`;
}
