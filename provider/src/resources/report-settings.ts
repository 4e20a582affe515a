/** The ReportSettings resource: periodic domain reports and user quarantine digests of a domain or the account default (a singleton). */
import type * as pulumi from "@pulumi/pulumi";
import { reportSettingsKind } from "../../../sdk/src/models/kinds.ts";
import type {
  ReportSettings as ReportSettingsObject,
  ReportSettingsSpecInput,
} from "../../../sdk/src/models/report-settings.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link ReportSettings}; types and rules come from the model (`ReportSettingsSpec`). */
export interface ReportSettingsArgs extends CommonArgs {
  /** `account` for the account-wide default, or the domain the settings apply to (key). */
  scope: Arg<ReportSettingsSpecInput["scope"]>;
  /**
   * Send the periodic domain report (totals, a per-day chart, the quarantine) to domainReportRecipients.
   * Default false.
   */
  domainReport?: Arg<ReportSettingsSpecInput["domainReport"]>;
  /** Where the periodic domain report goes; required when domainReport is on (1–50 addresses). Default none. */
  domainReportRecipients?: Arg<ReportSettingsSpecInput["domainReportRecipients"]>;
  /**
   * How often reports and digests go out: `daily` (each day from midnight) or `weekly` (each week from Monday
   * midnight), in the domain's timezone. Default `weekly`.
   */
  frequency?: Arg<ReportSettingsSpecInput["frequency"]>;
  /** The language reports and digests are written in: `en` (English), `de` (German) or `fr` (French). Default `en`. */
  language?: Arg<ReportSettingsSpecInput["language"]>;
  /**
   * The domain report's format: `html` (inline) or `pdf` (attached, with a plain-text summary). Default
   * `html`.
   */
  format?: Arg<ReportSettingsSpecInput["format"]>;
  /** Add to the domain report a table of the messages refused as spam but not quarantined. Default true. */
  extraSpamTable?: Arg<ReportSettingsSpecInput["extraSpamTable"]>;
  /** Send the domain report even when nothing was quarantined in the period. Default false. */
  sendWhenEmpty?: Arg<ReportSettingsSpecInput["sendWhenEmpty"]>;
  /**
   * Send quarantine digests: each listed user (and, with userReportAutoActivate, each user of the domain)
   * with held mail gets a list of it, each message with a one-click release link. Default false.
   */
  userReport?: Arg<ReportSettingsSpecInput["userReport"]>;
  /** Users who get quarantine digests (at most 10000). Default none. */
  userReportRecipients?: Arg<ReportSettingsSpecInput["userReportRecipients"]>;
  /**
   * Send digests to every user of the domain with held mail, listed or not. Refused while the domain has a
   * catch-all (Domain.catchAll or a `*@` alias): mail to made-up addresses would make digests for them.
   * Default false.
   */
  userReportAutoActivate?: Arg<ReportSettingsSpecInput["userReportAutoActivate"]>;
}

/**
 * The periodic reports of a domain (or, with `scope: "account"`, the account-wide default): the
 * domain report (HTML or PDF, to `domainReportRecipients`, daily or weekly) and quarantine digests
 * to users, each held message with a signed one-click release link. `userReportAutoActivate` is
 * refused while the domain has a catch-all.
 *
 * A singleton per scope: creating it takes over the settings that exist (reporting what differs)
 * and deleting it resets them to the defaults (nothing is sent). Key: `scope`. The resource ID is
 * `<scope>/report-settings`.
 *
 * @example
 * ```ts
 * new mailplane.ReportSettings("reports", {
 *   scope: domain.name,
 *   frequency: "daily",
 *   userReport: true,
 *   userReportAutoActivate: true,
 * });
 * ```
 */
export class ReportSettings extends MailplaneResource {
  /** `account` for the account-wide default, or the domain the settings apply to (key). */
  declare readonly scope: pulumi.Output<ReportSettingsObject["scope"]>;
  /**
   * Send the periodic domain report (totals, a per-day chart, the quarantine) to domainReportRecipients.
   * Default false.
   */
  declare readonly domainReport: pulumi.Output<ReportSettingsObject["domainReport"]>;
  /** Where the periodic domain report goes; required when domainReport is on (1–50 addresses). Default none. */
  declare readonly domainReportRecipients: pulumi.Output<ReportSettingsObject["domainReportRecipients"]>;
  /**
   * How often reports and digests go out: `daily` (each day from midnight) or `weekly` (each week from Monday
   * midnight), in the domain's timezone. Default `weekly`.
   */
  declare readonly frequency: pulumi.Output<ReportSettingsObject["frequency"]>;
  /** The language reports and digests are written in: `en` (English), `de` (German) or `fr` (French). Default `en`. */
  declare readonly language: pulumi.Output<ReportSettingsObject["language"]>;
  /**
   * The domain report's format: `html` (inline) or `pdf` (attached, with a plain-text summary). Default
   * `html`.
   */
  declare readonly format: pulumi.Output<ReportSettingsObject["format"]>;
  /** Add to the domain report a table of the messages refused as spam but not quarantined. Default true. */
  declare readonly extraSpamTable: pulumi.Output<ReportSettingsObject["extraSpamTable"]>;
  /** Send the domain report even when nothing was quarantined in the period. Default false. */
  declare readonly sendWhenEmpty: pulumi.Output<ReportSettingsObject["sendWhenEmpty"]>;
  /**
   * Send quarantine digests: each listed user (and, with userReportAutoActivate, each user of the domain)
   * with held mail gets a list of it, each message with a one-click release link. Default false.
   */
  declare readonly userReport: pulumi.Output<ReportSettingsObject["userReport"]>;
  /** Users who get quarantine digests (at most 10000). Default none. */
  declare readonly userReportRecipients: pulumi.Output<ReportSettingsObject["userReportRecipients"]>;
  /**
   * Send digests to every user of the domain with held mail, listed or not. Refused while the domain has a
   * catch-all (Domain.catchAll or a `*@` alias): mail to made-up addresses would make digests for them.
   * Default false.
   */
  declare readonly userReportAutoActivate: pulumi.Output<ReportSettingsObject["userReportAutoActivate"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<ReportSettingsObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<ReportSettingsObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<ReportSettingsObject["updatedAt"]>;

  constructor(name: string, args: ReportSettingsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "ReportSettings",
      name,
      resourceProps(reportSettingsKind, args),
      resourceOptions(reportSettingsKind, opts),
    );
  }
}

/** What the runtime runs for a {@link ReportSettings}: check, diff, create, read, update, delete. */
export const reportSettingsProvider = defineProvider(reportSettingsKind, objectApi);
