/** SRS0 addresses: made for a forward, taken back only with their hash and within 21 days. */
import { describe, expect, it } from "vitest";
import { SRS_MAX_AGE_DAYS, srsForward, srsKeyFrom, srsReverse } from "../../../platform/smtp/delivery/srs.ts";

const DAY = 86_400_000;
const key = srsKeyFrom(Buffer.alloc(32, 7));
const now = Date.UTC(2026, 11, 3, 12);

describe("SRS0", () => {
  it("rewrites a sender into the forwarding domain and takes it back, case-insensitively (RCPT is lower-cased)", () => {
    const address = srsForward(key, "Ann.Lee@Shop.example", "fwd.example", now);
    expect(address).toMatch(/^SRS0=[0-9a-f]{8}=[a-z2-7]{2}=shop\.example=Ann\.Lee@fwd\.example$/);
    const local = address.slice(0, address.lastIndexOf("@"));
    expect(srsReverse(key, local, now)).toEqual({ sender: "Ann.Lee@shop.example" });
    expect(srsReverse(key, local.toLowerCase(), now + DAY)).toEqual({ sender: "ann.lee@shop.example" });
  });

  it("refuses a forged hash, another key's address and a changed original sender", () => {
    const local = srsForward(key, "ann@shop.example", "fwd.example", now).split("@")[0]!;
    const [, hash] = local.split("=");
    const forged = local.replace(hash!, hash === "00000000" ? "11111111" : "00000000");
    expect(srsReverse(key, forged, now)).toEqual({ refused: "hash" });
    expect(srsReverse(srsKeyFrom(Buffer.alloc(32, 8)), local, now)).toEqual({ refused: "hash" });
    expect(srsReverse(key, local.replace("=ann", "=bob"), now)).toEqual({ refused: "hash" });
    expect(srsReverse(key, local.replace("shop.example", "evil.example"), now)).toEqual({ refused: "hash" });
  });

  it(`takes an address back for ${SRS_MAX_AGE_DAYS} days, not longer`, () => {
    const local = srsForward(key, "ann@shop.example", "fwd.example", now).split("@")[0]!;
    expect(srsReverse(key, local, now + SRS_MAX_AGE_DAYS * DAY)).toEqual({ sender: "ann@shop.example" });
    expect(srsReverse(key, local, now + (SRS_MAX_AGE_DAYS + 1) * DAY)).toEqual({ refused: "expired" });
  });

  it("leaves other local parts alone", () => {
    expect(srsReverse(key, "ann", now)).toBeNull();
    expect(srsReverse(key, "srs1=abc=def", now)).toBeNull();
  });
});
