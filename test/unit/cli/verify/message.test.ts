/** `mailplane verify` on the wire: how probe messages are marked and written, and how SMTP replies are read. */
import { describe, expect, it } from "vitest";
import { GTUBE, PROBE_HEADER, probeMessage, probeSubject } from "../../../../cli/verify/message.ts";
import { deriveProbes } from "../../../../cli/verify/probes.ts";
import { dataBlock, parseReply } from "../../../../cli/verify/smtp-client.ts";
import { companyTenant, RUN } from "./fixtures.ts";

const { probes } = deriveProbes(companyTenant(), { runId: RUN });
const userProbe = probes.find((p) => p.kind === "user-receives")!;
const spamProbe = probes.find((p) => p.kind === "quarantine")!;
const date = new Date("2025-03-01T09:30:00Z");

describe("probeMessage", () => {
  it("marks the message with the probe header and a subject naming the probe", () => {
    const text = probeMessage(userProbe, date);
    expect(text).toContain(`\n${PROBE_HEADER}: mpv-r1-p1\n`);
    expect(text).toContain("\nSubject: [mailplane verify mpv-r1-p1] user ada@acme.example receives\n");
    expect(text).toContain("\nDate: Sat, 01 Mar 2025 09:30:00 +0000\n");
    expect(text).toContain("\nMessage-ID: <mpv-r1-p1@verify.mailplane.invalid>\n");
    expect(text).not.toContain(GTUBE);
  });

  it("carries GTUBE only in the quarantine probe", () => {
    expect(probeMessage(spamProbe, date)).toContain(`\n${GTUBE}\n`);
  });

  it("keeps the subject ASCII", () => {
    expect(probeSubject({ token: "mpv-r1-p7", checks: "domain alias a.example → b.example" })).toBe(
      "[mailplane verify mpv-r1-p7] domain alias a.example -> b.example",
    );
  });
});

describe("the SMTP client's wire format", () => {
  it("reads the code, the RFC 3463 enhanced code and the text of a reply", () => {
    expect(parseReply(["550 5.7.1 Joe no longer works here"])).toEqual({
      code: 550,
      enhanced: "5.7.1",
      text: "Joe no longer works here",
      line: "550 5.7.1 Joe no longer works here",
    });
    expect(parseReply(["250 Accepted"])).toMatchObject({ code: 250, enhanced: null, text: "Accepted" });
  });

  it("joins a multi-line reply", () => {
    expect(parseReply(["550-5.1.1 first line", "550 second line"])).toMatchObject({
      code: 550,
      enhanced: "5.1.1",
      text: "first line second line",
    });
  });

  it("writes CRLF lines, dot-stuffs lines that start with a dot and ends with the lone dot", () => {
    expect(dataBlock("Subject: x\n\n.hidden\nlast\n")).toBe("Subject: x\r\n\r\n..hidden\r\nlast\r\n.\r\n");
  });
});
