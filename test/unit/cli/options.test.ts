/** How every command reads an option: flag, else environment variable (empty counts as unset), else the caller's default. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import {
  calloutFrom,
  dnsCacheFrom,
  senderRateFrom,
  smtpOptionsFrom,
  trustedArcSealersFrom,
} from "../../../cli/commands/smtp.ts";
import {
  optionReader,
  parseFlags,
  positiveInteger,
  postgresUrl,
  trustedProxies,
} from "../../../cli/options.ts";

describe("optionReader", () => {
  it("prefers the flag over the environment variable", () => {
    const opt = optionReader({ listen: "127.0.0.1:1" }, { MAILPLANE_LISTEN: "127.0.0.1:2" });
    expect(opt("listen", "MAILPLANE_LISTEN")).toBe("127.0.0.1:1");
  });

  it("falls back to the environment variable, and an empty one counts as unset", () => {
    const opt = optionReader({}, { MAILPLANE_LISTEN: "127.0.0.1:2", MAILPLANE_RATE_LIMIT: "" });
    expect(opt("listen", "MAILPLANE_LISTEN")).toBe("127.0.0.1:2");
    expect(opt("rate-limit", "MAILPLANE_RATE_LIMIT")).toBeUndefined();
    expect(opt("mx-host", "MAILPLANE_MX_HOST")).toBeUndefined();
  });

  it("reads a boolean flag that is set as 1", () => {
    const opt = optionReader({ "no-dns": true }, { MAILPLANE_SMTP_NO_DNS: "0" });
    expect(opt("no-dns", "MAILPLANE_SMTP_NO_DNS")).toBe("1");
  });
});

describe("parseFlags", () => {
  it("rejects unknown flags and positionals as usage errors", () => {
    expect(() => parseFlags(["--nope"], { out: { type: "string" } })).toThrow(UsageError);
    expect(() => parseFlags(["extra"], { out: { type: "string" } })).toThrow(UsageError);
    expect(parseFlags(["--out", "x"], { out: { type: "string" } })).toEqual({ out: "x" });
  });
});

describe("postgresUrl", () => {
  it("accepts postgres:// and postgresql:// URLs, treats empty as none and refuses others", () => {
    expect(postgresUrl("postgresql://u@h/db")).toBe("postgresql://u@h/db");
    expect(postgresUrl("")).toBeUndefined();
    expect(() => postgresUrl("mysql://u@h/db")).toThrow(/postgres:\/\//);
  });
});

describe("positiveInteger and --sender-rate", () => {
  it("reads caps as whole numbers ≥ 1 and refuses anything else naming the flag", () => {
    expect(positiveInteger("max-recipients", "100")).toBe(100);
    expect(positiveInteger("max-recipients", undefined)).toBeUndefined();
    for (const bad of ["0", "-1", "1.5", "", "ten"]) {
      expect(() => positiveInteger("max-recipients", bad)).toThrow(
        /^--max-recipients must be a whole number ≥ 1/,
      );
    }
  });

  it("reads <messages>/<seconds> or off", () => {
    expect(senderRateFrom("300/3600")).toEqual({ messages: 300, seconds: 3600 });
    expect(senderRateFrom("off")).toBe(false);
    expect(senderRateFrom(undefined)).toBeUndefined();
    expect(() => senderRateFrom("0/60")).toThrow(/^--sender-rate must be/);
    expect(() => senderRateFrom("300")).toThrow(/^--sender-rate must be/);
  });
});

describe("smtpOptionsFrom: the caps reach the engine's options", () => {
  it("maps each cap flag, else its MAILPLANE_SMTP_* variable, and leaves unset ones to the engine's defaults", () => {
    const opt = optionReader(
      { "max-connections": "500", "max-recipients": "50", "sender-rate": "off" },
      { MAILPLANE_SMTP_MAX_CONNECTIONS_PER_IP: "20", MAILPLANE_SMTP_MAX_EXPANSION: "200" },
    );
    const options = smtpOptionsFrom(opt, { smtpListen: "127.0.0.1:0", submissionListen: "off" });
    expect(options).toMatchObject({
      maxConnections: 500,
      maxConnectionsPerIp: 20,
      maxRecipients: 50,
      maxExpansion: 200,
      senderRate: false,
    });
    const none = smtpOptionsFrom(optionReader({}, {}), {
      smtpListen: "127.0.0.1:0",
      submissionListen: "off",
    });
    for (const key of [
      "maxConnections",
      "maxConnectionsPerIp",
      "maxRecipients",
      "maxExpansion",
      "senderRate",
    ]) {
      expect(none).not.toHaveProperty(key);
    }
  });

  it("refuses a bad cap as a usage error naming the flag", () => {
    expect(() =>
      smtpOptionsFrom(optionReader({ "max-expansion": "0" }, {}), {
        smtpListen: "127.0.0.1:0",
        submissionListen: "off",
      }),
    ).toThrow(/--max-expansion must be a whole number ≥ 1/);
  });
});

describe("--dns-cache-entries and its lifetimes", () => {
  const listeners = { smtpListen: "127.0.0.1:0", submissionListen: "off" };
  it("is on with the engine's defaults, off with `off`, and takes a count and seconds from flags or MAILPLANE_DNS_CACHE_*", () => {
    expect(smtpOptionsFrom(optionReader({}, {}), listeners).dnsCache).toEqual({});
    expect(smtpOptionsFrom(optionReader({ "dns-cache-entries": "off" }, {}), listeners).dnsCache).toBe(false);
    const opt = optionReader(
      { "dns-cache-entries": "500" },
      { MAILPLANE_DNS_CACHE_TTL: "120", MAILPLANE_DNS_CACHE_NEGATIVE_TTL: "10" },
    );
    expect(smtpOptionsFrom(opt, listeners).dnsCache).toEqual({
      maxEntries: 500,
      ttlMs: 120_000,
      negativeTtlMs: 10_000,
    });
  });

  it("refuses a bad count or lifetime naming the flag", () => {
    expect(() => dnsCacheFrom("0", undefined, undefined)).toThrow(
      /^--dns-cache-entries must be a whole number ≥ 1/,
    );
    expect(() => dnsCacheFrom(undefined, "5m", undefined)).toThrow(
      /^--dns-cache-ttl must be a whole number ≥ 1/,
    );
    expect(() => dnsCacheFrom(undefined, undefined, "-1")).toThrow(
      /^--dns-cache-negative-ttl must be a whole number ≥ 1/,
    );
  });
});

describe("--trusted-arc-sealers", () => {
  const listeners = { smtpListen: "127.0.0.1:0", submissionListen: "off" };
  it("is empty by default and reads a comma list from the flag or MAILPLANE_TRUSTED_ARC_SEALERS, lower-cased", () => {
    expect(smtpOptionsFrom(optionReader({}, {}), listeners)).not.toHaveProperty("trustedArcSealers");
    expect(
      smtpOptionsFrom(
        optionReader({ "trusted-arc-sealers": "Lists.Example.org, fwd.example" }, {}),
        listeners,
      ).trustedArcSealers,
    ).toEqual(["lists.example.org", "fwd.example"]);
    expect(
      smtpOptionsFrom(optionReader({}, { MAILPLANE_TRUSTED_ARC_SEALERS: "env.example" }), listeners)
        .trustedArcSealers,
    ).toEqual(["env.example"]);
  });

  it("refuses an entry that is not a domain, naming the flag and the entry", () => {
    expect(() => trustedArcSealersFrom("ok.example,not a domain")).toThrow(
      /^--trusted-arc-sealers: "not a domain" is not a domain name/,
    );
    expect(() => smtpOptionsFrom(optionReader({ "trusted-arc-sealers": "x" }, {}), listeners)).toThrow(
      /--trusted-arc-sealers/,
    );
  });
});

describe("--recipient-callout and its cache lifetimes", () => {
  const listeners = { smtpListen: "127.0.0.1:0", submissionListen: "off" };
  it("is on by default with the engine's lifetimes, off with `off`, and takes seconds from flags or MAILPLANE_SMTP_CALLOUT_*", () => {
    expect(smtpOptionsFrom(optionReader({}, {}), listeners).callout).toEqual({});
    expect(smtpOptionsFrom(optionReader({ "recipient-callout": "off" }, {}), listeners).callout).toBe(false);
    const opt = optionReader(
      { "callout-negative-ttl": "60" },
      { MAILPLANE_SMTP_RECIPIENT_CALLOUT: "on", MAILPLANE_SMTP_CALLOUT_POSITIVE_TTL: "600" },
    );
    expect(smtpOptionsFrom(opt, listeners).callout).toEqual({
      positiveTtlMs: 600_000,
      negativeTtlMs: 60_000,
    });
  });

  it("refuses a bad value as an error naming the flag", () => {
    expect(() => calloutFrom("yes", undefined, undefined)).toThrow(/--recipient-callout must be on or off/);
    expect(() => calloutFrom(undefined, "0", undefined)).toThrow(
      /--callout-positive-ttl must be a whole number ≥ 1/,
    );
    expect(() =>
      smtpOptionsFrom(optionReader({}, { MAILPLANE_SMTP_CALLOUT_NEGATIVE_TTL: "soon" }), listeners),
    ).toThrow(/--callout-negative-ttl/);
  });
});

describe("trustedProxies", () => {
  it("reads comma-separated addresses and CIDR blocks, none when unset", () => {
    expect(trustedProxies("10.0.0.5, 2001:db8::/64,")).toEqual(["10.0.0.5", "2001:db8::/64"]);
    expect(trustedProxies(undefined)).toEqual([]);
  });

  it("refuses an entry that is no address or block, naming the flag and the entry", () => {
    expect(() => trustedProxies("10.0.0.5,proxy.example")).toThrow(UsageError);
    expect(() => trustedProxies("10.0.0.5,proxy.example")).toThrow(/--trusted-proxies.*proxy\.example/);
  });
});
