/** `mailplane verify` output: the expected-vs-actual table for people and one JSON document for machines. */
import type { Probe, SkippedProbe } from "./probes.ts";
import type { ProbeOutcome } from "./run.ts";

/** Where a run went, for both outputs. */
export interface RunContext {
  runId: string;
  endpoint: string;
  account: string | null;
  smtp: string;
}

/** Counts of a run. */
export interface Summary {
  probes: number;
  matched: number;
  mismatched: number;
  errors: number;
}

/** Counts the outcomes. @example summarise(outcomes).mismatched */
export function summarise(outcomes: readonly ProbeOutcome[]): Summary {
  return {
    probes: outcomes.length,
    matched: outcomes.filter((o) => o.status === "match").length,
    mismatched: outcomes.filter((o) => o.status === "mismatch").length,
    errors: outcomes.filter((o) => o.status === "error").length,
  };
}

const MAX_CELL = 72;
const cut = (s: string) => (s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 3)}...` : s);

/** Left-aligned columns, two spaces apart, indented like the demo's table. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()}`;
  return [line(header), ...rows.map(line)].join("\n");
}

function skippedLines(skipped: readonly SkippedProbe[]): string[] {
  if (skipped.length === 0) return [];
  return [
    "",
    `  not probed (${skipped.length}):`,
    ...skipped.map((s) => `    ${s.domain}: ${s.checks} — ${s.reason}`),
  ];
}

/** The dry run's listing: each probe, what it sends and what it expects. */
export function renderPlan(
  probes: readonly Probe[],
  skipped: readonly SkippedProbe[],
  ctx: RunContext,
): string {
  const rows = probes.map((p) => [
    p.id,
    p.checks,
    p.from,
    p.to,
    p.send === "message" ? "message" : "envelope",
    cut(p.expect.summary),
  ]);
  return [
    `mailplane verify (dry run ${ctx.runId}): ${probes.length} probe${probes.length === 1 ? "" : "s"} for ${ctx.smtp}, nothing sent`,
    "",
    table(["probe", "checks", "from", "to", "sends", "expected"], rows),
    ...skippedLines(skipped),
    "",
  ].join("\n");
}

const MARK = { match: "✓", mismatch: "✗", error: "!" } as const;

/** The table of a run: expected against actual per probe, then notes, what was not probed and the verdict. */
export function renderTable(
  outcomes: readonly ProbeOutcome[],
  skipped: readonly SkippedProbe[],
  ctx: RunContext,
): string {
  const rows = outcomes.map((o) => [
    o.probe.id,
    o.probe.checks,
    o.probe.to,
    cut(o.probe.expect.summary),
    `${MARK[o.status]} ${cut(o.actual)}`,
  ]);
  const notes = outcomes.flatMap((o) => o.notes.map((n) => `    ${o.probe.id}: ${n}`));
  const s = summarise(outcomes);
  const named = (status: ProbeOutcome["status"]) =>
    outcomes
      .filter((o) => o.status === status)
      .map((o) => `${o.probe.id} (${o.probe.checks})`)
      .join(", ");
  const verdict = [
    `${s.matched}/${s.probes} probes as declared`,
    ...(s.mismatched > 0 ? [`not as declared: ${named("mismatch")}`] : []),
    ...(s.errors > 0 ? [`no answer: ${named("error")}`] : []),
  ].join("; ");
  return [
    `mailplane verify ${ctx.runId}: ${ctx.account ?? "(no account)"} at ${ctx.endpoint}, mail to ${ctx.smtp}`,
    "",
    table(["probe", "checks", "to", "expected", "actual"], rows),
    ...(notes.length > 0 ? ["", "  notes:", ...notes] : []),
    ...skippedLines(skipped),
    "",
    `  ${verdict}`,
    "",
  ].join("\n");
}

/** The machine-readable report (`--json`); `outcomes` is null for a dry run. */
export function renderJson(
  probes: readonly Probe[],
  outcomes: readonly ProbeOutcome[] | null,
  skipped: readonly SkippedProbe[],
  ctx: RunContext,
): string {
  const byId = new Map((outcomes ?? []).map((o) => [o.probe.id, o]));
  const document = {
    ...ctx,
    dryRun: outcomes === null,
    probes: probes.map((p) => {
      const o = byId.get(p.id);
      return {
        id: p.id,
        token: p.token,
        kind: p.kind,
        domain: p.domain,
        checks: p.checks,
        from: p.from,
        to: p.to,
        send: p.send,
        expected: p.expect,
        ...(o
          ? {
              status: o.status,
              actual: o.actual,
              smtp: o.smtp,
              ...(o.log === undefined ? {} : { log: o.log }),
              ...(o.quarantine === undefined ? {} : { quarantine: o.quarantine }),
              notes: o.notes,
            }
          : {}),
      };
    }),
    skipped,
    ...(outcomes ? { summary: summarise(outcomes) } : {}),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
