/** The DKIM records of a Domain's dnsRecords: every published selector, always the one mail is signed with. */
import { describe, expect, it } from "vitest";
import { type DomainDkimState, domainDnsRecords } from "../../../platform/api/domains/dns.ts";

const platform = { selector: "mailplane", publicKey: "PLATFORM", privateKeyPem: "unused" };
const spec = { name: "example.com", aliases: ["example.org"] };
const dkim = (state: DomainDkimState | null) =>
  domainDnsRecords(spec, "mx.mailplane.test", platform, state)
    .filter((r) => r.purpose === "dkim")
    .map((r) => `${r.name} ${r.value}`);
const key = (selector: string) => ({
  selector,
  publicKey: selector.toUpperCase(),
  createdAt: "2026-12-03T00:00:00Z",
});

describe("DKIM records of a domain", () => {
  it("publishes the platform key for a domain created before per-domain keys (it is what signs)", () => {
    expect(dkim(null)).toEqual([
      "mailplane._domainkey.example.com v=DKIM1; k=rsa; p=PLATFORM",
      "mailplane._domainkey.example.org v=DKIM1; k=rsa; p=PLATFORM",
    ]);
  });

  it("keeps the platform key published beside a pending key until one of the domain's own is active", () => {
    expect(dkim({ keys: [key("mpa")], active: null })).toEqual([
      "mailplane._domainkey.example.com v=DKIM1; k=rsa; p=PLATFORM",
      "mpa._domainkey.example.com v=DKIM1; k=rsa; p=MPA",
      "mailplane._domainkey.example.org v=DKIM1; k=rsa; p=PLATFORM",
      "mpa._domainkey.example.org v=DKIM1; k=rsa; p=MPA",
    ]);
  });

  it("publishes only the domain's own keys (retired, active, pending) once one is active", () => {
    expect(dkim({ keys: [key("mpa"), key("mpb"), key("mpc")], active: "mpb" })).toEqual([
      "mpa._domainkey.example.com v=DKIM1; k=rsa; p=MPA",
      "mpb._domainkey.example.com v=DKIM1; k=rsa; p=MPB",
      "mpc._domainkey.example.com v=DKIM1; k=rsa; p=MPC",
      "mpa._domainkey.example.org v=DKIM1; k=rsa; p=MPA",
      "mpb._domainkey.example.org v=DKIM1; k=rsa; p=MPB",
      "mpc._domainkey.example.org v=DKIM1; k=rsa; p=MPC",
    ]);
  });
});
