/** Digests and domain reports in each ReportSettings language: translated headings and labels in text, HTML and PDF, dates in the language's format. */
import { describe, expect, it } from "vitest";
import { composeDigest } from "../../../platform/reports/digest.ts";
import { type DomainReportData, reportHtml, reportText } from "../../../platform/reports/domain-report.ts";
import { REPORT_WORDS, shownDate, TOTALS } from "../../../platform/reports/language.ts";
import { renderReportPdf } from "../../../platform/reports/report-pdf.ts";
import type { DomainStatistics } from "../../../platform/smtp/message-log/entry.ts";
import type { QuarantineEntry } from "../../../platform/smtp/quarantine/store.ts";
import { REPORT_LANGUAGES } from "../../../sdk/src/models/report-settings.ts";
import { pdfText } from "../../support/pdf-text.ts";

const held: QuarantineEntry = {
  id: "q1",
  receivedAt: "2026-12-03T14:05:00Z",
  expiresAt: "2027-01-02T14:05:00Z",
  domain: "example.com",
  sender: "s@outside.example",
  recipients: ["ana@example.com"],
  subject: "Größe",
  size: 100,
  classification: "spam",
  reason: "score",
  score: 9.5,
};

const counts = {
  total: 12,
  clean: 7,
  unsure: 0,
  spam: 4,
  allowlisted: 0,
  blocked: 0,
  rejected: 3,
  viruses: 1,
  deferred: 0,
  quarantined: 1,
  spamReports: 0,
  hamReports: 0,
  bytes: 1000,
  spamRatio: 0.33,
};

const data = (language: DomainReportData["language"]): DomainReportData => ({
  domain: "example.com",
  timezone: "UTC",
  from: "2026-12-02T00:00:00Z",
  to: "2026-12-03T00:00:00Z",
  statistics: {
    ...counts,
    domain: "example.com",
    from: null,
    to: null,
    timezone: "UTC",
    days: [{ date: "2026-12-02", ...counts }],
  } as DomainStatistics,
  quarantine: [held],
  refusedSpam: [],
  language,
});

const digest = (language: "en" | "de" | "fr") =>
  composeDigest({
    domain: "example.com",
    recipient: "ana@example.com",
    entries: [held],
    link: () => "https://mail.example.com/release/r1.x.y",
    timezone: "UTC",
    frequency: "weekly",
    language,
  });

describe("report languages", () => {
  it("has every string of the English catalogue in German and French, and none left in English", () => {
    expect(Object.keys(REPORT_WORDS).sort()).toEqual([...REPORT_LANGUAGES].sort());
    for (const language of ["de", "fr"] as const) {
      expect(Object.keys(REPORT_WORDS[language]).sort()).toEqual(Object.keys(REPORT_WORDS.en).sort());
      expect(REPORT_WORDS[language].reportTitle("x")).not.toBe(REPORT_WORDS.en.reportTitle("x"));
      expect(REPORT_WORDS[language].digestIntro(2, "x")).not.toBe(REPORT_WORDS.en.digestIntro(2, "x"));
    }
  });

  it("formats dates for the language", () => {
    expect(shownDate("2026-12-03T14:05:00Z", "UTC", "en")).toBe("3 Dec 2026, 14:05");
    expect(shownDate("2026-12-03T14:05:00Z", "UTC", "de")).toBe("03.12.2026, 14:05");
    expect(shownDate("2026-12-03T14:05:00Z", "UTC", "fr")).toBe("3 déc. 2026, 14:05");
  });

  it("writes a German digest: subject, heading, labels, link text and German dates", () => {
    const notice = digest("de");
    expect(notice.subject).toBe("Quarantäne-Übersicht: 1 zurückgehaltene Nachricht");
    expect(notice.text).toContain("Ihre wöchentliche Quarantäne-Übersicht (example.com)");
    expect(notice.text).toContain("1 Nachricht wird für ana@example.com in der Quarantäne zurückgehalten.");
    expect(notice.text).toContain("Betreff:   Größe");
    expect(notice.text).toContain(
      "Datum:     03.12.2026, 14:05 (Spam-Bewertung 9.50; aufbewahrt bis 02.01.2027, 14:05)",
    );
    expect(notice.text).toContain("Freigeben: https://mail.example.com/release/r1.x.y");
    expect(notice.html).toContain('<html lang="de">');
    expect(notice.html).toContain("<h1>Ihre wöchentliche Quarantäne-Übersicht (example.com)</h1>");
    expect(notice.html).toContain("<th>Von</th><th>Betreff</th><th>Datum</th><th>Bewertung</th>");
    expect(notice.html).toContain(">Freigeben</a>");
  });

  it("writes a French digest, and an English one as before", () => {
    const fr = digest("fr");
    expect(fr.subject).toBe("Récapitulatif de la quarantaine : 1 message retenu");
    expect(fr.html).toContain("<h1>Votre récapitulatif hebdomadaire de la quarantaine (example.com)</h1>");
    expect(fr.text).toContain("Objet:   Größe");
    const en = digest("en");
    expect(en.subject).toBe("Quarantine digest: 1 held message");
    expect(en.text).toContain(
      "Subject: Größe\nDate:    3 Dec 2026, 14:05 (spam score 9.50; kept until 2 Jan 2027, 14:05)",
    );
  });

  it("writes a French domain report: headings, totals and tables in HTML and text", () => {
    const html = reportHtml(data("fr"));
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain("<h1>Rapport de protection : example.com</h1>");
    expect(html).toContain("<p>Du 2 déc. 2026, 00:00 au 3 déc. 2026, 00:00 (UTC)</p>");
    expect(html).toContain("<h2>Totaux</h2>");
    for (const k of TOTALS) expect(html).toContain(`<th scope="row">${REPORT_WORDS.fr.totalLabels[k]}</th>`);
    expect(html).toContain("<h2>Messages par jour</h2>");
    expect(html).toContain("<h2>En quarantaine (1)</h2>");
    expect(html).toContain("<h2>Spam refusé, non mis en quarantaine (0)</h2>");
    expect(html).toContain("<th>Date</th><th>De</th><th>Objet</th><th>Score</th>");
    const text = reportText(data("fr"));
    expect(text).toContain("Rapport de protection : example.com");
    expect(text).toMatch(/^Refusés +3$/m);
  });

  it("draws the umlauts and accents of German and French PDF reports (text read back from the PDF)", async () => {
    const de = await pdfText(await renderReportPdf(data("de")));
    for (const s of [
      "Schutzbericht: example.com",
      "02.12.2026, 00:00 bis 03.12.2026, 00:00 (UTC)",
      "Gesamtzahlen",
      "Unbedenklich",
      "In Quarantäne (1)",
      "Abgewiesener Spam, nicht in Quarantäne (0)",
      "Nachrichten pro Tag (rot: Spam)",
      "    Größe",
    ]) {
      expect(de).toContain(s);
    }
    const fr = await pdfText(await renderReportPdf(data("fr")));
    for (const s of [
      "Rapport de protection : example.com",
      "Du 2 déc. 2026, 00:00 au 3 déc. 2026, 00:00 (UTC)",
      "Refusés",
      "Spam refusé, non mis en quarantaine (0)",
    ]) {
      expect(fr).toContain(s);
    }
    expect(fr).not.toContain("?");
  });
});
