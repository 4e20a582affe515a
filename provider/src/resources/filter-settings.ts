/** The FilterSettings resource: spam-filter settings of a domain or the account default (a singleton). */
import type * as pulumi from "@pulumi/pulumi";
import type {
  FilterSettings as FilterSettingsObject,
  FilterSettingsSpecInput,
} from "../../../sdk/src/models/filter-settings.ts";
import { filterSettingsKind } from "../../../sdk/src/models/kinds.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link FilterSettings}; types and rules come from the model (`FilterSettingsSpec`). */
export interface FilterSettingsArgs extends CommonArgs {
  /** `account` for the account-wide default, or the domain the settings apply to (key). */
  scope: Arg<FilterSettingsSpecInput["scope"]>;
  /**
   * Keep spam in the quarantine (and answer 5xx, see quarantineResponse); when off spam is delivered
   * with the unsure notation. Default true.
   */
  quarantineEnabled?: Arg<FilterSettingsSpecInput["quarantineEnabled"]>;
  /** Spam score (0–1) at or above which a message is quarantined. Default 0.90. */
  quarantineThreshold?: Arg<FilterSettingsSpecInput["quarantineThreshold"]>;
  /**
   * Spam score (0–1) at or above which a message is unsure and its subject is tagged; must be below
   * quarantineThreshold. Default 0.10.
   */
  tagThreshold?: Arg<FilterSettingsSpecInput["tagThreshold"]>;
  /** Text prefixed to the subject of unsure messages; empty for none. Default `[SPAM?]`. */
  unsureSubjectNotation?: Arg<FilterSettingsSpecInput["unsureSubjectNotation"]>;
  /**
   * SMTP answer for a quarantined message: `reject` (5xx, the sender gets a bounce) or `accept` (2xx,
   * not RFC-conformant). Default `reject`.
   */
  quarantineResponse?: Arg<FilterSettingsSpecInput["quarantineResponse"]>;
  /** Days a quarantined message is kept before it is purged (1–365). Default 28. */
  quarantineDays?: Arg<FilterSettingsSpecInput["quarantineDays"]>;
  /** Skip the SPF check for every sender. Default false. */
  skipSpf?: Arg<FilterSettingsSpecInput["skipSpf"]>;
  /**
   * Sender IPs or CIDR blocks whose SPF failures are ignored (forwarding servers); stored as
   * `network/prefix`. Default none.
   */
  spfExemptNetworks?: Arg<FilterSettingsSpecInput["spfExemptNetworks"]>;
  /** Skip the RFC 5322 §2.1.1 line-length check (998 characters). Default false. */
  skipLineLengthCheck?: Arg<FilterSettingsSpecInput["skipLineLengthCheck"]>;
  /**
   * Attachment extensions that send a message to the quarantine. Default bat btm cmd com cpl dll exe
   * msi pif.
   */
  blockedExtensions?: Arg<FilterSettingsSpecInput["blockedExtensions"]>;
  /** Largest message accepted, in MiB; 0 for no limit (0–2048). Default 0. */
  sizeLimitMb?: Arg<FilterSettingsSpecInput["sizeLimitMb"]>;
  /** What happens to a message above sizeLimitMb: `reject` (552) or `quarantine`. Default `reject`. */
  oversizedAction?: Arg<FilterSettingsSpecInput["oversizedAction"]>;
  /**
   * What a DMARC failure of inbound mail leads to: `follow` applies the From: domain's published
   * policy (p=reject → 550 5.7.1, p=quarantine → quarantine); `ignore` only records it in
   * Authentication-Results. Default `follow`.
   */
  dmarcPolicy?: Arg<FilterSettingsSpecInput["dmarcPolicy"]>;
  /**
   * Domains whose ARC seals are trusted (RFC 8617 §7.2): a message failing DMARC is not given the
   * From: domain's policy when its ARC chain validates and was last sealed by one of them, recording
   * dmarc=pass for the same From: domain (mailing lists and forwarders that break DKIM).
   * Authentication-Results notes it. Default none.
   */
  trustedArcSealers?: Arg<FilterSettingsSpecInput["trustedArcSealers"]>;
}

/**
 * The spam-filter settings of a domain (or, with `scope: "account"`, the account-wide default):
 * quarantine and tag thresholds, quarantine days and response, SPF handling, blocked attachment
 * extensions, the size limit and whether inbound DMARC policies are followed. `tagThreshold` must stay below `quarantineThreshold`.
 *
 * A singleton per scope: creating it takes over the settings that exist (reporting what differs)
 * and deleting it resets them to the defaults. Key: `scope`. The resource ID is
 * `<scope>/filter-settings`.
 *
 * @example
 * ```ts
 * new mailplane.FilterSettings("filter", {
 *   scope: domain.name,
 *   quarantineThreshold: 0.8,
 *   tagThreshold: 0.3,
 *   blockedExtensions: ["exe", "js", "vbs"],
 * });
 * ```
 */
export class FilterSettings extends MailplaneResource {
  /** `account` for the account-wide default, or the domain the settings apply to (key). */
  declare readonly scope: pulumi.Output<FilterSettingsObject["scope"]>;
  /**
   * Keep spam in the quarantine (and answer 5xx, see quarantineResponse); when off spam is delivered
   * with the unsure notation. Default true.
   */
  declare readonly quarantineEnabled: pulumi.Output<FilterSettingsObject["quarantineEnabled"]>;
  /** Spam score (0–1) at or above which a message is quarantined. Default 0.90. */
  declare readonly quarantineThreshold: pulumi.Output<FilterSettingsObject["quarantineThreshold"]>;
  /**
   * Spam score (0–1) at or above which a message is unsure and its subject is tagged; must be below
   * quarantineThreshold. Default 0.10.
   */
  declare readonly tagThreshold: pulumi.Output<FilterSettingsObject["tagThreshold"]>;
  /** Text prefixed to the subject of unsure messages; empty for none. Default `[SPAM?]`. */
  declare readonly unsureSubjectNotation: pulumi.Output<FilterSettingsObject["unsureSubjectNotation"]>;
  /**
   * SMTP answer for a quarantined message: `reject` (5xx, the sender gets a bounce) or `accept` (2xx,
   * not RFC-conformant). Default `reject`.
   */
  declare readonly quarantineResponse: pulumi.Output<FilterSettingsObject["quarantineResponse"]>;
  /** Days a quarantined message is kept before it is purged (1–365). Default 28. */
  declare readonly quarantineDays: pulumi.Output<FilterSettingsObject["quarantineDays"]>;
  /** Skip the SPF check for every sender. Default false. */
  declare readonly skipSpf: pulumi.Output<FilterSettingsObject["skipSpf"]>;
  /**
   * Sender IPs or CIDR blocks whose SPF failures are ignored (forwarding servers); stored as
   * `network/prefix`. Default none.
   */
  declare readonly spfExemptNetworks: pulumi.Output<FilterSettingsObject["spfExemptNetworks"]>;
  /** Skip the RFC 5322 §2.1.1 line-length check (998 characters). Default false. */
  declare readonly skipLineLengthCheck: pulumi.Output<FilterSettingsObject["skipLineLengthCheck"]>;
  /**
   * Attachment extensions that send a message to the quarantine. Default bat btm cmd com cpl dll exe
   * msi pif.
   */
  declare readonly blockedExtensions: pulumi.Output<FilterSettingsObject["blockedExtensions"]>;
  /** Largest message accepted, in MiB; 0 for no limit (0–2048). Default 0. */
  declare readonly sizeLimitMb: pulumi.Output<FilterSettingsObject["sizeLimitMb"]>;
  /** What happens to a message above sizeLimitMb: `reject` (552) or `quarantine`. Default `reject`. */
  declare readonly oversizedAction: pulumi.Output<FilterSettingsObject["oversizedAction"]>;
  /**
   * What a DMARC failure of inbound mail leads to: `follow` applies the From: domain's published
   * policy (p=reject → 550 5.7.1, p=quarantine → quarantine); `ignore` only records it in
   * Authentication-Results. Default `follow`.
   */
  declare readonly dmarcPolicy: pulumi.Output<FilterSettingsObject["dmarcPolicy"]>;
  /**
   * Domains whose ARC seals are trusted (RFC 8617 §7.2): a message failing DMARC is not given the
   * From: domain's policy when its ARC chain validates and was last sealed by one of them, recording
   * dmarc=pass for the same From: domain (mailing lists and forwarders that break DKIM).
   * Authentication-Results notes it. Default none.
   */
  declare readonly trustedArcSealers: pulumi.Output<FilterSettingsObject["trustedArcSealers"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<FilterSettingsObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<FilterSettingsObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<FilterSettingsObject["updatedAt"]>;

  constructor(name: string, args: FilterSettingsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "FilterSettings",
      name,
      resourceProps(filterSettingsKind, args),
      resourceOptions(filterSettingsKind, opts),
    );
  }
}

/** What the runtime runs for a {@link FilterSettings}: check, diff, create, read, update, delete. */
export const filterSettingsProvider = defineProvider(filterSettingsKind, objectApi);
