/** Rule dmarc-published: a DMARC record that enforces, for each Domain's name and domain alias. */
import { describe, expect, it } from "vitest";
import { dmarcFindings, dmarcPublished } from "../../../policy/dmarc.ts";
import { type DnsRecord, dnsRecordsFor } from "../../../sdk/src/models/domain.ts";
import { policyResource, validateStack, withUnknown } from "./support.ts";

const records = (name: string, aliases: string[]) =>
  dnsRecordsFor({ name, aliases }, { mxHost: "mx.mailplane.test", dkimPublicKey: "MIIB" });
const dmarc = (name: string, value: string): DnsRecord => ({
  type: "TXT",
  name: `_dmarc.${name}`,
  value,
  purpose: "dmarc",
});

describe("dmarc-published", () => {
  it("accepts the records the platform computes for a domain and its aliases", () => {
    expect(dmarcFindings("example.org", ["example.info"], records("example.org", ["example.info"]))).toEqual(
      [],
    );
  });

  it("refuses a name without a _dmarc record", () => {
    const withoutAlias = records("example.org", []);
    expect(dmarcFindings("example.org", ["example.info"], withoutAlias)).toEqual([
      "example.info has no DMARC record (_dmarc.example.info)",
    ]);
  });

  it("refuses p=none and a record without p=; accepts p=reject", () => {
    expect(dmarcFindings("example.org", [], [dmarc("example.org", "v=DMARC1; p=none")])).toEqual([
      "example.org's DMARC record has p=none; the baseline asks for quarantine or reject",
    ]);
    expect(
      dmarcFindings("example.org", [], [dmarc("example.org", "v=DMARC1; rua=mailto:a@example.org")]),
    ).toEqual(["example.org's DMARC record has p=(missing); the baseline asks for quarantine or reject"]);
    expect(dmarcFindings("example.org", [], [dmarc("example.org", "v=DMARC1; p=reject")])).toEqual([]);
  });

  it("does not take a TXT record at _dmarc that is not DMARC (RFC 7489 §6.4: v=DMARC1 first)", () => {
    expect(dmarcFindings("example.org", [], [dmarc("example.org", "p=reject; v=DMARC1")])).toEqual([
      "example.org has no DMARC record (_dmarc.example.org)",
    ]);
  });

  it("reports each Domain of the stack against its URN, and skips one whose records are unknown in preview", async () => {
    const good = policyResource("Domain", "good", {
      name: "good.org",
      aliases: [],
      dnsRecords: records("good.org", []),
    });
    const bad = policyResource("Domain", "bad", {
      name: "bad.org",
      aliases: [],
      dnsRecords: [dmarc("bad.org", "v=DMARC1; p=none")],
    });
    const pending = policyResource(
      "Domain",
      "new",
      withUnknown({ name: "new.org", aliases: [], dnsRecords: [] }, ["dnsRecords"]),
    );
    expect(await validateStack(dmarcPublished, [good, pending, bad])).toEqual([
      {
        message:
          "Domain bad.org: bad.org's DMARC record has p=none; the baseline asks for quarantine or reject.",
        urn: bad.urn,
      },
    ]);
  });
});
