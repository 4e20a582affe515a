/** Domain: defaults, normalisation and rejections with their paths. */
import { describe, expect, it } from "vitest";
import {
  Domain,
  DomainPatch,
  DomainSpec,
  dnsRecordsFor,
  domainId,
} from "../../../../sdk/src/models/domain.ts";
import { issues } from "./helpers.ts";

describe("DomainSpec", () => {
  it("fills the defaults from the seeds", () => {
    expect(DomainSpec.parse({ name: "example.com" })).toEqual({
      name: "example.com",
      aliases: [],
      primaryContact: null,
      adminContact: null,
      notificationFrom: null,
      timezone: "UTC",
      logRetentionDays: 28,
      maxRetryDays: 4,
      maxBouncesPerHour: 100,
      rejectedLocalPartChars: "",
      logInvalidRecipients: false,
      catchAll: null,
      localRecipientsOnly: false,
      localRecipients: [],
    });
  });

  it("normalises case, IDN and set order so two spellings are one declaration", () => {
    const a = DomainSpec.parse({
      name: "Bücher.DE",
      aliases: ["Example.ORG", "example.net", "example.org"],
      primaryContact: "Admin@Bücher.de",
      rejectedLocalPartChars: "|%!%",
      localRecipients: ["Bob", "alice@xn--bcher-kva.de", "alice"],
    });
    const b = DomainSpec.parse({
      name: "xn--bcher-kva.de",
      aliases: ["example.net", "example.org"],
      primaryContact: "admin@xn--bcher-kva.de",
      rejectedLocalPartChars: "!%|",
      localRecipients: ["alice", "bob"],
    });
    expect(a).toEqual(b);
    expect(a.name).toBe("xn--bcher-kva.de");
    expect(a.aliases).toEqual(["example.net", "example.org"]);
    expect(a.localRecipients).toEqual(["alice", "bob"]);
    expect(a.rejectedLocalPartChars).toBe("!%|");
  });

  it("rejects a bad name with its path", () => {
    expect(issues(DomainSpec, { name: "localhost" })).toEqual([
      "name: must be a domain name such as example.com (letters, digits, hyphens; at least two labels)",
    ]);
  });

  it("rejects a domain that is its own alias", () => {
    expect(issues(DomainSpec, { name: "example.com", aliases: ["EXAMPLE.com"] })).toEqual([
      "aliases[0]: a domain cannot be an alias of itself",
    ]);
  });

  it("rejects an unknown time zone", () => {
    expect(issues(DomainSpec, { name: "example.com", timezone: "Mars/Olympus" })).toEqual([
      "timezone: must be an IANA time zone name such as Europe/Amsterdam or UTC",
    ]);
  });

  it("rejects bad contacts, retention and retry bounds", () => {
    const lines = issues(DomainSpec, {
      name: "example.com",
      primaryContact: "not-an-address",
      logRetentionDays: 0,
      maxRetryDays: 31,
      maxBouncesPerHour: -1,
    });
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "primaryContact",
      "logRetentionDays",
      "maxRetryDays",
      "maxBouncesPerHour",
    ]);
  });

  it("rejects letters, digits, @ and spaces as rejected local-part characters", () => {
    expect(issues(DomainSpec, { name: "example.com", rejectedLocalPartChars: "%a" })).toEqual([
      "rejectedLocalPartChars: must not contain letters, digits, @ or whitespace (every address needs them)",
    ]);
  });

  it("rejects local recipients at another domain at the index written", () => {
    expect(issues(DomainSpec, { name: "example.com", localRecipients: ["zed", "bob@example.org"] })).toEqual([
      "localRecipients[1]: must be a local part such as alice or an address at example.com",
    ]);
  });

  it("requires a local catch-all to be a local recipient when localRecipientsOnly is on", () => {
    expect(
      issues(DomainSpec, {
        name: "example.com",
        catchAll: "postmaster@example.com",
        localRecipientsOnly: true,
        localRecipients: ["alice"],
      }),
    ).toEqual(["catchAll: with localRecipientsOnly the catch-all's local part must be in localRecipients"]);
  });

  it("rejects unknown fields (typos surface at check time)", () => {
    expect(issues(DomainSpec, { name: "example.com", timeZone: "UTC" })[0]).toMatch(/^: Unrecognized key/);
  });

  it("uses the name as the ID", () => {
    expect(domainId(DomainSpec.parse({ name: "Example.com" }))).toBe("example.com");
  });
});

describe("DomainPatch", () => {
  it("accepts a subset without filling defaults (an absent field stays absent)", () => {
    expect(DomainPatch.parse({ timezone: "Europe/Amsterdam" })).toEqual({ timezone: "Europe/Amsterdam" });
  });

  it("refuses the key field", () => {
    expect(issues(DomainPatch, { name: "example.org" })[0]).toMatch(/Unrecognized key/);
  });
});

describe("Domain (API object)", () => {
  it("carries metadata and DNS records but is built from the same fields", () => {
    const spec = DomainSpec.parse({ name: "example.com", aliases: ["example.org"] });
    const records = dnsRecordsFor(spec, {
      mxHost: "mx.mailplane.test",
      dkimPublicKey: "MIIB",
      verificationToken: (name) => `token-of-${name}`,
    });
    const pending = { status: "pending", method: null, verifiedAt: null, lastCheck: null };
    const object = Domain.parse({
      ...spec,
      id: "example.com",
      etag: '"1"',
      createdAt: "2025-01-01T00:00:00.000Z",
      updatedAt: "2025-01-01T00:00:00.000Z",
      dnsRecords: records,
      verification: [
        { name: "example.com", ...pending },
        { name: "example.org", ...pending },
      ],
    });
    expect(object.dnsRecords.map((r) => `${r.purpose} ${r.name}`)).toEqual([
      "mx example.com",
      "spf example.com",
      "dkim mailplane._domainkey.example.com",
      "dmarc _dmarc.example.com",
      "verification _mailplane-verify.example.com",
      "mx example.org",
      "spf example.org",
      "dkim mailplane._domainkey.example.org",
      "dmarc _dmarc.example.org",
      "verification _mailplane-verify.example.org",
    ]);
    expect(object.dnsRecords[4]).toMatchObject({
      type: "TXT",
      value: "mailplane-verification=token-of-example.com",
    });
    expect(object.verification.map((v) => v.status)).toEqual(["pending", "pending"]);
  });
});
