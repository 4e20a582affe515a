/**
 * Reads the streamed JSON of `pulumi preview --json` (with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true:
 * one engine event per line). Unlike the one-document form, it carries the policy packs' results;
 * the steps and diagnostics come out in the one-document form's shape, so plan-summary reads both.
 */

import type { PreviewJson } from "./plan-summary.ts";
import { collectPolicyResults, type PolicyEventJson } from "./policy-results.ts";

/** The engine events (apitype.EngineEvent) plan-summary reads. */
interface EngineEventJson extends PolicyEventJson {
  resourcePreEvent?: { metadata?: StepMetadataJson };
  diagnosticEvent?: { prefix?: string; message?: string; severity?: string; urn?: string };
  summaryEvent?: { resourceChanges?: Record<string, number> };
}

interface StepMetadataJson {
  op: string;
  urn: string;
  old?: { type?: string; inputs?: Record<string, unknown> } | null;
  new?: { type?: string; inputs?: Record<string, unknown> } | null;
  keys?: string[];
  diffs?: string[];
}

/**
 * True when the text is a stream of engine events (JSON lines) rather than one JSON document.
 * @example isEventStream('{"sequence":0,"policyLoadEvent":{}}\n{"sequence":1,"preludeEvent":{}}') // true
 */
export function isEventStream(text: string): boolean {
  const first = text.trimStart().split("\n", 1)[0] ?? "";
  try {
    const value = JSON.parse(first) as Record<string, unknown>;
    return typeof value === "object" && value !== null && "sequence" in value;
  } catch {
    return false;
  }
}

/**
 * Turns the event stream into the preview JSON plan-summary renders, with `policies` when a policy
 * pack ran. Throws with the line number on a line that is not JSON.
 * @example previewFromEvents(readFileSync("preview.jsonl", "utf8")).policies?.violations.length // 2
 */
export function previewFromEvents(text: string): PreviewJson {
  const events: EngineEventJson[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      events.push(JSON.parse(line) as EngineEventJson);
    } catch (err) {
      throw new Error(`line ${i + 1} is not JSON (${(err as Error).message})`);
    }
  });
  const preview: PreviewJson = { steps: [], diagnostics: [] };
  for (const event of events) {
    const step = event.resourcePreEvent?.metadata;
    if (step) {
      preview.steps!.push({
        op: step.op,
        urn: step.urn,
        ...(step.old ? { oldState: { type: step.old.type, inputs: step.old.inputs ?? {} } } : {}),
        ...(step.new ? { newState: { type: step.new.type, inputs: step.new.inputs ?? {} } } : {}),
        ...(step.keys?.length ? { replaceReasons: step.keys } : {}),
        ...(step.diffs?.length ? { diffReasons: step.diffs } : {}),
      });
    }
    const diag = event.diagnosticEvent;
    // Debug messages (the serialized provider among them) are not for a review.
    if (diag && diag.severity !== "debug") {
      preview.diagnostics!.push({
        message: `${diag.prefix ?? ""}${diag.message ?? ""}`,
        severity: diag.severity,
        ...(diag.urn ? { urn: diag.urn } : {}),
      });
    }
    if (event.summaryEvent?.resourceChanges) preview.changeSummary = event.summaryEvent.resourceChanges;
  }
  const policies = collectPolicyResults(events);
  if (policies) preview.policies = policies;
  return preview;
}
