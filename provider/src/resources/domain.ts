/** The Domain resource: a mail domain, its domain aliases and settings, and the DNS records to publish. */
import * as pulumi from "@pulumi/pulumi";
import type { Domain as DomainObject, DomainSpecInput } from "../../../sdk/src/models/domain.ts";
import { domainKind } from "../../../sdk/src/models/kinds.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link Domain}; types and rules come from the model (`DomainSpec`). */
export interface DomainArgs extends CommonArgs {
  /** The domain name (key: changing it replaces the domain). IDN names are stored as punycode. */
  name: Arg<DomainSpecInput["name"]>;
  /**
   * Domain aliases: other domain names whose mail is rewritten at SMTP level to this domain
   * (`user1@alias.example` → `user1@example.com`); the local part must exist here.
   */
  aliases?: Arg<DomainSpecInput["aliases"]>;
  /** Primary contact address for the domain; null for none. */
  primaryContact?: Arg<DomainSpecInput["primaryContact"]>;
  /** Administrator's contact address; null for none. */
  adminContact?: Arg<DomainSpecInput["adminContact"]>;
  /** From: address of the bounces (DSNs) sent for the domain; null uses `postmaster@<name>`. */
  notificationFrom?: Arg<DomainSpecInput["notificationFrom"]>;
  /** IANA time zone whose midnights split the domain's statistics into days. Default `UTC`. */
  timezone?: Arg<DomainSpecInput["timezone"]>;
  /** Days to keep log messages (1–3650). Default 28. */
  logRetentionDays?: Arg<DomainSpecInput["logRetentionDays"]>;
  /** Days to retry a temporarily failing delivery before bouncing it (1–30). Default 4. */
  maxRetryDays?: Arg<DomainSpecInput["maxRetryDays"]>;
  /** Most bounces the domain sends per hour; 0 sends none (0–100000). Default 100. */
  maxBouncesPerHour?: Arg<DomainSpecInput["maxBouncesPerHour"]>;
  /**
   * Characters that make a recipient's local part invalid (e.g. `%!/|`); stored sorted, once each.
   * Default none.
   */
  rejectedLocalPartChars?: Arg<DomainSpecInput["rejectedLocalPartChars"]>;
  /** Log connections for recipients that do not exist. Default false. */
  logInvalidRecipients?: Arg<DomainSpecInput["logInvalidRecipients"]>;
  /** Where mail for unknown local parts goes; null rejects it (550 5.1.1). Default null. */
  catchAll?: Arg<DomainSpecInput["catchAll"]>;
  /**
   * Accept mail only for `localRecipients` (plus users and aliases); others are rejected with 550.
   * Default false.
   */
  localRecipientsOnly?: Arg<DomainSpecInput["localRecipientsOnly"]>;
  /**
   * Recipients accepted when `localRecipientsOnly` is on: local parts; addresses at this domain are
   * stored as local parts.
   */
  localRecipients?: Arg<DomainSpecInput["localRecipients"]>;
}

/**
 * A mail domain on the platform: its domain aliases (mail to `user@alias.example` is rewritten to
 * this domain), contacts, log and retry settings, catch-all and local-recipients-only. Outputs the
 * DNS records (MX, SPF, DKIM, DMARC, ownership verification) to publish for it and each alias, and
 * the verification status: mail flows for a name only once the platform verified it (`pulumi up`
 * warns with the record to publish while it is not).
 *
 * Key: `name` — changing it replaces the domain. The resource ID is the name (`example.com`).
 *
 * @example
 * ```ts
 * import * as mailplane from "mailplane";
 *
 * const domain = new mailplane.Domain("example", {
 *   name: "example.com",
 *   aliases: ["example.org"],
 *   timezone: "Europe/Amsterdam",
 * });
 * export const dns = domain.dnsRecords;
 * ```
 */
export class Domain extends MailplaneResource {
  /** The domain name (key: changing it replaces the domain). IDN names are stored as punycode. */
  declare readonly name: pulumi.Output<DomainObject["name"]>;
  /**
   * Domain aliases: other domain names whose mail is rewritten at SMTP level to this domain
   * (`user1@alias.example` → `user1@example.com`); the local part must exist here.
   */
  declare readonly aliases: pulumi.Output<DomainObject["aliases"]>;
  /** Primary contact address for the domain; null for none. */
  declare readonly primaryContact: pulumi.Output<DomainObject["primaryContact"]>;
  /** Administrator's contact address; null for none. */
  declare readonly adminContact: pulumi.Output<DomainObject["adminContact"]>;
  /** From: address of the bounces (DSNs) sent for the domain; null uses `postmaster@<name>`. */
  declare readonly notificationFrom: pulumi.Output<DomainObject["notificationFrom"]>;
  /** IANA time zone whose midnights split the domain's statistics into days. Default `UTC`. */
  declare readonly timezone: pulumi.Output<DomainObject["timezone"]>;
  /** Days to keep log messages (1–3650). Default 28. */
  declare readonly logRetentionDays: pulumi.Output<DomainObject["logRetentionDays"]>;
  /** Days to retry a temporarily failing delivery before bouncing it (1–30). Default 4. */
  declare readonly maxRetryDays: pulumi.Output<DomainObject["maxRetryDays"]>;
  /** Most bounces the domain sends per hour; 0 sends none (0–100000). Default 100. */
  declare readonly maxBouncesPerHour: pulumi.Output<DomainObject["maxBouncesPerHour"]>;
  /**
   * Characters that make a recipient's local part invalid (e.g. `%!/|`); stored sorted, once each.
   * Default none.
   */
  declare readonly rejectedLocalPartChars: pulumi.Output<DomainObject["rejectedLocalPartChars"]>;
  /** Log connections for recipients that do not exist. Default false. */
  declare readonly logInvalidRecipients: pulumi.Output<DomainObject["logInvalidRecipients"]>;
  /** Where mail for unknown local parts goes; null rejects it (550 5.1.1). Default null. */
  declare readonly catchAll: pulumi.Output<DomainObject["catchAll"]>;
  /**
   * Accept mail only for `localRecipients` (plus users and aliases); others are rejected with 550.
   * Default false.
   */
  declare readonly localRecipientsOnly: pulumi.Output<DomainObject["localRecipientsOnly"]>;
  /**
   * Recipients accepted when `localRecipientsOnly` is on: local parts; addresses at this domain are
   * stored as local parts.
   */
  declare readonly localRecipients: pulumi.Output<DomainObject["localRecipients"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<DomainObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<DomainObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<DomainObject["updatedAt"]>;
  /** MX, SPF, DKIM, DMARC and ownership verification records to publish for this domain. */
  declare readonly dnsRecords: pulumi.Output<DomainObject["dnsRecords"]>;
  /**
   * Ownership verification of the name and each domain alias (`status`: `pending` or `verified`,
   * and the last DNS check). Mail for a name flows only once it is verified; `pulumi refresh` reads
   * the current status.
   */
  declare readonly verification: pulumi.Output<DomainObject["verification"]>;

  constructor(name: string, args: DomainArgs, opts?: pulumi.CustomResourceOptions) {
    super("Domain", name, resourceProps(domainKind, args), resourceOptions(domainKind, opts));
    // Tell `pulumi up` what to publish while a name is unverified: until then it receives no mail.
    // Not in previews: they show what would change, and plan reviews quote their diagnostics.
    if (!pulumi.runtime.isDryRun()) {
      pulumi.all([this.verification, this.dnsRecords]).apply(([verification, records]) => {
        const message = pendingVerificationMessage(verification, records);
        if (message) void pulumi.log.warn(message, this);
      });
    }
  }
}

/**
 * The warning for a domain with unverified names: which TXT record to publish for each; undefined
 * when every name is verified (or the outputs are not known yet).
 *
 * @example pendingVerificationMessage(domain.verification, domain.dnsRecords) // "domain example.com: …"
 */
export function pendingVerificationMessage(
  verification: DomainObject["verification"] | undefined,
  records: DomainObject["dnsRecords"] | undefined,
): string | undefined {
  const pending = (verification ?? []).filter((v) => v.status !== "verified");
  if (pending.length === 0) return undefined;
  const lines = pending.map((v) => {
    const record = (records ?? []).find(
      (r) => r.purpose === "verification" && r.name === `_mailplane-verify.${v.name}`,
    );
    const publish = record ? `publish ${record.name} TXT "${record.value}"` : "see dnsRecords";
    const last = v.lastCheck ? ` (last check: ${v.lastCheck.detail})` : "";
    return `  ${v.name}: ${publish}${last}`;
  });
  return [
    `domain ${verification![0]!.name}: the platform does not deliver mail for unverified names (unless it runs with --trust-all-domains). To prove you own them:`,
    ...lines,
    "The platform re-checks pending names periodically (or POST /v1/domains/<name>/verify now); `pulumi refresh` shows the status.",
  ].join("\n");
}

/** What the runtime runs for a {@link Domain}: check, diff, create, read, update, delete. */
export const domainProvider = defineProvider(domainKind, objectApi, {
  // A domain's name and its aliases are unique platform-wide: a renamed domain that keeps an
  // alias must give the alias up (delete the old domain) before the new one can claim it.
  uniqueNames: (state) => [state["name"], ...((state["aliases"] as string[] | undefined) ?? [])] as string[],
});
