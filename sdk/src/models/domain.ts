/** The Domain kind: a mail domain, its domain aliases and settings, and the DNS records to publish. */
import { z } from "zod";
import {
  address,
  domainName,
  isLocalPart,
  objectMeta,
  sortedUnique,
  splitAddress,
  stringList,
  timestamp,
} from "./common.ts";
import { patchOf } from "./patch.ts";

/** True for an IANA time zone name that this runtime knows (`Europe/Amsterdam`, `UTC`). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/**
 * A local recipient: a local part (`alice`) or an address (`alice@example.com`). Addresses at the
 * domain itself are reduced to their local part by {@link DomainSpec}, so both spellings are one entry.
 */
const localRecipient = z
  .string()
  .overwrite((v) => v.trim().toLowerCase())
  .describe("A local part (`alice`) or an address at this domain (`alice@example.com`).");

/** An address at `domain` becomes its local part, so `alice` and `alice@example.com` are one entry. */
function localPartAt(entry: string, domain: string): string {
  const parts = splitAddress(entry);
  return parts && parts.domain === domain ? parts.local : entry;
}

/** Characters that may never be rejected: they are part of every address or of the SMTP syntax. */
const UNREJECTABLE = /[a-z0-9@\s]/i;

/** The fields of a domain, without the cross-field rules (see {@link DomainSpec}). */
export const DomainFields = z.strictObject({
  name: domainName(
    "The domain name (key: changing it replaces the domain). IDN names are stored as punycode.",
  ),
  aliases: stringList(
    domainName("A domain alias."),
    "Domain aliases: other domain names whose mail is rewritten at SMTP level to this domain " +
      "(`user1@alias.example` → `user1@example.com`); the local part must exist here.",
  ).default(() => []),
  primaryContact: address("Primary contact address for the domain.")
    .nullable()
    .default(null)
    .describe("Primary contact address for the domain; null for none."),
  adminContact: address("Administrator's contact address.")
    .nullable()
    .default(null)
    .describe("Administrator's contact address; null for none."),
  notificationFrom: address("From: address of the bounces (DSNs) sent for the domain.")
    .nullable()
    .default(null)
    .describe("From: address of the bounces (DSNs) sent for the domain; null uses `postmaster@<name>`."),
  timezone: z
    .string()
    .refine(isTimeZone, { message: "must be an IANA time zone name such as Europe/Amsterdam or UTC" })
    .default("UTC")
    .describe("IANA time zone whose midnights split the domain's statistics into days. Default `UTC`."),
  logRetentionDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(28)
    .describe("Days to keep log messages (1–3650). Default 28."),
  maxRetryDays: z
    .number()
    .int()
    .min(1)
    .max(30)
    .default(4)
    .describe("Days to retry a temporarily failing delivery before bouncing it (1–30). Default 4."),
  maxBouncesPerHour: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(100)
    .describe("Most bounces the domain sends per hour; 0 sends none (0–100000). Default 100."),
  rejectedLocalPartChars: z
    .string()
    .max(32)
    .overwrite((v) => [...new Set(v)].sort().join(""))
    .refine((v) => !UNREJECTABLE.test(v), {
      message: "must not contain letters, digits, @ or whitespace (every address needs them)",
    })
    .default("")
    .describe(
      "Characters that make a recipient's local part invalid (e.g. `%!/|`); stored sorted, once each. Default none.",
    ),
  logInvalidRecipients: z
    .boolean()
    .default(false)
    .describe("Log connections for recipients that do not exist. Default false."),
  catchAll: address("Catch-all destination.")
    .nullable()
    .default(null)
    .describe("Where mail for unknown local parts goes; null rejects it (550 5.1.1). Default null."),
  localRecipientsOnly: z
    .boolean()
    .default(false)
    .describe(
      "Accept mail only for `localRecipients` (plus users and aliases); others are rejected with 550. Default false.",
    ),
  localRecipients: stringList(
    localRecipient,
    "Recipients accepted when `localRecipientsOnly` is on: local parts; addresses at this domain are stored as local parts.",
  ).default(() => []),
});

/**
 * A domain as declared: the name is the key; domain aliases, contacts, log and retry settings,
 * catch-all and local-recipients-only.
 * @example DomainSpec.parse({ name: "Example.COM", aliases: ["example.org"] })
 */
export const DomainSpec = DomainFields.superRefine((spec, ctx) => {
  spec.aliases.forEach((alias, i) => {
    if (alias === spec.name) {
      ctx.addIssue({
        code: "custom",
        path: ["aliases", i],
        message: "a domain cannot be an alias of itself",
      });
    }
  });
  spec.localRecipients.forEach((entry, i) => {
    if (!isLocalPart(localPartAt(entry, spec.name))) {
      ctx.addIssue({
        code: "custom",
        path: ["localRecipients", i],
        message: `must be a local part such as alice or an address at ${spec.name}`,
      });
    }
  });
  if (spec.catchAll !== null && splitAddress(spec.catchAll)?.domain === spec.name) {
    const local = splitAddress(spec.catchAll)!.local;
    const locals = spec.localRecipients.map((entry) => localPartAt(entry, spec.name));
    if (spec.localRecipientsOnly && !locals.includes(local)) {
      ctx.addIssue({
        code: "custom",
        path: ["catchAll"],
        message: "with localRecipientsOnly the catch-all's local part must be in localRecipients",
      });
    }
  }
})
  // After the rules (their paths use the order written): sets sorted, local recipients as local parts.
  .overwrite((spec) => ({
    ...spec,
    aliases: sortedUnique(spec.aliases),
    localRecipients: sortedUnique(spec.localRecipients.map((entry) => localPartAt(entry, spec.name))),
  }))
  .meta({ id: "DomainSpec", title: "DomainSpec", description: "A mail domain as declared." });

/** A DNS record the domain's owner publishes so mail reaches and is trusted from the platform. */
export const DnsRecord = z
  .object({
    type: z.enum(["MX", "TXT"]).describe("Record type."),
    name: z.string().describe("Owner name, fully qualified without the trailing dot."),
    value: z.string().describe("Record data (for MX: the exchange host; for TXT: the text)."),
    priority: z.number().int().optional().describe("MX preference; lower is tried first."),
    purpose: z
      .enum(["mx", "spf", "dkim", "dmarc", "verification"])
      .describe("Which mechanism the record serves (`verification`: proves the account owns the name)."),
  })
  .meta({ id: "DnsRecord", title: "DnsRecord", description: "A DNS record to publish." });

/** How a name's ownership was proven: its verification TXT record found in DNS, or a platform admin's word. */
export const VERIFICATION_METHODS = ["dns", "admin"] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

/**
 * What a DNS check of a name found: `verified` (this account's record is published), `missing` (no
 * TXT record at the verification name), `mismatch` (TXT records there, none with this account's
 * token) or `error` (the lookup failed: timeout, SERVFAIL).
 */
export const VERIFICATION_CHECK_RESULTS = ["verified", "missing", "mismatch", "error"] as const;
export type VerificationCheckResult = (typeof VERIFICATION_CHECK_RESULTS)[number];

/** Whether the platform treats one name of a domain (its name or a domain alias) as the account's. */
export const DomainNameVerification = z
  .object({
    name: z.string().describe("The domain name or domain alias."),
    status: z
      .enum(["pending", "verified"])
      .describe(
        "`verified`: the platform delivers mail for the name locally; `pending`: it is treated as a domain the platform does not host.",
      ),
    method: z
      .enum(VERIFICATION_METHODS)
      .nullable()
      .describe(
        "How it was verified: `dns` (its verification record) or `admin` (a platform admin); null while pending.",
      ),
    verifiedAt: timestamp("When it was verified.")
      .nullable()
      .describe("When it was verified; null while pending."),
    lastCheck: z
      .object({
        at: timestamp("When the check ran."),
        result: z.enum(VERIFICATION_CHECK_RESULTS).describe("What the DNS check found."),
        detail: z.string().describe("The check's result in words: what was looked up and what was found."),
      })
      .nullable()
      .describe("The last DNS check of the name; null before the first."),
  })
  .meta({
    id: "DomainNameVerification",
    title: "DomainNameVerification",
    description: "The ownership verification of one name of a domain.",
  });

/** The domain as the API returns it: the normalised spec, metadata and the DNS records to publish. */
export const Domain = DomainFields.extend({
  ...objectMeta,
  dnsRecords: z
    .array(DnsRecord)
    .describe(
      "MX, SPF, DKIM, DMARC and ownership verification records to publish for this domain. DKIM: one TXT record per selector — always the one mail is signed with; after `dkim/rotate` also the pending one, after `dkim/activate` also the previous (retired) one.",
    ),
  verification: z
    .array(DomainNameVerification)
    .describe(
      "Ownership verification of the domain's name and each domain alias, in that order (server state, not declared). Mail for a name flows only once it is verified.",
    ),
})
  .strip()
  .meta({ id: "Domain", title: "Domain", description: "A mail domain, as stored." });

/** The body of `POST /v1/domains/{domain}/verify`. */
export const DomainVerifyRequest = z
  .strictObject({
    method: z
      .enum(VERIFICATION_METHODS)
      .default("dns")
      .describe(
        "`dns` (default): look up each pending name's verification TXT record now; `admin`: mark the names verified without DNS (platform admins only).",
      ),
    names: z
      .array(domainName("The domain's name or one of its domain aliases."))
      .min(1)
      .optional()
      .describe("Which of the domain's names; default all of them."),
  })
  .meta({
    id: "DomainVerifyRequest",
    title: "DomainVerifyRequest",
    description: "Check (or, as a platform admin, mark) the ownership of a domain's names.",
  });

/** The PATCH body for a domain: any field but `name`. */
export const DomainPatch = patchOf(DomainFields, ["name"]).meta({
  id: "DomainPatch",
  title: "DomainPatch",
  description: "Fields to change on a domain; each replaces the stored value.",
});

export type DomainSpecInput = z.input<typeof DomainSpec>;
export type DomainSpec = z.output<typeof DomainSpec>;
export type Domain = z.output<typeof Domain>;
export type DomainPatch = z.input<typeof DomainPatch>;
export type DnsRecord = z.output<typeof DnsRecord>;
export type DomainNameVerification = z.output<typeof DomainNameVerification>;
export type DomainVerifyRequest = z.input<typeof DomainVerifyRequest>;

/** A domain's ID is its (normalised) name. @example domainId({ name: "example.com" }) // "example.com" */
export function domainId(spec: Pick<DomainSpec, "name">): string {
  return spec.name;
}

/** What the platform knows when it computes a domain's DNS records. */
export interface DnsRecordOptions {
  /** The host that receives mail for the domain (the MX target), e.g. `mx.mailplane.test`. */
  mxHost: string;
  /** DKIM selector; default `mailplane`. */
  dkimSelector?: string;
  /** The DKIM public key, base64 DER (the `p=` tag). */
  dkimPublicKey: string;
  /**
   * Several DKIM keys (a rotation publishes the next before signing with it); replaces the two fields
   * above. `algorithm` default `rsa`; `ed25519` publishes `k=ed25519` (RFC 8463 §4.2).
   */
  dkimKeys?: { selector: string; publicKey: string; algorithm?: "rsa" | "ed25519" }[];
  /** The account's verification token for a name; with it, each name gets its verification TXT record. */
  verificationToken?: (name: string) => string;
}

/** The owner name of a domain name's verification record: `_mailplane-verify.<name>`. */
export function verificationRecordName(name: string): string {
  return `_mailplane-verify.${name}`;
}

/** The text of a verification record: `mailplane-verification=<token>`. */
export function verificationRecordValue(token: string): string {
  return `mailplane-verification=${token}`;
}

/**
 * The MX, SPF, DKIM, DMARC (and, given the tokens, ownership verification) records to publish for a
 * domain and each of its domain aliases.
 * @example dnsRecordsFor(spec, { mxHost: "mx.mailplane.test", dkimPublicKey: "MIIB…" })
 */
export function dnsRecordsFor(
  spec: Pick<DomainSpec, "name" | "aliases">,
  options: DnsRecordOptions,
): DnsRecord[] {
  const keys = options.dkimKeys ?? [
    { selector: options.dkimSelector ?? "mailplane", publicKey: options.dkimPublicKey },
  ];
  return [spec.name, ...spec.aliases].flatMap((name): DnsRecord[] => [
    { type: "MX", name, value: options.mxHost, priority: 10, purpose: "mx" },
    { type: "TXT", name, value: `v=spf1 a:${options.mxHost} -all`, purpose: "spf" },
    // RFC 6376 §3.6.2.1: one record per selector at <selector>._domainkey.<domain>.
    ...keys.map(
      (key): DnsRecord => ({
        type: "TXT",
        name: `${key.selector}._domainkey.${name}`,
        value: `v=DKIM1; k=${key.algorithm ?? "rsa"}; p=${key.publicKey}`,
        purpose: "dkim",
      }),
    ),
    {
      type: "TXT",
      name: `_dmarc.${name}`,
      // Aggregate reports (RFC 7489 §7.2) go to the domain's postmaster (RFC 5321 §4.5.1 requires one).
      value: `v=DMARC1; p=quarantine; rua=mailto:postmaster@${spec.name}`,
      purpose: "dmarc",
    },
    ...(options.verificationToken
      ? [
          {
            type: "TXT" as const,
            name: verificationRecordName(name),
            value: verificationRecordValue(options.verificationToken(name)),
            purpose: "verification" as const,
          },
        ]
      : []),
  ]);
}
