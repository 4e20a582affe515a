/** The provider's progress line for a retried call: what failed, when the next attempt runs, how much budget is used. */
import { describe, expect, it } from "vitest";
import { retryProgress } from "../../../provider/src/lib/api.ts";
import { MailplaneError } from "../../../sdk/src/errors.ts";

describe("retryProgress", () => {
  it("names the call, the status and code, the server's detail, the wait and the budget used", () => {
    const error = new MailplaneError("MP_UNAVAILABLE", "the database is unavailable (connection refused)", {
      status: 503,
      retryAfterSeconds: 2,
    });
    expect(
      retryProgress({
        method: "PUT",
        path: "/v1/domains/example.org",
        error,
        retry: 3,
        delayMs: 2_000,
        elapsedMs: 6_400,
        budgetMs: 60_000,
      }),
    ).toBe(
      "mailplane: PUT /v1/domains/example.org: 503 MP_UNAVAILABLE (the database is unavailable (connection refused)); " +
        "retry 3 in 2.0 s (6 s of the 60 s retry budget used)",
    );
  });

  it("leaves the status out when no response arrived (a refused connection)", () => {
    const error = new MailplaneError("MP_NETWORK", "GET /v1/domains: connect ECONNREFUSED 127.0.0.1:1");
    const line = retryProgress({
      method: "GET",
      path: "/v1/domains",
      error,
      retry: 1,
      delayMs: 450,
      elapsedMs: 0,
      budgetMs: 60_000,
    });
    expect(line).toMatch(
      /^mailplane: GET \/v1\/domains: MP_NETWORK \(GET \/v1\/domains: connect ECONNREFUSED/,
    );
    expect(line).toContain("retry 1 in 0.5 s");
  });
});
