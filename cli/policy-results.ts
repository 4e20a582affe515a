/**
 * Policy pack results for plan-summary: what `pulumi preview --policy-pack` found, read from the
 * engine's policy events, as a Markdown section of the pull-request comment.
 */

/** One violation a policy pack reported. */
export interface PolicyViolation {
  /** The pack's name, e.g. `mailplane-policy`. */
  pack: string;
  /** The rule's name, e.g. `password-policy-baseline`. */
  policy: string;
  /** `mandatory` (fails the preview), `advisory` (a warning) or `remediate`. */
  level: string;
  /** The resource's URN; absent for a stack-level rule. */
  urn?: string;
  /** The rule's finding, without the rule's description. */
  message: string;
}

/** What the policy packs of one preview found. */
export interface PolicyResults {
  /** The packs that ran, with their versions. */
  packs: { name: string; version: string }[];
  violations: PolicyViolation[];
  /** Rules that ran and reported nothing, sorted. */
  passed: string[];
}

/** The engine's policy events (apitype.PolicyEvent and the analyze summaries), as far as they are read. */
export interface PolicyEventJson {
  policyEvent?: {
    resourceUrn?: string;
    message?: string;
    policyName?: string;
    policyPackName?: string;
    policyPackVersion?: string;
    enforcementLevel?: string;
  };
  policyAnalyzeSummaryEvent?: PolicySummaryJson;
  policyAnalyzeStackSummaryEvent?: PolicySummaryJson;
}

interface PolicySummaryJson {
  policyPackName?: string;
  policyPackVersion?: string;
  passed?: string[];
  failed?: string[];
}

/** The engine says `warning` where a policy pack says `advisory`. */
function levelOf(level: string | undefined): string {
  if (level === "warning") return "advisory";
  return level ?? "advisory";
}

/**
 * Collects the policy results from a preview's engine events; undefined when no policy pack ran.
 * @example collectPolicyResults(events).violations[0]?.policy // "password-policy-baseline"
 */
export function collectPolicyResults(events: readonly PolicyEventJson[]): PolicyResults | undefined {
  const packs = new Map<string, string>();
  const violations: PolicyViolation[] = [];
  const passed = new Set<string>();
  const failed = new Set<string>();
  for (const event of events) {
    const summary = event.policyAnalyzeSummaryEvent ?? event.policyAnalyzeStackSummaryEvent;
    if (summary?.policyPackName) {
      packs.set(summary.policyPackName, summary.policyPackVersion ?? "");
      for (const name of summary.passed ?? []) passed.add(name);
      for (const name of summary.failed ?? []) failed.add(name);
    }
    const violation = event.policyEvent;
    if (violation?.policyName) {
      packs.set(violation.policyPackName ?? "", violation.policyPackVersion ?? "");
      failed.add(violation.policyName);
      // The engine prefixes the rule's description as the first line; the finding follows.
      const lines = (violation.message ?? "").trim().split("\n");
      const finding = lines.length > 1 ? lines.slice(1).join(" ").trim() : (lines[0] ?? "");
      violations.push({
        pack: violation.policyPackName ?? "",
        policy: violation.policyName,
        level: levelOf(violation.enforcementLevel),
        ...(violation.resourceUrn ? { urn: violation.resourceUrn } : {}),
        message: finding,
      });
    }
  }
  if (packs.size === 0) return undefined;
  return {
    packs: [...packs].map(([name, version]) => ({ name, version })),
    violations,
    passed: [...passed].filter((name) => !failed.has(name)).sort(),
  };
}

/** `urn:…::pulumi-nodejs:dynamic/mailplane:FilterSettings::lax-filter` → FilterSettings `lax-filter`. */
function resourceLabel(urn: string | undefined): string {
  if (urn === undefined) return "(stack)";
  const [, , type = "", ...name] = urn.split("::");
  const kind = type.split("$").at(-1)?.split(":").at(-1) ?? type;
  return `${kind} \`${name.join("::")}\``;
}

const LEVEL_MARK: Record<string, string> = { mandatory: "🚫", advisory: "⚠️", remediate: "🔧" };

/**
 * The Markdown lines of the "Policies" section: a verdict line, a table of violations (mandatory
 * first) and the rules that passed.
 * @example policySection(results).join("\n") // "### Policies\n\n❌ **1 mandatory violation** …"
 */
export function policySection(results: PolicyResults): string[] {
  const packs = results.packs.map((p) => `\`${p.name}\`${p.version ? ` ${p.version}` : ""}`).join(", ");
  const mandatory = results.violations.filter((v) => v.level === "mandatory").length;
  const other = results.violations.length - mandatory;
  const lines = ["### Policies", ""];
  if (results.violations.length === 0) {
    lines.push(`✅ ${packs}: no violations.`);
  } else {
    const parts = [
      ...(mandatory > 0 ? [`**${mandatory} mandatory violation${mandatory === 1 ? "" : "s"}**`] : []),
      ...(other > 0 ? [`${other} advisory`] : []),
    ];
    lines.push(`${mandatory > 0 ? "❌" : "⚠️"} ${parts.join(", ")} — ${packs}`);
    const rows = [...results.violations].sort(
      (a, b) => Number(b.level === "mandatory") - Number(a.level === "mandatory"),
    );
    lines.push("", "| level | policy | resource | finding |", "|---|---|---|---|");
    for (const v of rows) {
      const mark = [LEVEL_MARK[v.level], v.level].filter(Boolean).join(" ");
      const finding = v.message.replaceAll("|", "\\|").replaceAll("\n", " ");
      lines.push(`| ${mark} | \`${v.policy}\` | ${resourceLabel(v.urn)} | ${finding} |`);
    }
  }
  if (results.passed.length > 0) {
    lines.push("", `Passed: ${results.passed.map((name) => `\`${name}\``).join(", ")}.`);
  }
  return lines;
}
