/** The client's verified host name: PTR names forward-confirmed, nothing asked for local clients, null on failure. */
import { describe, expect, it } from "vitest";
import {
  isLocalAddress,
  reverseName,
  verifiedClientName,
} from "../../../platform/smtp/content/client-name.ts";
import type { DnsResolver } from "../../../platform/smtp/content/spf.ts";

/** A resolver answering from a table (`name rrtype` → records); every question is recorded. */
function zone(records: Record<string, string[]>): DnsResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (name: string, rrtype: string) => {
    asked.push(`${name} ${rrtype}`);
    const answer = records[`${name} ${rrtype}`];
    if (answer === undefined) throw Object.assign(new Error(`${name}: no such name`), { code: "ENOTFOUND" });
    return answer;
  };
  return Object.assign(resolver, { asked });
}

describe("reverseName", () => {
  it("writes IPv4 and IPv6 addresses as their in-addr.arpa and ip6.arpa names", () => {
    expect(reverseName("192.0.2.25")).toBe("25.2.0.192.in-addr.arpa");
    expect(reverseName("2001:db8::1")).toBe(
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
    );
    expect(reverseName("not an address")).toBeNull();
  });
});

describe("verifiedClientName", () => {
  it("answers the PTR name whose own addresses include the client's", async () => {
    const dns = zone({
      "25.2.0.192.in-addr.arpa PTR": ["mx.outside.example."],
      "mx.outside.example A": ["192.0.2.25"],
    });
    expect(await verifiedClientName("192.0.2.25", dns)).toBe("mx.outside.example");
    expect(await verifiedClientName("::ffff:192.0.2.25", dns)).toBe("mx.outside.example");
  });

  it("answers null for a PTR name that does not point back (forged reverse DNS), and tries the next name", async () => {
    const forged = zone({
      "25.2.0.192.in-addr.arpa PTR": ["mail.bank.example"],
      "mail.bank.example A": ["198.51.100.7"],
    });
    expect(await verifiedClientName("192.0.2.25", forged)).toBeNull();
    const second = zone({
      "25.2.0.192.in-addr.arpa PTR": ["mail.bank.example", "mx.outside.example"],
      "mail.bank.example A": ["198.51.100.7"],
      "mx.outside.example A": ["192.0.2.25"],
    });
    expect(await verifiedClientName("192.0.2.25", second)).toBe("mx.outside.example");
  });

  it("confirms an IPv6 client against AAAA records written in another form", async () => {
    const dns = zone({
      [`${reverseName("2001:db8::25")} PTR`]: ["mx6.outside.example"],
      "mx6.outside.example AAAA": ["2001:0db8:0000:0000:0000:0000:0000:0025"],
    });
    expect(await verifiedClientName("2001:db8::25", dns)).toBe("mx6.outside.example");
  });

  it("answers null when there is no PTR record or DNS fails, and when DNS takes too long", async () => {
    expect(await verifiedClientName("192.0.2.25", zone({}))).toBeNull();
    const never: DnsResolver = () => new Promise(() => {});
    expect(await verifiedClientName("192.0.2.25", never, 20)).toBeNull();
  });

  it("asks nothing for loopback, private and link-local clients", async () => {
    const dns = zone({});
    for (const ip of [
      "127.0.0.1",
      "::1",
      "10.1.2.3",
      "172.20.0.5",
      "192.168.1.9",
      "169.254.3.4",
      "fd00::5",
      "fe80::1",
    ]) {
      expect(isLocalAddress(ip), ip).toBe(true);
      expect(await verifiedClientName(ip, dns)).toBeNull();
    }
    expect(dns.asked).toEqual([]);
    expect(isLocalAddress("192.0.2.25")).toBe(false);
    expect(isLocalAddress("172.32.0.1")).toBe(false);
  });
});
