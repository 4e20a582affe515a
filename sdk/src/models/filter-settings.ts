/** The FilterSettings kind: spam-filter settings of a domain or the account default (a singleton per scope). */
import { z } from "zod";
import { cidr, domainName, objectMeta, scope, singleLine, stringSet } from "./common.ts";
import { patchOf } from "./patch.ts";

/** The attachment extensions blocked by default (the SpamPanel manual's list). */
export const DEFAULT_BLOCKED_EXTENSIONS = [
  "bat",
  "btm",
  "cmd",
  "com",
  "cpl",
  "dll",
  "exe",
  "msi",
  "pif",
] as const;

/**
 * Normalises an extension as written by people: trims, lower-cases and drops leading dots
 * (`".EXE "` → `exe`). @example normaliseExtension(" .Exe") // "exe"
 */
export function normaliseExtension(value: string): string {
  return value.trim().toLowerCase().replace(/^\.+/, "");
}

const extension = z
  .string()
  .overwrite(normaliseExtension)
  .refine((v) => /^[a-z0-9]{1,10}$/.test(v), {
    message: "must be a file extension of 1–10 letters or digits, without the dot (e.g. exe)",
  })
  .describe("A file extension without the dot, e.g. `exe`.");

/** The fields of the filter settings. Key: scope. */
export const FilterSettingsFields = z.strictObject({
  scope: scope("`account` for the account-wide default, or the domain the settings apply to (key)."),
  quarantineEnabled: z
    .boolean()
    .default(true)
    .describe(
      "Keep spam in the quarantine (and answer 5xx, see quarantineResponse); when off spam is delivered with the unsure notation. Default true.",
    ),
  quarantineThreshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.9)
    .describe("Spam score (0–1) at or above which a message is quarantined. Default 0.90."),
  tagThreshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.1)
    .describe(
      "Spam score (0–1) at or above which a message is unsure and its subject is tagged; must be below quarantineThreshold. Default 0.10.",
    ),
  unsureSubjectNotation: singleLine(
    "Text prefixed to the subject of unsure messages; empty for none. Default `[SPAM?]`.",
    50,
  ).default("[SPAM?]"),
  quarantineResponse: z
    .enum(["reject", "accept"])
    .default("reject")
    .describe(
      "SMTP answer for a quarantined message: `reject` (5xx, the sender gets a bounce) or `accept` (2xx, not RFC-conformant). Default `reject`.",
    ),
  quarantineDays: z
    .number()
    .int()
    .min(1)
    .max(365)
    .default(28)
    .describe("Days a quarantined message is kept before it is purged (1–365). Default 28."),
  skipSpf: z.boolean().default(false).describe("Skip the SPF check for every sender. Default false."),
  spfExemptNetworks: stringSet(
    cidr("An IP address or CIDR block."),
    "Sender IPs or CIDR blocks whose SPF failures are ignored (forwarding servers); stored as `network/prefix`. Default none.",
  )
    .max(1000)
    .default(() => []),
  skipLineLengthCheck: z
    .boolean()
    .default(false)
    .describe("Skip the RFC 5322 §2.1.1 line-length check (998 characters). Default false."),
  blockedExtensions: stringSet(
    extension,
    "Attachment extensions that send a message to the quarantine. Default bat btm cmd com cpl dll exe msi pif.",
  )
    .max(500)
    .default(() => [...DEFAULT_BLOCKED_EXTENSIONS]),
  sizeLimitMb: z
    .number()
    .int()
    .min(0)
    .max(2048)
    .default(0)
    .describe("Largest message accepted, in MiB; 0 for no limit (0–2048). Default 0."),
  oversizedAction: z
    .enum(["reject", "quarantine"])
    .default("reject")
    .describe(
      "What happens to a message above sizeLimitMb: `reject` (552) or `quarantine`. Default `reject`.",
    ),
  dmarcPolicy: z
    .enum(["follow", "ignore"])
    .default("follow")
    .describe(
      "What a DMARC failure of inbound mail leads to: `follow` applies the From: domain's published policy (p=reject → 550 5.7.1, p=quarantine → quarantine); `ignore` only records it in Authentication-Results. Default `follow`.",
    ),
  trustedArcSealers: stringSet(
    domainName("The domain of an ARC sealer (the ARC-Seal's d=), e.g. lists.example.org."),
    "Domains whose ARC seals are trusted (RFC 8617 §7.2): a message failing DMARC is not given the From: domain's policy when its ARC chain validates and was last sealed by one of them, recording dmarc=pass for the same From: domain (mailing lists and forwarders that break DKIM). Authentication-Results notes it. Default none.",
  )
    .max(100)
    .default(() => []),
});

/**
 * Filter settings as declared. A singleton per scope: creating adopts the existing settings and
 * deleting resets them to these defaults.
 * @example FilterSettingsSpec.parse({ scope: "example.com", quarantineThreshold: 0.8 })
 */
export const FilterSettingsSpec = FilterSettingsFields.superRefine((spec, ctx) => {
  if (spec.tagThreshold >= spec.quarantineThreshold) {
    ctx.addIssue({
      code: "custom",
      path: ["tagThreshold"],
      message: `must be below quarantineThreshold (${spec.quarantineThreshold})`,
    });
  }
}).meta({
  id: "FilterSettingsSpec",
  title: "FilterSettingsSpec",
  description: "Spam-filter settings of a domain or the account default, as declared.",
});

/** Filter settings as the API returns them. */
export const FilterSettings = FilterSettingsFields.extend(objectMeta).strip().meta({
  id: "FilterSettings",
  title: "FilterSettings",
  description: "Spam-filter settings of a domain or the account default, as stored.",
});

/** The PATCH body for filter settings: any field but the scope. */
export const FilterSettingsPatch = patchOf(FilterSettingsFields, ["scope"]).meta({
  id: "FilterSettingsPatch",
  title: "FilterSettingsPatch",
  description: "Fields to change on filter settings; each replaces the stored value.",
});

export type FilterSettingsSpecInput = z.input<typeof FilterSettingsSpec>;
export type FilterSettingsSpec = z.output<typeof FilterSettingsSpec>;
export type FilterSettings = z.output<typeof FilterSettings>;
export type FilterSettingsPatch = z.input<typeof FilterSettingsPatch>;

/**
 * The defaults for a scope (what `DELETE` resets to).
 * @example defaultFilterSettings("example.com").quarantineDays // 28
 */
export function defaultFilterSettings(scopeName: string): FilterSettingsSpec {
  return FilterSettingsSpec.parse({ scope: scopeName });
}

/** @example filterSettingsId({ scope: "example.com" }) // "example.com/filter-settings"; account: "account/filter-settings" */
export function filterSettingsId(spec: Pick<FilterSettingsSpec, "scope">): string {
  return `${spec.scope}/filter-settings`;
}
