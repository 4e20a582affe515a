/** Report helpers: one-line and HTML-safe sender text, PDF-safe text, and periods at a domain's timezone. */
import { describe, expect, it } from "vitest";
import { previousPeriod } from "../../../platform/reports/domain-report.ts";
import { isoWeek, localDate, localMidnight, periodOf } from "../../../platform/reports/periods.ts";
import { pdfSafe } from "../../../platform/reports/report-pdf.ts";
import { escapeHtml, oneLine } from "../../../platform/reports/text.ts";

describe("sender text", () => {
  it("flattens CR, LF, other control characters and Unicode line separators to spaces", () => {
    expect(oneLine("Hi\r\nBcc: x\u0000\u2028y")).toBe("Hi  Bcc: x  y");
  });

  it("cuts long text at 200 characters with an ellipsis", () => {
    expect(oneLine("a".repeat(300))).toHaveLength(200);
  });

  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("keeps printable Latin-1 for the PDF and replaces the rest", () => {
    expect(pdfSafe("Grüße 你好\n")).toBe("Grüße ?? ");
  });
});

describe("periods at the domain's timezone", () => {
  it("takes the local date, not UTC's", () => {
    expect(localDate(Date.UTC(2026, 11, 3, 23, 30), "Europe/Berlin")).toBe("2026-12-04");
    expect(localDate(Date.UTC(2026, 11, 3, 23, 30), "UTC")).toBe("2026-12-03");
  });

  it("numbers ISO weeks from Monday, week 1 holding the first Thursday", () => {
    expect(isoWeek("2026-12-03")).toBe("2026-W49");
    expect(isoWeek("2021-01-03")).toBe("2020-W53");
    expect(isoWeek("2024-12-30")).toBe("2025-W01");
    expect(periodOf(Date.UTC(2026, 11, 7, 0, 30), "UTC", "weekly")).toBe("2026-W50");
    expect(periodOf(Date.UTC(2026, 11, 6, 23, 30), "UTC", "weekly")).toBe("2026-W49");
  });

  it("finds local midnight across a DST change", () => {
    expect(localMidnight("2026-03-29", "Europe/Berlin")).toBe(Date.UTC(2026, 2, 28, 23, 0));
    expect(localMidnight("2026-03-30", "Europe/Berlin")).toBe(Date.UTC(2026, 2, 29, 22, 0));
  });

  it("reports on the previous whole day or Monday-to-Monday week", () => {
    const thursday = Date.UTC(2026, 11, 3, 9, 0);
    expect(previousPeriod(thursday, "UTC", "daily")).toEqual({
      from: "2026-12-02T00:00:00.000Z",
      to: "2026-12-03T00:00:00.000Z",
    });
    expect(previousPeriod(thursday, "UTC", "weekly")).toEqual({
      from: "2026-11-23T00:00:00.000Z",
      to: "2026-11-30T00:00:00.000Z",
    });
  });
});
