/** The domain report as a PDF (pdf-lib): title, period, totals, a per-day bar chart drawn as rectangles, and the tables. */
import { PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from "pdf-lib";
import type { DomainReportData } from "./domain-report.ts";
import { REPORT_WORDS, shownDate, TOTALS } from "./language.ts";
import { oneLine } from "./text.ts";

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;

/**
 * Text the standard PDF fonts can show: they encode WinAnsi only, and a subject in another script
 * would make drawing fail. Printable Latin-1 stays; anything else becomes `?`.
 * @example pdfSafe("Grüße 你好") // "Grüße ??"
 */
export function pdfSafe(text: string): string {
  return oneLine(text).replace(/[^\u0020-\u007e\u00a0-\u00ff]/g, "?");
}

/**
 * Renders the report in its language as a PDF: A4 pages, Helvetica, tables continued on new pages.
 * @example const pdf = await renderReportPdf(data); // Buffer starting with %PDF-
 */
export async function renderReportPdf(data: DomainReportData): Promise<Buffer> {
  const w = REPORT_WORDS[data.language];
  const doc = await PDFDocument.create();
  doc.setTitle(w.reportTitle(data.domain));
  doc.setProducer("mailplane");
  // Fixed dates: the same data gives the same bytes.
  doc.setCreationDate(new Date(data.to));
  doc.setModificationDate(new Date(data.to));
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  let page: PDFPage = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  const line = (text: string, size = 10, f: PDFFont = font, x = MARGIN) => {
    if (y < MARGIN + size) {
      page = doc.addPage(A4);
      y = A4[1] - MARGIN;
    }
    page.drawText(pdfSafe(text), { x, y, size, font: f });
    y -= size + 4;
  };
  const when = (iso: string) => shownDate(iso, data.timezone, data.language);

  line(w.reportTitle(data.domain), 18, bold);
  line(w.period(when(data.from), when(data.to), data.timezone));
  y -= 8;
  line(w.totals, 13, bold);
  const s = data.statistics;
  for (const k of TOTALS) {
    page.drawText(pdfSafe(w.totalLabels[k]), { x: MARGIN, y, size: 10, font });
    page.drawText(String(s[k]), { x: MARGIN + 120, y, size: 10, font: bold });
    y -= 14;
  }
  y -= 8;
  line(w.perDayPdf, 13, bold);
  const chartHeight = 120;
  const chartWidth = A4[0] - 2 * MARGIN;
  const max = Math.max(1, ...s.days.map((d) => d.total));
  const slot = s.days.length > 0 ? chartWidth / s.days.length : chartWidth;
  const bar = Math.max(2, slot * 0.7);
  const base = y - chartHeight;
  page.drawLine({ start: { x: MARGIN, y: base }, end: { x: MARGIN + chartWidth, y: base }, thickness: 0.5 });
  s.days.forEach((d, i) => {
    const x = MARGIN + i * slot + (slot - bar) / 2;
    page.drawRectangle({
      x,
      y: base,
      width: bar,
      height: (d.total / max) * chartHeight,
      color: rgb(0.56, 0.72, 0.87),
    });
    page.drawRectangle({
      x,
      y: base,
      width: bar,
      height: (d.spam / max) * chartHeight,
      color: rgb(0.75, 0.22, 0.17),
    });
    if (s.days.length <= 14) page.drawText(d.date.slice(5), { x, y: base - 10, size: 7, font });
  });
  y = base - 28;

  const table = (title: string, rows: { at: string; sender: string; subject: string; score: number }[]) => {
    line(`${title} (${rows.length})`, 13, bold);
    for (const r of rows) {
      line(`${when(r.at)}  ${r.score.toFixed(2)}  ${r.sender.slice(0, 60)}`, 9);
      line(`    ${r.subject.slice(0, 100)}`, 9);
    }
    y -= 8;
  };
  table(
    w.quarantined,
    data.quarantine.map((e) => ({ at: e.receivedAt, sender: e.sender, subject: e.subject, score: e.score })),
  );
  if (data.refusedSpam) table(w.refusedSpam, data.refusedSpam);
  return Buffer.from(await doc.save());
}
