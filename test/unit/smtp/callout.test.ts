/** The recipient callout cache: positive and negative lifetimes, nothing cached on unknown, one probe for concurrent asks, a size cap, clearing per domain. */
import { describe, expect, it } from "vitest";
import { RecipientCallout } from "../../../platform/smtp/delivery/callout.ts";
import type { Hop, ProbeResult } from "../../../platform/smtp/delivery/relay.ts";

const hops: Hop[] = [{ host: "192.0.2.10", port: 25, tls: "none", source: "route" }];

/** A prober that answers from a table and counts what it was asked. */
function prober(answers: Record<string, ProbeResult["outcome"]>) {
  const asked: string[] = [];
  return {
    asked,
    async probe(_hops: Hop[], recipient: string): Promise<ProbeResult> {
      asked.push(recipient);
      return { outcome: answers[recipient] ?? "unknown", detail: `answer for ${recipient}` };
    },
  };
}

describe("RecipientCallout", () => {
  it("believes a 2xx for positiveTtlMs and a 5xx for negativeTtlMs, then asks again", async () => {
    let now = 0;
    const p = prober({ "a@d.example": "accepted", "b@d.example": "rejected" });
    const c = new RecipientCallout(p, { positiveTtlMs: 1000, negativeTtlMs: 100, now: () => now });
    expect(await c.verify("d.example", hops, "a@d.example")).toMatchObject({
      outcome: "accepted",
      cached: false,
    });
    expect(await c.verify("d.example", hops, "b@d.example")).toMatchObject({
      outcome: "rejected",
      cached: false,
    });
    now = 99;
    expect(await c.verify("d.example", hops, "a@d.example")).toMatchObject({ cached: true });
    expect(await c.verify("d.example", hops, "b@d.example")).toMatchObject({
      outcome: "rejected",
      cached: true,
    });
    expect(p.asked).toEqual(["a@d.example", "b@d.example"]);
    now = 100;
    expect(await c.verify("d.example", hops, "b@d.example")).toMatchObject({ cached: false });
    expect(await c.verify("d.example", hops, "a@d.example")).toMatchObject({ cached: true });
    now = 1000;
    expect(await c.verify("d.example", hops, "a@d.example")).toMatchObject({ cached: false });
    expect(p.asked).toEqual(["a@d.example", "b@d.example", "b@d.example", "a@d.example"]);
  });

  it("caches nothing when the route gave no answer (4xx, timeout, unreachable)", async () => {
    const p = prober({});
    const c = new RecipientCallout(p);
    await c.verify("d.example", hops, "x@d.example");
    expect(await c.verify("d.example", hops, "x@d.example")).toMatchObject({
      outcome: "unknown",
      cached: false,
    });
    expect(p.asked).toHaveLength(2);
    expect(c.size).toBe(0);
  });

  it("asks once for concurrent RCPTs of the same recipient", async () => {
    const p = prober({ "a@d.example": "rejected" });
    const c = new RecipientCallout(p);
    const both = await Promise.all([
      c.verify("d.example", hops, "a@d.example"),
      c.verify("d.example", hops, "a@d.example"),
    ]);
    expect(both.map((v) => v.outcome)).toEqual(["rejected", "rejected"]);
    expect(p.asked).toHaveLength(1);
  });

  it("asks again when the domain's routes changed", async () => {
    const p = prober({ "a@d.example": "accepted" });
    const c = new RecipientCallout(p);
    await c.verify("d.example", hops, "a@d.example");
    await c.verify("d.example", [{ ...hops[0]!, host: "192.0.2.11" }], "a@d.example");
    expect(p.asked).toHaveLength(2);
  });

  it("keeps at most maxEntries answers, forgetting the oldest", async () => {
    const p = prober({ "a@d.example": "accepted", "b@d.example": "accepted", "c@d.example": "accepted" });
    const c = new RecipientCallout(p, { maxEntries: 2 });
    for (const r of ["a", "b", "c"]) await c.verify("d.example", hops, `${r}@d.example`);
    expect(c.size).toBe(2);
    expect(await c.verify("d.example", hops, "c@d.example")).toMatchObject({ cached: true });
    expect(await c.verify("d.example", hops, "a@d.example")).toMatchObject({ cached: false });
  });

  it("clears one domain's answers only", async () => {
    const p = prober({ "a@d.example": "rejected", "a@e.example": "rejected" });
    const c = new RecipientCallout(p);
    await c.verify("d.example", hops, "a@d.example");
    await c.verify("e.example", hops, "a@e.example");
    expect(c.clear("d.example")).toBe(1);
    expect(await c.verify("e.example", hops, "a@e.example")).toMatchObject({ cached: true });
    expect(await c.verify("d.example", hops, "a@d.example")).toMatchObject({ cached: false });
  });
});
