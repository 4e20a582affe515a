/** The simulation section of the plan summary: the fates that change, as Markdown. */
import type { SkippedStep } from "./planned.ts";
import type { Simulation } from "./simulate.ts";

/** What the section says about its own limits; also in docs/plan-review.md. */
export const SIMULATION_SCOPE =
  "Decided by the SMTP engine's own policy code (MAIL, RCPT and DATA-time checks: relay control, " +
  "sender and recipient lists, users, aliases, groups, catch-all, routes, blocked attachment extensions, " +
  "size limits) against the live tenancy and against the live tenancy with this plan applied. " +
  "Not simulated: content scoring (rspamd and the built-in rules), SPF, DMARC and virus scanning — " +
  "they judge a message's body and DNS, not the plan.";

/** Inputs of {@link renderSimulation}. */
export interface SimulationReport {
  /** The samples file as named on the command line. */
  samplesFile: string;
  simulation: Simulation;
  skipped: SkippedStep[];
  /** Domains of the plan that are not verified: the engine takes no mail for them yet. */
  unverified: string[];
  /** A sample goes to postmaster@ or abuse@ while the token could not read the account's contact. */
  contactUnknown?: boolean;
}

/** `|` and line breaks would break a table cell. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * Renders the section: a count, a table `sample | now | planned` of the changed fates, the steps
 * that could not be simulated, and the scope note.
 *
 * @example renderSimulation({ samplesFile: "samples.yaml", simulation, skipped: [], unverified: [] })
 */
export function renderSimulation(report: SimulationReport): string {
  const { simulation } = report;
  const n = simulation.changes.length;
  const lines = ["### Mail-flow simulation", ""];
  lines.push(
    n === 0
      ? `No sample changes fate (${simulation.total} sample recipient${simulation.total === 1 ? "" : "s"} of \`${report.samplesFile}\`).`
      : `**${n} of ${simulation.total}** sample recipient${simulation.total === 1 ? "" : "s"} of \`${report.samplesFile}\` change fate:`,
  );
  if (n > 0) {
    lines.push("", "| sample | now | planned |", "|---|---|---|");
    for (const c of simulation.changes) {
      lines.push(`| ${cell(c.label)} | ${cell(c.before.text)} | ${cell(c.after.text)} |`);
    }
  }
  if (report.unverified.length > 0) {
    lines.push(
      "",
      `Not verified, so no mail is taken for them yet: ${report.unverified.map((d) => `\`${d}\``).join(", ")}.`,
    );
  }
  if (report.contactUnknown) {
    lines.push(
      "",
      "The account's contact (where `postmaster@` and `abuse@` go unless declared) is readable by " +
        "platform-admin tokens only: those samples are simulated as if the account had none.",
    );
  }
  if (report.skipped.length > 0) {
    lines.push("", "Not simulated (the live object is used instead):");
    for (const s of report.skipped) lines.push(`- \`${s.urn.split("::").at(-1)}\`: ${s.reason}`);
  }
  lines.push("", `> ${SIMULATION_SCOPE}`);
  return `${lines.join("\n")}\n`;
}
