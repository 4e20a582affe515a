/** FilterSettings: the seeds' defaults, threshold order, extension and CIDR normalisation. */
import { describe, expect, it } from "vitest";
import {
  defaultFilterSettings,
  FilterSettingsPatch,
  FilterSettingsSpec,
  filterSettingsId,
} from "../../../../sdk/src/models/filter-settings.ts";
import { issues } from "./helpers.ts";

describe("FilterSettingsSpec", () => {
  it("defaults to the SpamPanel manual's values", () => {
    expect(defaultFilterSettings("example.com")).toEqual({
      scope: "example.com",
      quarantineEnabled: true,
      quarantineThreshold: 0.9,
      tagThreshold: 0.1,
      unsureSubjectNotation: "[SPAM?]",
      quarantineResponse: "reject",
      quarantineDays: 28,
      skipSpf: false,
      spfExemptNetworks: [],
      skipLineLengthCheck: false,
      blockedExtensions: ["bat", "btm", "cmd", "com", "cpl", "dll", "exe", "msi", "pif"],
      sizeLimitMb: 0,
      oversizedAction: "reject",
      dmarcPolicy: "follow",
      trustedArcSealers: [],
    });
  });

  it("accepts account as the scope and IDs both forms", () => {
    expect(filterSettingsId(FilterSettingsSpec.parse({ scope: "Account" }))).toBe("account/filter-settings");
    expect(filterSettingsId(FilterSettingsSpec.parse({ scope: "Example.com" }))).toBe(
      "example.com/filter-settings",
    );
  });

  it("rejects a scope that is neither account nor a domain", () => {
    expect(issues(FilterSettingsSpec, { scope: "everyone" })).toEqual([
      'scope: must be "account" (the account-wide default) or a domain name such as example.com',
    ]);
  });

  it("requires tagThreshold below quarantineThreshold, reported on tagThreshold", () => {
    expect(
      issues(FilterSettingsSpec, { scope: "account", tagThreshold: 0.9, quarantineThreshold: 0.9 }),
    ).toEqual(["tagThreshold: must be below quarantineThreshold (0.9)"]);
    expect(issues(FilterSettingsSpec, { scope: "account", quarantineThreshold: 0.05 })).toEqual([
      "tagThreshold: must be below quarantineThreshold (0.05)",
    ]);
  });

  it("rejects thresholds outside 0–1", () => {
    expect(issues(FilterSettingsSpec, { scope: "account", quarantineThreshold: 1.5 })).toEqual([
      "quarantineThreshold: Too big: expected number to be <=1",
    ]);
  });

  it("normalises extensions written with dots, spaces and capitals", () => {
    const spec = FilterSettingsSpec.parse({
      scope: "account",
      blockedExtensions: [".EXE ", "js", "exe", "..Scr"],
    });
    expect(spec.blockedExtensions).toEqual(["exe", "js", "scr"]);
  });

  it("rejects extensions that are not 1–10 letters or digits, with the index", () => {
    expect(
      issues(FilterSettingsSpec, { scope: "account", blockedExtensions: ["exe", "tar.gz", "averylongext"] }),
    ).toEqual([
      "blockedExtensions[1]: must be a file extension of 1–10 letters or digits, without the dot (e.g. exe)",
      "blockedExtensions[2]: must be a file extension of 1–10 letters or digits, without the dot (e.g. exe)",
    ]);
  });

  it("canonicalises SPF-exempt networks so one network is one entry", () => {
    const spec = FilterSettingsSpec.parse({
      scope: "account",
      spfExemptNetworks: ["192.0.2.7", "192.0.2.7/32", "10.9.8.7/8", "2001:DB8::/32"],
    });
    expect(spec.spfExemptNetworks).toEqual(["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
  });

  it("rejects invalid networks with the index", () => {
    expect(
      issues(FilterSettingsSpec, { scope: "account", spfExemptNetworks: ["10.0.0.0/33", "mail.example"] }),
    ).toEqual([
      "spfExemptNetworks[0]: must be an IP address or CIDR block such as 192.0.2.0/24 or 2001:db8::/32",
      "spfExemptNetworks[1]: must be an IP address or CIDR block such as 192.0.2.0/24 or 2001:db8::/32",
    ]);
  });

  it("normalises trustedArcSealers to a sorted set of lower-case punycode domains and rejects non-domains with the index", () => {
    const spec = FilterSettingsSpec.parse({
      scope: "example.com",
      trustedArcSealers: ["Lists.Example.org", "bücher.example", "lists.example.org."],
    });
    expect(spec.trustedArcSealers).toEqual(["lists.example.org", "xn--bcher-kva.example"]);
    expect(
      issues(FilterSettingsSpec, { scope: "account", trustedArcSealers: ["ok.example", "not a domain"] }),
    ).toEqual([
      "trustedArcSealers[1]: must be a domain name such as example.com (letters, digits, hyphens; at least two labels)",
    ]);
  });

  it("rejects a negative size limit and a multi-line notation", () => {
    expect(
      issues(FilterSettingsSpec, { scope: "account", sizeLimitMb: -1, unsureSubjectNotation: "a\nb" }),
    ).toEqual([
      "unsureSubjectNotation: must be one line without control characters",
      "sizeLimitMb: Too small: expected number to be >=0",
    ]);
  });
});

describe("FilterSettingsPatch", () => {
  it("leaves absent fields absent", () => {
    expect(FilterSettingsPatch.parse({ quarantineDays: 14 })).toEqual({ quarantineDays: 14 });
  });
});
