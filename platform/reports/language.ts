/** The words of digests and domain reports in each ReportSettings language (en, de, fr), and their date format. */
import type { ReportSettingsSpec } from "../../sdk/src/models/report-settings.ts";

/** A language reports and digests are written in (ReportSettings `language`). */
export type ReportLanguage = ReportSettingsSpec["language"];

/** The totals a domain report shows, in order (their labels are in each language's words). */
export const TOTALS = ["total", "clean", "spam", "quarantined", "viruses", "rejected"] as const;

/** Every string a digest or domain report shows, in one language. */
export interface ReportWords {
  /** BCP 47 tag of the HTML documents and the date format. */
  tag: string;
  /** Locale of dates: `3 Dec 2026, 14:05`, `03.12.2026, 14:05`, `3 déc. 2026, 14:05`. */
  locale: string;
  nullSender: string;
  noSubject: string;
  from: string;
  subject: string;
  date: string;
  score: string;
  release: string;
  digestTitle(frequency: "daily" | "weekly", domain: string): string;
  digestHeading: string;
  digestIntro(n: number, recipient: string): string;
  /** `(spam score 7.50; kept until …)` after a held message's date. */
  heldDetails(score: string, expires: string): string;
  digestFooter: string;
  digestSubject(n: number): string;
  reportTitle(domain: string): string;
  reportSubject(domain: string): string;
  period(from: string, to: string, timezone: string): string;
  totals: string;
  /** The labels of the totals, by statistic. */
  totalLabels: Record<(typeof TOTALS)[number], string>;
  perDay: string;
  /** The chart's heading in the PDF, whose colours have no legend otherwise. */
  perDayPdf: string;
  /** One day of the chart: `2026-12-03: 12 messages, 3 spam`. */
  dayLine(date: string, total: number, spam: number): string;
  noMail: string;
  quarantined: string;
  refusedSpam: string;
}

/** The words of each language. Formal address (Sie, vous) throughout. */
export const REPORT_WORDS: Record<ReportLanguage, ReportWords> = {
  en: {
    tag: "en",
    locale: "en-GB",
    nullSender: "(null sender)",
    noSubject: "(no subject)",
    from: "From",
    subject: "Subject",
    date: "Date",
    score: "Score",
    release: "Release",
    digestTitle: (f, d) => `Your ${f} quarantine digest (${d})`,
    digestHeading: "Quarantine digest",
    digestIntro: (n, r) =>
      `${n} message${n === 1 ? " is" : "s are"} held in the quarantine for ${r}. Release one with its link; the others are deleted when they expire.`,
    heldDetails: (s, e) => `(spam score ${s}; kept until ${e})`,
    digestFooter: "A release link works once, for you only, until the message expires.",
    digestSubject: (n) => `Quarantine digest: ${n} held message${n === 1 ? "" : "s"}`,
    reportTitle: (d) => `Protection report: ${d}`,
    reportSubject: (d) => `Protection report for ${d}`,
    period: (f, t, z) => `${f} to ${t} (${z})`,
    totals: "Totals",
    totalLabels: {
      total: "Messages",
      clean: "Clean",
      spam: "Spam",
      quarantined: "Quarantined",
      viruses: "Viruses",
      rejected: "Refused",
    },
    perDay: "Messages per day",
    perDayPdf: "Messages per day (red: spam)",
    dayLine: (d, t, s) => `${d}: ${t} messages, ${s} spam`,
    noMail: "no mail",
    quarantined: "Quarantined",
    refusedSpam: "Spam refused, not quarantined",
  },
  de: {
    tag: "de",
    locale: "de-DE",
    nullSender: "(kein Absender)",
    noSubject: "(kein Betreff)",
    from: "Von",
    subject: "Betreff",
    date: "Datum",
    score: "Bewertung",
    release: "Freigeben",
    digestTitle: (f, d) => `Ihre ${f === "daily" ? "tägliche" : "wöchentliche"} Quarantäne-Übersicht (${d})`,
    digestHeading: "Quarantäne-Übersicht",
    digestIntro: (n, r) =>
      `${n === 1 ? "1 Nachricht wird" : `${n} Nachrichten werden`} für ${r} in der Quarantäne zurückgehalten. Geben Sie eine über ihren Link frei; die übrigen werden gelöscht, wenn sie ablaufen.`,
    heldDetails: (s, e) => `(Spam-Bewertung ${s}; aufbewahrt bis ${e})`,
    digestFooter: "Ein Freigabelink funktioniert einmal, nur für Sie, bis die Nachricht abläuft.",
    digestSubject: (n) => `Quarantäne-Übersicht: ${n} zurückgehaltene Nachricht${n === 1 ? "" : "en"}`,
    reportTitle: (d) => `Schutzbericht: ${d}`,
    reportSubject: (d) => `Schutzbericht für ${d}`,
    period: (f, t, z) => `${f} bis ${t} (${z})`,
    totals: "Gesamtzahlen",
    totalLabels: {
      total: "Nachrichten",
      clean: "Unbedenklich",
      spam: "Spam",
      quarantined: "In Quarantäne",
      viruses: "Viren",
      rejected: "Abgewiesen",
    },
    perDay: "Nachrichten pro Tag",
    perDayPdf: "Nachrichten pro Tag (rot: Spam)",
    dayLine: (d, t, s) => `${d}: ${t} Nachrichten, ${s} Spam`,
    noMail: "keine Nachrichten",
    quarantined: "In Quarantäne",
    refusedSpam: "Abgewiesener Spam, nicht in Quarantäne",
  },
  fr: {
    tag: "fr",
    locale: "fr-FR",
    nullSender: "(expéditeur vide)",
    noSubject: "(sans objet)",
    from: "De",
    subject: "Objet",
    date: "Date",
    score: "Score",
    release: "Libérer",
    digestTitle: (f, d) =>
      `Votre récapitulatif ${f === "daily" ? "quotidien" : "hebdomadaire"} de la quarantaine (${d})`,
    digestHeading: "Récapitulatif de la quarantaine",
    digestIntro: (n, r) =>
      `${n === 1 ? "1 message est retenu" : `${n} messages sont retenus`} en quarantaine pour ${r}. Libérez-en un avec son lien ; les autres sont supprimés à leur expiration.`,
    heldDetails: (s, e) => `(score de spam ${s} ; conservé jusqu'au ${e})`,
    digestFooter:
      "Un lien de libération fonctionne une seule fois, pour vous seul, jusqu'à l'expiration du message.",
    digestSubject: (n) =>
      `Récapitulatif de la quarantaine : ${n} message${n === 1 ? " retenu" : "s retenus"}`,
    reportTitle: (d) => `Rapport de protection : ${d}`,
    reportSubject: (d) => `Rapport de protection pour ${d}`,
    period: (f, t, z) => `Du ${f} au ${t} (${z})`,
    totals: "Totaux",
    totalLabels: {
      total: "Messages",
      clean: "Sains",
      spam: "Spam",
      quarantined: "En quarantaine",
      viruses: "Virus",
      rejected: "Refusés",
    },
    perDay: "Messages par jour",
    perDayPdf: "Messages par jour (rouge : spam)",
    dayLine: (d, t, s) => `${d} : ${t} messages, ${s} spam`,
    noMail: "aucun message",
    quarantined: "En quarantaine",
    refusedSpam: "Spam refusé, non mis en quarantaine",
  },
};

/**
 * A date and time in `timezone`, formatted for the language: `3 Dec 2026, 14:05` (en),
 * `03.12.2026, 14:05` (de), `3 déc. 2026, 14:05` (fr).
 * @example shownDate("2026-12-03T14:05:00Z", "UTC", "de") // "03.12.2026, 14:05"
 */
export function shownDate(iso: string, timezone: string, language: ReportLanguage): string {
  return new Intl.DateTimeFormat(REPORT_WORDS[language].locale, {
    timeZone: timezone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(iso));
}
