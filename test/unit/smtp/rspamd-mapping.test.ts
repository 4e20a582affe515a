/** The mapping of rspamd's score and action onto the 0–1 combined score, and the evidence it keeps. */
import { describe, expect, it } from "vitest";
import { classificationOf, combinedFromRspamd } from "../../../platform/smtp/content/rspamd.ts";

describe("combinedFromRspamd", () => {
  it("maps rspamd's action scores onto the default thresholds: 4 → 0.10 (tag), 15 → 0.90 (quarantine)", () => {
    expect(combinedFromRspamd(4)).toBe(0.1);
    expect(combinedFromRspamd(15)).toBe(0.9);
  });

  it("is 0 at or below 0 and 1 at or above 30, linear in between", () => {
    expect(combinedFromRspamd(-5)).toBe(0);
    expect(combinedFromRspamd(0)).toBe(0);
    expect(combinedFromRspamd(2)).toBe(0.05);
    expect(combinedFromRspamd(9.5)).toBe(0.5);
    expect(combinedFromRspamd(22.5)).toBe(0.95);
    expect(combinedFromRspamd(30)).toBe(1);
    expect(combinedFromRspamd(1000)).toBe(1);
    expect(combinedFromRspamd(Number.NaN)).toBe(0);
  });
});

describe("classificationOf", () => {
  it("raises a reject action to at least 0.90 whatever the score, and lists symbols highest first", () => {
    const c = classificationOf({
      score: 0,
      action: "reject",
      symbols: { GTUBE: { score: 0 }, MISSING_MID: { score: 2.5 }, MIME_GOOD: { score: -0.1 } },
    });
    expect(c).toEqual({
      score: 0.9,
      hits: [
        { rule: "MISSING_MID", score: 2.5 },
        { rule: "GTUBE", score: 0 },
        { rule: "MIME_GOOD", score: -0.1 },
      ],
      scanner: { name: "rspamd", score: 0, action: "reject" },
    });
  });

  it("keeps the mapped score for other actions", () => {
    expect(classificationOf({ score: 4.5, action: "greylist", symbols: {} }).score).toBe(0.1364);
  });
});
