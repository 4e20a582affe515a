/** `mailplane verify` output on fixture outcomes: the verdict names each differing probe, the JSON counts them. */
import { describe, expect, it } from "vitest";
import { deriveProbes } from "../../../../cli/verify/probes.ts";
import { renderJson, renderTable } from "../../../../cli/verify/report.ts";
import type { ProbeOutcome } from "../../../../cli/verify/run.ts";
import { companyTenant, RUN } from "./fixtures.ts";

const { probes, skipped } = deriveProbes(companyTenant(), { runId: RUN });
const ctx = { runId: RUN, endpoint: "http://127.0.0.1:8080", account: "acme", smtp: "127.0.0.1:2525" };

/** Every probe as declared, except `p4` (answered otherwise) and `p5` (no answer). */
const outcomes: ProbeOutcome[] = probes.map((probe) => {
  const base = { probe, smtp: { stage: "rcpt" as const, reply: null, code: null }, notes: [] };
  if (probe.id === "p4") return { ...base, status: "mismatch", actual: "550 user unknown" };
  if (probe.id === "p5") return { ...base, status: "error", actual: "no answer: connect ECONNREFUSED" };
  return { ...base, status: "match", actual: probe.expect.summary };
});

describe("renderTable", () => {
  it("marks each row and names the probes that differ and those that got no answer", () => {
    const text = renderTable(outcomes, skipped, ctx);
    expect(text).toMatch(
      /\n {2}p4 +reject alias joe@acme\.example +joe@acme\.example +550 Joe no longer works here +✗ 550 user unknown\n/,
    );
    expect(text).toMatch(/\n {2}p5 +forward alias sales@acme\.example .*! no answer: connect ECONNREFUSED\n/);
    expect(text).toContain(
      "10/12 probes as declared; not as declared: p4 (reject alias joe@acme.example); no answer: p5 (forward alias sales@acme.example)",
    );
    expect(text).toContain(
      "lab.example: quarantine of lab.example — no enabled user to send the test spam to",
    );
  });
});

describe("renderJson", () => {
  it("counts matches, mismatches and errors, and keeps each probe's expectation beside its outcome", () => {
    const doc = JSON.parse(renderJson(probes, outcomes, skipped, ctx));
    expect(doc.summary).toEqual({ probes: 12, matched: 10, mismatched: 1, errors: 1 });
    expect(doc.dryRun).toBe(false);
    expect(doc.probes[3]).toMatchObject({
      id: "p4",
      token: "mpv-r1-p4",
      status: "mismatch",
      expected: { smtp: { verdict: "refuse", code: 550, text: "Joe no longer works here" } },
    });
  });

  it("a dry run has the probes and no outcomes", () => {
    const doc = JSON.parse(renderJson(probes, null, skipped, ctx));
    expect(doc.dryRun).toBe(true);
    expect(doc.summary).toBeUndefined();
    expect(doc.probes[0].status).toBeUndefined();
  });
});
