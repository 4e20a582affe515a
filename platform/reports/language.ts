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
  /** The page a digest's release link opens (`/release/<token>?lang=…`). */
  releasePage: {
    invalidTitle: string;
    invalidText: string;
    laterTitle: string;
    laterText: string;
    nothingTitle: string;
    nothingText: string;
    confirmTitle: string;
    /** Before the recipient's address: `Held for <address>:`. */
    heldFor: string;
    received: string;
    spamScore: string;
    button: string;
    notReleasedTitle: string;
    notReleasedText: string;
    releasedTitle: string;
    releasedText: string;
  };
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
    releasePage: {
      invalidTitle: "Release link not valid",
      invalidText:
        "This release link is not valid: it was changed, it has expired, or the message was purged. Ask your administrator, or release the message from your quarantine.",
      laterTitle: "Try again later",
      laterText: "The mail engine is not reachable from here right now.",
      nothingTitle: "Nothing to release",
      nothingText: "Nothing to release: the message was already released to you, deleted, or purged.",
      confirmTitle: "Release this message?",
      heldFor: "Held for",
      received: "Received",
      spamScore: "Spam score",
      button: "Release to my mailbox",
      notReleasedTitle: "Not released",
      notReleasedText: "Your address does not accept this message now (disabled or removed); it stays held.",
      releasedTitle: "Released",
      releasedText: "The message is on its way to your mailbox.",
    },
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
    releasePage: {
      invalidTitle: "Freigabelink ungültig",
      invalidText:
        "Dieser Freigabelink ist ungültig: Er wurde verändert, ist abgelaufen, oder die Nachricht wurde bereits gelöscht. Wenden Sie sich an Ihre Administration oder geben Sie die Nachricht in Ihrer Quarantäne frei.",
      laterTitle: "Bitte später erneut versuchen",
      laterText: "Der Mailserver ist von hier aus gerade nicht erreichbar.",
      nothingTitle: "Nichts freizugeben",
      nothingText:
        "Nichts freizugeben: Die Nachricht wurde Ihnen bereits zugestellt, gelöscht oder ist abgelaufen.",
      confirmTitle: "Diese Nachricht freigeben?",
      heldFor: "Zurückgehalten für",
      received: "Empfangen",
      spamScore: "Spam-Bewertung",
      button: "In mein Postfach freigeben",
      notReleasedTitle: "Nicht freigegeben",
      notReleasedText:
        "Ihre Adresse nimmt diese Nachricht derzeit nicht an (deaktiviert oder entfernt); sie bleibt zurückgehalten.",
      releasedTitle: "Freigegeben",
      releasedText: "Die Nachricht ist auf dem Weg in Ihr Postfach.",
    },
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
    releasePage: {
      invalidTitle: "Lien de libération non valide",
      invalidText:
        "Ce lien de libération n'est pas valide : il a été modifié, il a expiré, ou le message a été supprimé. Adressez-vous à votre administrateur, ou libérez le message depuis votre quarantaine.",
      laterTitle: "Réessayez plus tard",
      laterText: "Le serveur de messagerie n'est pas joignable d'ici pour le moment.",
      nothingTitle: "Rien à libérer",
      nothingText: "Rien à libérer : le message vous a déjà été remis, a été supprimé ou a expiré.",
      confirmTitle: "Libérer ce message ?",
      heldFor: "Retenu pour",
      received: "Reçu",
      spamScore: "Score de spam",
      button: "Libérer vers ma boîte aux lettres",
      notReleasedTitle: "Non libéré",
      notReleasedText:
        "Votre adresse n'accepte pas ce message pour le moment (désactivée ou supprimée) ; il reste retenu.",
      releasedTitle: "Libéré",
      releasedText: "Le message est en route vers votre boîte aux lettres.",
    },
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

/**
 * The language a release page is shown in: its `lang` query parameter when it names one, else English.
 * Only the page's words depend on it (it is not part of the signed token).
 * @example releasePageLanguage({ lang: "de" }) // "de"
 */
export function releasePageLanguage(query: unknown): ReportLanguage {
  const lang = (query as { lang?: unknown } | undefined)?.lang;
  return typeof lang === "string" && Object.hasOwn(REPORT_WORDS, lang) ? (lang as ReportLanguage) : "en";
}
