/** Virus scanning's pure parts: the --clamd address, clamd's INSTREAM answers, the `virus` verdict and its place among the DATA rules. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { clamdFrom } from "../../../cli/commands/scanner.ts";
import { type ClamdScanner, clamdAddress, verdictOf } from "../../../platform/smtp/content/clamav.ts";
import { MessageScanner } from "../../../platform/smtp/content/scan.ts";
import { dataVerdict } from "../../../platform/smtp/phases/data.ts";
import { buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";

const MESSAGE =
  "From: bob@sender.example\r\nTo: alice@example.com\r\nDate: Sat, 31 Jan 2026 12:00:00 +0000\r\nMessage-ID: <m1@sender.example>\r\nSubject: invoice\r\n\r\nsee attached\r\n";

async function virusVerdict(filterSettings: Record<string, unknown>, virus: string | null) {
  const snap = buildPolicySnapshot({
    revision: 1,
    accounts: [
      {
        id: "a",
        domains: [{ name: "example.com", verified: true }],
        filterSettings: [{ scope: "example.com", ...filterSettings }],
      },
    ],
  });
  const scanner = new MessageScanner();
  scanner.write(Buffer.from(MESSAGE));
  return dataVerdict({
    domain: snap.domains.get("example.com")!,
    filtered: true,
    authenticated: false,
    sender: "bob@sender.example",
    recipients: ["alice@example.com"],
    remoteAddress: "192.0.2.10",
    scan: await scanner.end(),
    spf: { result: "none" },
    virus,
  });
}

describe("clamdAddress", () => {
  it("reads a socket path, host:port and [IPv6]:port", () => {
    expect(clamdAddress("/run/clamav/clamd.ctl")).toEqual({ path: "/run/clamav/clamd.ctl" });
    expect(clamdAddress("127.0.0.1:3310")).toEqual({ host: "127.0.0.1", port: 3310 });
    expect(clamdAddress("clamd.internal:3310")).toEqual({ host: "clamd.internal", port: 3310 });
    expect(clamdAddress("[::1]:3310")).toEqual({ host: "::1", port: 3310 });
  });

  it("refuses a relative path, a missing or out-of-range port, naming --clamd", () => {
    for (const bad of ["clamd.sock", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:3310", ""]) {
      expect(() => clamdAddress(bad)).toThrow(/--clamd must be a socket path/);
    }
  });

  it("is off unless --clamd / MAILPLANE_CLAMD is set, and a bad value is a usage error", () => {
    expect(clamdFrom(() => undefined)).toBeUndefined();
    expect(clamdFrom(() => "off")).toBeUndefined();
    expect((clamdFrom(() => "127.0.0.1:3310") as ClamdScanner).description).toBe("127.0.0.1:3310");
    expect(clamdFrom(() => "auto")).toBe("auto");
    expect(() => clamdFrom(() => "clamd.sock")).toThrow(UsageError);
  });
});

describe("verdictOf (clamd's INSTREAM answer)", () => {
  it("reads OK as clean and `<name> FOUND` as infected", () => {
    expect(verdictOf("stream: OK")).toEqual({ virus: null });
    expect(verdictOf("stream: Eicar-Signature FOUND")).toEqual({ virus: "Eicar-Signature" });
  });

  it("treats an error or an empty answer as no verdict (the caller defers)", () => {
    expect(verdictOf("INSTREAM size limit exceeded. ERROR")).toBeNull();
    expect(verdictOf("")).toBeNull();
    expect(verdictOf("stream: FOUND")).toBeNull();
  });
});

describe("dataVerdict with a virus", () => {
  it("quarantines as `virus` and answers 550 5.7.1 by default", async () => {
    expect(await virusVerdict({}, "Eicar-Signature")).toMatchObject({
      action: "accept",
      value: {
        disposition: "quarantine",
        classification: "virus",
        reason: "virus Eicar-Signature",
        reply: { code: 550, enhanced: "5.7.1" },
      },
    });
  });

  it("quarantines a virus even with the quarantine off (which only delivers spam tagged)", async () => {
    const v = await virusVerdict({ quarantineEnabled: false }, "Eicar-Signature");
    expect(v).toMatchObject({
      action: "accept",
      value: { disposition: "quarantine", classification: "virus" },
    });
  });

  it("answers 250 but still holds the message when the quarantine response is accept", async () => {
    const v = await virusVerdict({ quarantineResponse: "accept" }, "Eicar-Signature");
    expect(v).toMatchObject({ action: "accept", value: { disposition: "quarantine", reply: "accept" } });
  });

  it("cannot inject header fields or reply lines through the signature name", async () => {
    const v = await virusVerdict({}, "Evil\r\nBcc: victim@example.net");
    if (v.action !== "accept") throw new Error("expected a quarantine");
    const header = v.value.edits.prepend.find((h) => h.startsWith("X-Mailplane-Virus:"))!;
    expect(header).toBe("X-Mailplane-Virus: Evil??Bcc:?victim@example.net");
    expect(v.value.reason).toBe("virus Evil??Bcc:?victim@example.net");
  });

  it("delivers a clean message (no virus) as clean", async () => {
    expect(await virusVerdict({}, null)).toMatchObject({
      value: { disposition: "deliver", classification: "clean" },
    });
  });
});
