/** Normalisation helpers: domain names, addresses, IP/CIDR canonical forms. */
import { describe, expect, it } from "vitest";
import {
  canonicalCidr,
  isAddress,
  isMailDomain,
  normaliseAddress,
  toAsciiDomain,
} from "../../../../sdk/src/models/common.ts";

describe("toAsciiDomain", () => {
  it("lower-cases, strips the trailing dot and converts IDN labels to punycode", () => {
    expect(toAsciiDomain(" Bücher.DE. ")).toBe("xn--bcher-kva.de");
    expect(toAsciiDomain("EXAMPLE.com")).toBe("example.com");
  });

  it("returns the lower-cased input when the name cannot be converted, so validation names it", () => {
    expect(toAsciiDomain("Exa Mple.com")).toBe("exa mple.com");
  });
});

describe("isMailDomain", () => {
  it("accepts names with two or more labels", () => {
    expect(isMailDomain("example.com")).toBe(true);
    expect(isMailDomain("xn--bcher-kva.de")).toBe(true);
  });

  it("rejects single labels, IPs, underscores and edge hyphens", () => {
    for (const bad of ["localhost", "1.2.3.4", "a_b.com", "-a.com", "a-.com", "", "a..com"]) {
      expect(isMailDomain(bad), bad).toBe(false);
    }
  });
});

describe("normaliseAddress", () => {
  it("lower-cases the local part and punycodes the domain", () => {
    expect(normaliseAddress(" Alice@Bücher.DE ")).toBe("alice@xn--bcher-kva.de");
  });

  it("accepts the wildcard local part only when asked", () => {
    expect(isAddress("*@example.com", true)).toBe(true);
    expect(isAddress("*@example.com")).toBe(false);
  });

  it("rejects non-ASCII local parts (ASCII only, per the seeds)", () => {
    expect(isAddress(normaliseAddress("jörg@example.com"))).toBe(false);
  });
});

describe("canonicalCidr", () => {
  it("writes a bare IPv4 address as a /32", () => {
    expect(canonicalCidr("192.0.2.1")).toBe("192.0.2.1/32");
  });

  it("clears host bits", () => {
    expect(canonicalCidr("10.1.2.3/8")).toBe("10.0.0.0/8");
    expect(canonicalCidr("0.0.0.0/0")).toBe("0.0.0.0/0");
  });

  it("compresses and lower-cases IPv6 and clears host bits", () => {
    expect(canonicalCidr("2001:DB8:0:0:0:0:0:1")).toBe("2001:db8::1/128");
    expect(canonicalCidr("2001:db8:abcd::1/32")).toBe("2001:db8::/32");
    expect(canonicalCidr("::ffff:192.0.2.1")).toBe("::ffff:c000:201/128");
  });

  it("leaves invalid input as written", () => {
    expect(canonicalCidr("10.0.0.0/33")).toBe("10.0.0.0/33");
    expect(canonicalCidr("not-an-ip")).toBe("not-an-ip");
  });
});
