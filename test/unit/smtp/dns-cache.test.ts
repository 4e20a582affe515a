/** The DNS cache of inbound authentication: reuse within the TTL, short negative caching, no caching of temporary failures, the size cap, shared in-flight questions. */
import { describe, expect, it } from "vitest";
import { DnsCache } from "../../../platform/smtp/content/dns-cache.ts";

/** A resolver that counts every question it is asked; `answers` decides what each name gets. */
function countingResolver(answers: Record<string, unknown[] | string>) {
  const asked: string[] = [];
  const resolver = async (name: string, rrtype: string) => {
    asked.push(`${rrtype} ${name}`);
    const answer = answers[name];
    if (Array.isArray(answer)) return answer;
    throw Object.assign(new Error(`${rrtype} ${name}: ${answer ?? "ENOTFOUND"}`), {
      code: answer ?? "ENOTFOUND",
    });
  };
  return { asked, resolver };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "answered",
    (e: { code?: string }) => e.code,
  );

describe("DnsCache", () => {
  it("asks once within the TTL (names compared case-insensitively) and again after it", async () => {
    let now = 0;
    const dns = countingResolver({ "_dmarc.example.com": [["v=DMARC1; p=reject"]] });
    const cache = new DnsCache(dns.resolver, { ttlMs: 300_000, now: () => now });
    expect(await cache.resolver("_dmarc.example.com", "TXT")).toEqual([["v=DMARC1; p=reject"]]);
    expect(await cache.resolver("_DMARC.Example.COM", "txt")).toEqual([["v=DMARC1; p=reject"]]);
    now = 299_999;
    await cache.resolver("_dmarc.example.com", "TXT");
    expect(dns.asked).toEqual(["TXT _dmarc.example.com"]);
    now = 300_000;
    await cache.resolver("_dmarc.example.com", "TXT");
    expect(dns.asked).toHaveLength(2);
  });

  it("keeps record types apart", async () => {
    const dns = countingResolver({ "example.com": [["v=spf1 -all"]] });
    const cache = new DnsCache(dns.resolver);
    await cache.resolver("example.com", "TXT");
    await cache.resolver("example.com", "MX");
    expect(dns.asked).toEqual(["TXT example.com", "MX example.com"]);
  });

  it("holds 'no such name' and 'no such record' for the short negative TTL only", async () => {
    let now = 0;
    const dns = countingResolver({
      "s1._domainkey.new.example": "ENOTFOUND",
      "_dmarc.new.example": "ENODATA",
    });
    const cache = new DnsCache(dns.resolver, { ttlMs: 300_000, negativeTtlMs: 60_000, now: () => now });
    expect(await codeOf(cache.resolver("s1._domainkey.new.example", "TXT"))).toBe("ENOTFOUND");
    expect(await codeOf(cache.resolver("_dmarc.new.example", "TXT"))).toBe("ENODATA");
    now = 59_999;
    expect(await codeOf(cache.resolver("s1._domainkey.new.example", "TXT"))).toBe("ENOTFOUND");
    expect(await codeOf(cache.resolver("_dmarc.new.example", "TXT"))).toBe("ENODATA");
    expect(dns.asked).toHaveLength(2);
    now = 60_000;
    await codeOf(cache.resolver("s1._domainkey.new.example", "TXT"));
    expect(dns.asked).toHaveLength(3);
  });

  it("never holds the negative answer longer than a positive one", async () => {
    let now = 0;
    const dns = countingResolver({});
    const cache = new DnsCache(dns.resolver, { ttlMs: 10_000, negativeTtlMs: 60_000, now: () => now });
    await codeOf(cache.resolver("gone.example", "TXT"));
    now = 10_000;
    await codeOf(cache.resolver("gone.example", "TXT"));
    expect(dns.asked).toHaveLength(2);
  });

  it("asks again after a temporary failure (SERVFAIL, timeout)", async () => {
    const dns = countingResolver({ "flaky.example": "ESERVFAIL", "slow.example": "ETIMEOUT" });
    const cache = new DnsCache(dns.resolver);
    for (let i = 0; i < 2; i++) {
      expect(await codeOf(cache.resolver("flaky.example", "TXT"))).toBe("ESERVFAIL");
      expect(await codeOf(cache.resolver("slow.example", "TXT"))).toBe("ETIMEOUT");
    }
    expect(dns.asked).toHaveLength(4);
    expect(cache.size).toBe(0);
  });

  it("keeps at most maxEntries, evicting the least recently used", async () => {
    const dns = countingResolver({ "a.example": [["a"]], "b.example": [["b"]], "c.example": [["c"]] });
    const cache = new DnsCache(dns.resolver, { maxEntries: 2 });
    await cache.resolver("a.example", "TXT");
    await cache.resolver("b.example", "TXT");
    // a is used again, so b is now the least recently used and c evicts it.
    await cache.resolver("a.example", "TXT");
    await cache.resolver("c.example", "TXT");
    expect(cache.size).toBe(2);
    await cache.resolver("a.example", "TXT");
    await cache.resolver("c.example", "TXT");
    expect(dns.asked).toEqual(["TXT a.example", "TXT b.example", "TXT c.example"]);
    await cache.resolver("b.example", "TXT");
    expect(dns.asked.at(-1)).toBe("TXT b.example");
    expect(cache.size).toBe(2);
  });

  it("stays within the cap under a flood of distinct names", async () => {
    const dns = countingResolver({});
    const cache = new DnsCache(dns.resolver, { maxEntries: 100 });
    for (let i = 0; i < 1000; i++) await codeOf(cache.resolver(`spam${i}.example`, "TXT"));
    expect(cache.size).toBe(100);
  });

  it("shares one question between overlapping lookups of the same record", async () => {
    const dns = countingResolver({ "busy.example": [["v=spf1 -all"]] });
    const cache = new DnsCache(dns.resolver);
    const answers = await Promise.all([1, 2, 3].map(() => cache.resolver("busy.example", "TXT")));
    expect(answers).toEqual([[["v=spf1 -all"]], [["v=spf1 -all"]], [["v=spf1 -all"]]]);
    expect(dns.asked).toEqual(["TXT busy.example"]);
  });

  it("hands out copies: a caller sorting its answer does not change the cached one", async () => {
    const dns = countingResolver({
      "mx.example": [
        { exchange: "b", priority: 20 },
        { exchange: "a", priority: 10 },
      ],
    });
    const cache = new DnsCache(dns.resolver);
    const first = (await cache.resolver("mx.example", "MX")) as { exchange: string }[];
    first.sort((x, y) => x.exchange.localeCompare(y.exchange));
    const second = (await cache.resolver("mx.example", "MX")) as { exchange: string }[];
    expect(second.map((m) => m.exchange)).toEqual(["b", "a"]);
  });
});
