/** The provider's stack stamp: parsed from the shim's `<project>/<stack>`, and kept per call when calls overlap. */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { stampOf, stampOption, withStamp } from "../../../provider/src/lib/stamp.ts";

describe("stampOf", () => {
  it("reads project and stack from the shim's text", () => {
    expect(stampOf("mail/prod")).toEqual({ tool: "pulumi", project: "mail", stack: "prod" });
  });

  it("answers undefined for an older shim (no text) or a text that names no valid stack", () => {
    for (const by of [
      undefined,
      "",
      "/",
      "mail",
      "mail/",
      "/prod",
      "mail/pr od",
      `mail/${"s".repeat(101)}`,
    ]) {
      expect(stampOf(by), String(by)).toBeUndefined();
    }
  });
});

describe("withStamp", () => {
  it("gives each overlapping call its own stamp, and none outside a call", async () => {
    const seen = await Promise.all([
      withStamp("mail/prod", async () => {
        await sleep(20);
        return stampOption();
      }),
      withStamp("mail/staging", async () => {
        await sleep(5);
        return stampOption();
      }),
      withStamp(undefined, async () => stampOption()),
    ]);
    expect(seen).toEqual([
      { managedBy: { tool: "pulumi", project: "mail", stack: "prod" } },
      { managedBy: { tool: "pulumi", project: "mail", stack: "staging" } },
      {},
    ]);
    expect(stampOption()).toEqual({});
  });
});
