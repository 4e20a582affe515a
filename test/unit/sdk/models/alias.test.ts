/** Alias: the three actions, set normalisation, catch-all and the self-forward loop. */
import { describe, expect, it } from "vitest";
import { AliasSpec, aliasDomain, aliasId } from "../../../../sdk/src/models/alias.ts";
import { issues } from "./helpers.ts";

describe("AliasSpec", () => {
  it("normalises the address and sorts and de-duplicates the distribution list", () => {
    const spec = AliasSpec.parse({
      address: "Sales@Example.com",
      action: { type: "forward", to: ["Ken@example.com", "donna@example.com", "ken@EXAMPLE.com"] },
    });
    expect(spec).toEqual({
      address: "sales@example.com",
      action: { type: "forward", to: ["donna@example.com", "ken@example.com"] },
    });
    expect(aliasId(spec)).toBe("sales@example.com");
    expect(aliasDomain(spec)).toBe("example.com");
  });

  it("accepts the catch-all *@domain", () => {
    const spec = AliasSpec.parse({
      address: "*@Example.com",
      action: { type: "forward", to: ["hq@example.com"] },
    });
    expect(spec.address).toBe("*@example.com");
  });

  it("rejects with a custom text", () => {
    const spec = AliasSpec.parse({
      address: "joe@example.com",
      action: { type: "reject", message: "  Joe no longer works here " },
    });
    expect(spec.action).toEqual({ type: "reject", message: "Joe no longer works here" });
  });

  it("refuses reject texts that cannot go into an SMTP reply", () => {
    expect(
      issues(AliasSpec, { address: "joe@example.com", action: { type: "reject", message: "line\r\nbreak" } }),
    ).toEqual(["action.message: must be printable ASCII on one line (it is sent in an SMTP reply)"]);
    expect(
      issues(AliasSpec, { address: "joe@example.com", action: { type: "reject", message: "   " } }),
    ).toEqual(["action.message: must not be empty"]);
  });

  it("fills the auto-reply defaults", () => {
    const spec = AliasSpec.parse({
      address: "feedback@example.com",
      action: { type: "autoReply", subject: "Thanks", body: "We got your message." },
    });
    expect(spec.action).toEqual({
      type: "autoReply",
      subject: "Thanks",
      body: "We got your message.",
      copyTo: [],
      periodDays: 1,
    });
  });

  it("rejects forwarding to itself at the index the user wrote (before sorting)", () => {
    expect(
      issues(AliasSpec, {
        address: "loop@example.com",
        action: { type: "forward", to: ["zed@example.com", "LOOP@example.com"] },
      }),
    ).toEqual(["action.to[1]: an alias cannot forward to itself (mail loop)"]);
  });

  it("rejects an auto-reply copying to itself", () => {
    expect(
      issues(AliasSpec, {
        address: "robot@example.com",
        action: { type: "autoReply", subject: "s", body: "b", copyTo: ["robot@example.com"] },
      }),
    ).toEqual(["action.copyTo[0]: an alias cannot copy to itself (mail loop)"]);
  });

  it("requires at least one destination and valid addresses", () => {
    expect(issues(AliasSpec, { address: "a@example.com", action: { type: "forward", to: [] } })).toEqual([
      "action.to: must list at least one destination",
    ]);
    expect(
      issues(AliasSpec, { address: "a@example.com", action: { type: "forward", to: ["nobody"] } }),
    ).toEqual(["action.to[0]: must be an email address such as alice@example.com (ASCII local part)"]);
  });

  it("rejects an unknown action type", () => {
    expect(issues(AliasSpec, { address: "a@example.com", action: { type: "bounce" } })[0]).toMatch(
      /^action\.type: /,
    );
  });

  it("does not allow a wildcard destination", () => {
    expect(
      issues(AliasSpec, { address: "a@example.com", action: { type: "forward", to: ["*@example.org"] } }),
    ).toEqual(["action.to[0]: must be an email address such as alice@example.com (ASCII local part)"]);
  });
});
