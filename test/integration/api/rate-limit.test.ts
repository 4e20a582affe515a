/** The per-token rate limit over real HTTP: a burst, then 429 with Retry-After, other tokens unaffected. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness } from "./harness.ts";

describe.each(BACKENDS)("rate limit on $name", (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(backend, { rateLimit: { burst: 4, perSecond: 1 } });
  });
  afterAll(async () => h?.close());

  it("answers 429 with Retry-After once a token's burst is spent, per token, and lets it go on afterwards", async () => {
    // The harness's own setup calls (account, token) use the admin token's bucket, not these.
    const t = await h.tenant("rl");
    const other = await h.tenant("rl");
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await h.call("GET", "/v1/whoami", { token: t.token }));
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    const first = limited[0]!;
    expect(first.body).toMatchObject({ code: "MP_RATE_LIMITED", status: 429 });
    const retryAfter = Number(first.headers["retry-after"]);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(first.headers["ratelimit-policy"]).toBe("4;w=4");
    // Another token has its own bucket.
    expect((await h.call("GET", "/v1/whoami", { token: other.token })).status).toBe(200);
    // After the advertised wait the token may call again.
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    expect((await h.call("GET", "/v1/whoami", { token: t.token })).status).toBe(200);
  });

  it("does not limit the public endpoints", async () => {
    for (let i = 0; i < 8; i++) expect((await h.call("GET", "/healthz")).status).toBe(200);
  });
});
