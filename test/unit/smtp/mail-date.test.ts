import { describe, expect, it } from "vitest";
import { addressLiteral, mailDate } from "../../../platform/smtp/content/mail-date.ts";

describe("mailDate", () => {
  it("writes a numeric zone, never the obsolete GMT (RFC 5322 §3.3, §4.3)", () => {
    expect(mailDate(new Date(Date.UTC(2026, 11, 3, 16, 30, 5)))).toBe("Thu, 03 Dec 2026 16:30:05 +0000");
  });
});

describe("addressLiteral", () => {
  it("tags an IPv6 client with IPv6: (RFC 5321 §4.1.3)", () => {
    expect(addressLiteral("2001:db8::1")).toBe("[IPv6:2001:db8::1]");
    expect(addressLiteral("::1")).toBe("[IPv6:::1]");
  });

  it("writes an IPv4 client, and an IPv4-mapped IPv6 one, as a plain IPv4 literal", () => {
    expect(addressLiteral("192.0.2.7")).toBe("[192.0.2.7]");
    expect(addressLiteral("::ffff:192.0.2.7")).toBe("[192.0.2.7]");
  });
});
