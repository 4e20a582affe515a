/** Lockout keys (IPv4 address, IPv6 /64, IPv4-mapped IPv6) and the token expiry rule. */
import { describe, expect, it } from "vitest";
import { ApiTokenSpec, tokenExpiryIssue } from "../../../../sdk/src/models/api-token.ts";
import { loginLockoutKey } from "../../../../sdk/src/models/lockout.ts";

describe("loginLockoutKey", () => {
  it("keys an IPv4 client by its address", () => {
    expect(loginLockoutKey("192.0.2.1")).toBe("192.0.2.1");
    expect(loginLockoutKey(" 192.0.2.1/32 ")).toBe("192.0.2.1");
  });

  it("keys an IPv6 client by its /64, in RFC 5952 form, whatever the spelling", () => {
    const key = "2001:db8:1:2::/64";
    for (const ip of [
      "2001:db8:1:2::1",
      "2001:0DB8:0001:0002:ffff:ffff:ffff:ffff",
      "2001:db8:1:2:abcd::99",
      "[2001:db8:1:2::5]",
      "2001:db8:1:2::5%eth0",
      "2001:db8:1:2::/64",
      "2001:db8:1:2::5/128",
    ]) {
      expect(loginLockoutKey(ip), ip).toBe(key);
    }
    expect(loginLockoutKey("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(loginLockoutKey("2001:db8::1")).toBe("2001:db8::/64");
    expect(loginLockoutKey("::1")).toBe("::/64");
  });

  it("keys an IPv4-mapped IPv6 client by the IPv4 address it wraps", () => {
    expect(loginLockoutKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(loginLockoutKey("::FFFF:c000:0201")).toBe("192.0.2.1");
    expect(loginLockoutKey("0:0:0:0:0:ffff:c000:201")).toBe("192.0.2.1");
  });

  it("refuses what is no client address or key", () => {
    for (const bad of ["", "example.com", "192.0.2.0/24", "2001:db8::/48", "1.2.3.4/32/1", "300.1.1.1"]) {
      expect(loginLockoutKey(bad), bad).toBeUndefined();
    }
  });
});

describe("token expiry", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");

  it("refuses an expiresAt in the past or now, and accepts one in the future or none", () => {
    expect(tokenExpiryIssue("2026-03-01T11:59:59Z", now)).toMatch(/^must be in the future/);
    expect(tokenExpiryIssue("2026-03-01T12:00:00.000Z", now)).toMatch(/^must be in the future/);
    expect(tokenExpiryIssue("2026-03-01T12:00:01Z", now)).toBeUndefined();
    expect(tokenExpiryIssue(null, now)).toBeUndefined();
    expect(tokenExpiryIssue(undefined, now)).toBeUndefined();
  });

  it("is part of ApiTokenSpec, naming expiresAt", () => {
    const result = ApiTokenSpec.safeParse({ role: "read-only", expiresAt: "2020-01-01T00:00:00Z" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([["expiresAt"]]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(ApiTokenSpec.parse({ role: "read-only", expiresAt: future }).expiresAt).toBe(future);
  });
});
