/** The domain report: a period's totals, a per-day bar chart, the quarantine and (optionally) the spam refused, as HTML or PDF. */
import type { ReportSettingsSpec } from "../../sdk/src/models/report-settings.ts";
import type { Notice } from "../smtp/delivery/notice.ts";
import type { DomainStatistics, LogEntry } from "../smtp/message-log/entry.ts";
import type { SmtpOperations } from "../smtp/operations.ts";
import type { Owner } from "../smtp/owners.ts";
import type { QuarantineEntry } from "../smtp/quarantine/store.ts";
import { REPORT_WORDS, type ReportLanguage, shownDate, TOTALS } from "./language.ts";
import { localDate, localMidnight } from "./periods.ts";
import { renderReportPdf } from "./report-pdf.ts";
import { escapeHtml, oneLine } from "./text.ts";

/** Rows of a table in a report at most (the rest are counted, not listed). */
export const MAX_REPORT_ROWS = 500;

/** The data of one domain report. */
export interface DomainReportData {
  domain: string;
  timezone: string;
  /** The period, [from, to), as instants. */
  from: string;
  to: string;
  statistics: DomainStatistics;
  /** Messages held in the period, newest first (at most {@link MAX_REPORT_ROWS}). */
  quarantine: QuarantineEntry[];
  /** Spam refused (5xx) rather than held, when the extra table is asked for; else null. */
  refusedSpam: LogEntry[] | null;
  /** The language it is written in (ReportSettings `language`). */
  language: ReportLanguage;
}

/**
 * Gathers a report's data over [from, to) from the engine: statistics (days split at the domain's
 * midnights), the messages held then, and the spam refused then.
 * @example await reportData(ops, owner, { from, to, timezone: "UTC", extraSpamTable: true, language: "fr" })
 */
export async function reportData(
  ops: SmtpOperations,
  owner: Owner,
  range: { from: string; to: string; timezone: string; extraSpamTable: boolean; language?: ReportLanguage },
): Promise<DomainReportData> {
  const statistics = await ops.statistics(owner, { from: range.from, to: range.to }, range.timezone);
  const quarantine = ops.listQuarantine({ owner, from: range.from, to: range.to }).slice(0, MAX_REPORT_ROWS);
  const refusedSpam = range.extraSpamTable
    ? (
        await ops.searchLog(owner, {
          from: range.from,
          to: range.to,
          classification: "spam",
          limit: MAX_REPORT_ROWS * 2,
        })
      )
        .filter((e) => e.action === "rejected")
        .slice(0, MAX_REPORT_ROWS)
    : null;
  return {
    domain: owner.domain,
    timezone: range.timezone,
    from: range.from,
    to: range.to,
    statistics,
    quarantine,
    refusedSpam,
    language: range.language ?? "en",
  };
}

/**
 * The per-day bar chart as inline SVG (messages per day, the spam part darker), with a text
 * alternative for screen readers in the report's language (default `en`).
 * @example barChartSvg(stats.days, "de")
 */
export function barChartSvg(days: DomainStatistics["days"], language: ReportLanguage = "en"): string {
  const w = REPORT_WORDS[language];
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...days.map((d) => d.total));
  const slot = days.length > 0 ? width / days.length : width;
  const bar = Math.max(2, slot * 0.7);
  const bars = days.map((d, i) => {
    const x = (i * slot + (slot - bar) / 2).toFixed(1);
    const h = (d.total / max) * (height - 20);
    const s = (d.spam / max) * (height - 20);
    return [
      `<rect x="${x}" y="${(height - h).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="#8fb8de"><title>${escapeHtml(w.dayLine(d.date, d.total, d.spam))}</title></rect>`,
      `<rect x="${x}" y="${(height - s).toFixed(1)}" width="${bar.toFixed(1)}" height="${s.toFixed(1)}" fill="#c0392b"/>`,
    ].join("");
  });
  const summary = days.map((d) => w.dayLine(d.date, d.total, d.spam)).join("; ") || w.noMail;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-label="${escapeHtml(`${w.perDay}: ${summary}`)}">${bars.join("")}</svg>`;
}

/**
 * The report as an HTML document in its language. Senders and subjects are the senders' text:
 * flattened to one line and escaped.
 * @example reportHtml(await reportData(ops, owner, range))
 */
export function reportHtml(data: DomainReportData): string {
  const s = data.statistics;
  const w = REPORT_WORDS[data.language];
  const when = (iso: string, timezone: string) => shownDate(iso, timezone, data.language);
  const rows = (entries: { at: string; sender: string; subject: string; score: number }[]) =>
    entries
      .map(
        (e) =>
          `<tr><td>${escapeHtml(when(e.at, data.timezone))}</td><td>${escapeHtml(oneLine(e.sender))}</td><td>${escapeHtml(oneLine(e.subject))}</td><td>${e.score.toFixed(2)}</td></tr>`,
      )
      .join("\n");
  const head = `<thead><tr><th>${w.date}</th><th>${w.from}</th><th>${w.subject}</th><th>${w.score}</th></tr></thead>`;
  return [
    "<!doctype html>",
    `<html lang="${w.tag}"><head><meta charset="utf-8"><title>${escapeHtml(w.reportTitle(data.domain))}</title></head><body>`,
    `<h1>${escapeHtml(w.reportTitle(data.domain))}</h1>`,
    `<p>${escapeHtml(w.period(when(data.from, data.timezone), when(data.to, data.timezone), data.timezone))}</p>`,
    `<h2>${w.totals}</h2>`,
    '<table border="1" cellpadding="4" cellspacing="0"><tbody>',
    ...TOTALS.map((k) => `<tr><th scope="row">${w.totalLabels[k]}</th><td>${s[k]}</td></tr>`),
    "</tbody></table>",
    `<h2>${w.perDay}</h2>`,
    barChartSvg(s.days, data.language),
    `<h2>${w.quarantined} (${data.quarantine.length})</h2>`,
    `<table border="1" cellpadding="4" cellspacing="0">${head}<tbody>`,
    rows(data.quarantine.map((e) => ({ ...e, at: e.receivedAt }))),
    "</tbody></table>",
    ...(data.refusedSpam
      ? [
          `<h2>${w.refusedSpam} (${data.refusedSpam.length})</h2>`,
          `<table border="1" cellpadding="4" cellspacing="0">${head}<tbody>`,
          rows(data.refusedSpam),
          "</tbody></table>",
        ]
      : []),
    "</body></html>",
  ].join("\n");
}

/** The report as plain text in its language (the notice's text part, and the PDF's summary). */
export function reportText(data: DomainReportData): string {
  const s = data.statistics;
  const w = REPORT_WORDS[data.language];
  const when = (iso: string) => shownDate(iso, data.timezone, data.language);
  const width = Math.max(...TOTALS.map((k) => w.totalLabels[k].length)) + 1;
  return [
    w.reportTitle(data.domain),
    w.period(when(data.from), when(data.to), data.timezone),
    "",
    ...TOTALS.map((k) => `${w.totalLabels[k].padEnd(width)} ${s[k]}`),
    "",
    ...s.days.map((d) => w.dayLine(d.date, d.total, d.spam)),
  ].join("\n");
}

/** The period before the one `now` is in, at the domain's midnights: yesterday, or last week (Monday to Monday). */
export function previousPeriod(
  now: number,
  timezone: string,
  frequency: "daily" | "weekly",
): { from: string; to: string } {
  const today = localDate(now, timezone);
  let end = today;
  if (frequency === "weekly") {
    const [y, m, d] = today.split("-").map(Number) as [number, number, number];
    const day = new Date(Date.UTC(y, m - 1, d));
    day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
    end = day.toISOString().slice(0, 10);
  }
  const [y, m, d] = end.split("-").map(Number) as [number, number, number];
  const start = new Date(Date.UTC(y, m - 1, d - (frequency === "weekly" ? 7 : 1))).toISOString().slice(0, 10);
  return {
    from: new Date(localMidnight(start, timezone)).toISOString(),
    to: new Date(localMidnight(end, timezone)).toISOString(),
  };
}

/**
 * The periodic domain report as a notice (no recipient yet): HTML inline, or a PDF attached with the
 * text as the body. Covers the period before the current one.
 * @example const { notice, quarantined } = await composeDomainReport({ operations, owner, timezone, settings, now: Date.now() })
 */
export async function composeDomainReport(input: {
  operations: SmtpOperations;
  owner: Owner;
  timezone: string;
  settings: ReportSettingsSpec;
  now: number;
}): Promise<{ notice: Notice; quarantined: number }> {
  const range = previousPeriod(input.now, input.timezone, input.settings.frequency);
  const data = await reportData(input.operations, input.owner, {
    ...range,
    timezone: input.timezone,
    extraSpamTable: input.settings.extraSpamTable,
    language: input.settings.language,
  });
  const subject = REPORT_WORDS[data.language].reportSubject(data.domain);
  const text = reportText(data);
  const notice: Notice =
    input.settings.format === "pdf"
      ? {
          domain: data.domain,
          to: "",
          subject,
          text,
          attachments: [
            {
              filename: `protection-report-${data.domain}.pdf`,
              content: await renderReportPdf(data),
              contentType: "application/pdf",
            },
          ],
        }
      : { domain: data.domain, to: "", subject, text, html: reportHtml(data) };
  return { notice, quarantined: data.statistics.quarantined };
}
