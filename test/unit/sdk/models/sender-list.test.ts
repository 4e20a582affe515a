/** SenderList: entry spellings, recipient-list completion and the ID. */
import { describe, expect, it } from "vitest";
import { parseSenderListName, SenderListSpec, senderListId } from "../../../../sdk/src/models/sender-list.ts";
import { issues } from "./helpers.ts";

describe("SenderListSpec", () => {
  it("normalises every spelling of a whole domain to *@domain and sorts the set", () => {
    const spec = SenderListSpec.parse({
      domain: "example.com",
      kind: "block",
      target: "sender",
      entries: ["Spam.example", "@spam.example", "*@SPAM.example", "Bob@Example.net", "bücher.de"],
    });
    expect(spec.entries).toEqual(["*@spam.example", "*@xn--bcher-kva.de", "bob@example.net"]);
    expect(senderListId(spec)).toBe("example.com/sender-lists/block-sender");
  });

  it("defaults to an empty list", () => {
    expect(SenderListSpec.parse({ domain: "example.com", kind: "allow", target: "sender" }).entries).toEqual(
      [],
    );
  });

  it("completes local parts and * with the domain on recipient lists", () => {
    const spec = SenderListSpec.parse({
      domain: "example.com",
      kind: "allow",
      target: "recipient",
      entries: ["NoFilter", "abuse@example.com", "*", "nofilter@example.com"],
    });
    expect(spec.entries).toEqual(["*@example.com", "abuse@example.com", "nofilter@example.com"]);
  });

  it("rejects recipient entries at another domain", () => {
    expect(
      issues(SenderListSpec, {
        domain: "example.com",
        kind: "block",
        target: "recipient",
        entries: ["x@example.org"],
      }),
    ).toEqual([
      "entries[0]: recipient entries must be at example.com (domain aliases are rewritten to it before matching)",
    ]);
  });

  it("rejects bare local parts on sender lists", () => {
    expect(
      issues(SenderListSpec, {
        domain: "example.com",
        kind: "block",
        target: "sender",
        entries: ["ok@example.org", "nofilter"],
      }),
    ).toEqual([
      "entries[1]: must be an address (user@example.org) or a domain (example.org, @example.org, *@example.org)",
    ]);
  });

  it("rejects an unknown kind or target", () => {
    expect(issues(SenderListSpec, { domain: "example.com", kind: "deny", target: "sender" })[0]).toMatch(
      /^kind: /,
    );
  });
});

describe("parseSenderListName", () => {
  it("parses the four list names and refuses others", () => {
    expect(parseSenderListName("allow-recipient")).toEqual({ kind: "allow", target: "recipient" });
    expect(parseSenderListName("block-sender")).toEqual({ kind: "block", target: "sender" });
    expect(parseSenderListName("deny-sender")).toBeUndefined();
    expect(parseSenderListName("block-sender-x")).toBeUndefined();
  });
});
