/** The token bucket behind the per-token rate limit, on a fake clock. */
import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../../platform/api/http/rate-limit.ts";

describe("RateLimiter", () => {
  it("refills at its rate and never beyond its burst", () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perSecond: 2 }, () => now);
    expect([limiter.take("k"), limiter.take("k"), limiter.take("k")]).toEqual([0, 0, 1]);
    now += 500;
    expect(limiter.take("k")).toBe(0);
    now += 60_000;
    expect([limiter.take("k"), limiter.take("k"), limiter.take("k")]).toEqual([0, 0, 1]);
  });
  it("says how many whole seconds to wait", () => {
    const limiter = new RateLimiter({ burst: 1, perSecond: 0.25 }, () => 0);
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(4);
    expect(limiter.take("b")).toBe(0);
  });
});
