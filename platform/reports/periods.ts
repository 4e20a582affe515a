/** Report periods in a domain's timezone: the local day (`2026-12-03`) or ISO 8601 week (`2026-W49`). */

/**
 * The local calendar date of `at` in `timezone`.
 * @example localDate(Date.UTC(2026, 11, 3, 23, 30), "Europe/Berlin") // "2026-12-04"
 */
export function localDate(at: number, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(at));
}

/**
 * The ISO 8601 week (§3.2.2: weeks start on Monday; week 1 holds the year's first Thursday) of a
 * calendar date.
 * @example isoWeek("2026-12-03") // "2026-W49"
 */
export function isoWeek(date: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  const weekday = day.getUTCDay() || 7;
  // The Thursday of this week decides the year.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/**
 * The period `at` falls in, at the domain's timezone: a day for `daily`, an ISO week for `weekly`.
 * A report is due once per period: the first check in a new period sends it.
 * @example periodOf(Date.now(), "UTC", "weekly") // "2026-W49"
 */
export function periodOf(at: number, timezone: string, frequency: "daily" | "weekly"): string {
  const date = localDate(at, timezone);
  return frequency === "daily" ? date : isoWeek(date);
}

/**
 * The instant the local day `date` starts in `timezone` —
 * found by stepping, since a zone's offset may change during the day.
 * @example localMidnight("2026-12-03", "UTC") // Date.UTC(2026, 11, 3)
 */
export function localMidnight(date: string, timezone: string): number {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  // Start at UTC midnight and correct by the zone's offset there (twice, for offsets that change).
  let guess = Date.UTC(y, m - 1, d);
  for (let i = 0; i < 2; i++) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).formatToParts(new Date(guess));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
    const shown = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
    guess -= shown - Date.UTC(y, m - 1, d);
  }
  return guess;
}
