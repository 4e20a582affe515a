/** The Domain resource's `pulumi up` warning while a name is unverified: what to publish, per name. */
import { describe, expect, it } from "vitest";
import { pendingVerificationMessage } from "../../../provider/src/resources/domain.ts";
import type { Domain } from "../../../sdk/src/models/domain.ts";

const records: Domain["dnsRecords"] = [
  { type: "MX", name: "example.com", value: "mx.mailplane.test", priority: 10, purpose: "mx" },
  {
    type: "TXT",
    name: "_mailplane-verify.example.com",
    value: "mailplane-verification=aaaa",
    purpose: "verification",
  },
  {
    type: "TXT",
    name: "_mailplane-verify.example.org",
    value: "mailplane-verification=bbbb",
    purpose: "verification",
  },
];

describe("pendingVerificationMessage", () => {
  it("names the TXT record to publish for each unverified name, and the last check's words", () => {
    const message = pendingVerificationMessage(
      [
        {
          name: "example.com",
          status: "verified",
          method: "dns",
          verifiedAt: "2026-01-01T00:00:00Z",
          lastCheck: null,
        },
        {
          name: "example.org",
          status: "pending",
          method: null,
          verifiedAt: null,
          lastCheck: {
            at: "2026-01-01T00:00:00Z",
            result: "missing",
            detail: "no TXT record at _mailplane-verify.example.org",
          },
        },
      ],
      records,
    )!;
    expect(message).toContain(
      'example.org: publish _mailplane-verify.example.org TXT "mailplane-verification=bbbb"',
    );
    expect(message).toContain("(last check: no TXT record at _mailplane-verify.example.org)");
    expect(message).not.toContain("aaaa");
  });

  it("says nothing when every name is verified or the outputs are not known", () => {
    const verified = {
      status: "verified",
      method: "admin",
      verifiedAt: "2026-01-01T00:00:00Z",
      lastCheck: null,
    } as const;
    expect(pendingVerificationMessage([{ name: "example.com", ...verified }], records)).toBeUndefined();
    expect(pendingVerificationMessage(undefined, undefined)).toBeUndefined();
  });
});
