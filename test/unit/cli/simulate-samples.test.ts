/** The samples file of plan-summary --simulate: defaults, and errors that name the file, line and path. */
import { describe, expect, it } from "vitest";
import { parseSamples, SampleFileError } from "../../../cli/simulate/samples.ts";

function errorsOf(text: string): string[] {
  try {
    parseSamples(text, "s.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(SampleFileError);
    return (err as Error).message.split("\n");
  }
  throw new Error("the file was accepted");
}

describe("samples file", () => {
  it("accepts one or several recipients and fills the defaults", () => {
    const samples = parseSamples(
      [
        "samples:",
        "  - from: Offers@Spam.Example",
        "    to: linus@example.org",
        "  - from: ''",
        "    to: [a@example.org, b@example.org]",
        "    clientIp: 2001:db8::1",
        "    attachments: [x.js]",
        "    size: 10",
        "",
      ].join("\n"),
    );
    expect(samples[0]).toEqual({
      from: "offers@spam.example",
      to: ["linus@example.org"],
      clientIp: "192.0.2.1",
      helo: "client.example",
      headers: {},
      attachments: [],
      size: 2048,
    });
    expect(samples[1]).toMatchObject({ from: "", to: ["a@example.org", "b@example.org"], size: 10 });
  });

  it("names the line and path of a bad value", () => {
    expect(
      errorsOf(
        ["samples:", "  - from: a@b.example", "    to: linus@example.org", "    size: -3", ""].join("\n"),
      ),
    ).toEqual(["s.yaml:4: samples[0].size: Too small: expected number to be >=0"]);
  });

  it("reports every issue at once, a bad list item at its own line", () => {
    expect(
      errorsOf(
        [
          "samples:",
          "  - from: a@b.example",
          "    to:",
          "      - ok@example.org",
          "      - not-an-address",
          "  - from: a@b.example",
          "    to: x@example.org",
          "    clientIp: 300.1.1.1",
          "",
        ].join("\n"),
      ),
    ).toEqual([
      "s.yaml:5: samples[0].to[1]: must be an address local@domain",
      "s.yaml:8: samples[1].clientIp: must be an IPv4 or IPv6 address",
    ]);
  });

  it("reports a missing field at the sample that lacks it and an unknown field at its sample", () => {
    expect(
      errorsOf(
        ["samples:", "  - from: a@b.example", "  - to: x@example.org", "    attachment: [a.exe]", ""].join(
          "\n",
        ),
      ),
    ).toEqual([
      "s.yaml:2: samples[0].to: required: one recipient address or a list",
      "s.yaml:3: samples[1].from: required: the envelope sender",
      's.yaml:3: samples[1]: Unrecognized key: "attachment"',
    ]);
  });

  it("names the line of a YAML syntax error", () => {
    const [first] = errorsOf(["samples:", "  - from: a@b.example", "    to: [x@example.org", ""].join("\n"));
    expect(first).toMatch(/^s\.yaml:[34]: /);
  });

  it("refuses a file without samples", () => {
    expect(errorsOf("samples: []\n")).toEqual(["s.yaml:1: samples: needs at least one sample"]);
    expect(errorsOf("")).toEqual(["s.yaml:1: Invalid input: expected object, received null"]);
  });
});
