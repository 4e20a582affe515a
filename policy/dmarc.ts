/** Rule `dmarc-published`: every Domain has a DMARC record (p=quarantine or reject) for its name and each domain alias. */
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { DnsRecord } from "../sdk/src/models/domain.ts";
import { known, mailplaneType } from "./resources.ts";

/** DMARC policies (RFC 7489 §6.3 `p=`) the rule accepts: `none` only monitors, so spoofs of the domain get through. */
const ENFORCING = new Set(["quarantine", "reject"]);

/**
 * What is wrong with the DMARC records of one domain: each of its names (the domain and its domain
 * aliases) needs a TXT record at `_dmarc.<name>` starting `v=DMARC1` whose `p=` is quarantine or
 * reject. Empty when they comply.
 * @example dmarcFindings("example.com", [], []) // ["example.com has no DMARC record (_dmarc.example.com)"]
 */
export function dmarcFindings(
  name: string,
  aliases: readonly string[],
  records: readonly DnsRecord[],
): string[] {
  const findings: string[] = [];
  for (const host of [name, ...aliases]) {
    const owner = `_dmarc.${host}`;
    // RFC 7489 §6.4: the record is a TXT record whose first tag is v=DMARC1.
    const record = records.find(
      (r) => r.type === "TXT" && r.name === owner && /^v=DMARC1\s*(;|$)/.test(r.value),
    );
    if (record === undefined) {
      findings.push(`${host} has no DMARC record (${owner})`);
      continue;
    }
    const policy = /(?:^|;)\s*p\s*=\s*([a-z]+)/i.exec(record.value)?.[1]?.toLowerCase();
    if (policy === undefined || !ENFORCING.has(policy)) {
      findings.push(
        `${host}'s DMARC record has p=${policy ?? "(missing)"}; the baseline asks for quarantine or reject`,
      );
    }
  }
  return findings;
}

/** One Domain of the stack: its name, domain aliases and DNS records, or undefined while they are unknown. */
function domainRecords(
  resource: PolicyResource,
): { name: string; aliases: string[]; records: DnsRecord[] } | undefined {
  return known(() => {
    const props = resource.props;
    if (typeof props["name"] !== "string" || !Array.isArray(props["dnsRecords"])) return undefined;
    const aliases = Array.isArray(props["aliases"]) ? (props["aliases"] as string[]) : [];
    return { name: props["name"], aliases: [...aliases], records: [...(props["dnsRecords"] as DnsRecord[])] };
  });
}

function validateDmarc(args: StackValidationArgs, reportViolation: ReportViolation): void {
  for (const resource of args.resources) {
    if (resource.type !== mailplaneType("Domain")) continue;
    // A domain created by this update has no records before the platform computes them: the rule
    // checks it at `pulumi up` (policies run again on the result) and on every later preview.
    const domain = domainRecords(resource);
    if (domain === undefined) continue;
    for (const finding of dmarcFindings(domain.name, domain.aliases, domain.records)) {
      reportViolation(`Domain ${domain.name}: ${finding}.`, resource.urn);
    }
  }
}

/**
 * The rule: the Domain model exposes DMARC as the `_dmarc` TXT record among its `dnsRecords`
 * output (what the domain's owner publishes); each name of each Domain must have one that enforces.
 * @example new PolicyPack("mailplane-policy", { policies: [dmarcPublished] })
 */
export const dmarcPublished: StackValidationPolicy = {
  name: "dmarc-published",
  description:
    "Every Domain has a DMARC record (p=quarantine or p=reject) for its name and each domain alias among its DNS records.",
  validateStack: validateDmarc,
};
