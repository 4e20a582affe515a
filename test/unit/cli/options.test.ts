/** How every command reads an option: flag, else environment variable (empty counts as unset), else the caller's default. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { optionReader, parseFlags, postgresUrl } from "../../../cli/options.ts";

describe("optionReader", () => {
  it("prefers the flag over the environment variable", () => {
    const opt = optionReader({ listen: "127.0.0.1:1" }, { MAILPLANE_LISTEN: "127.0.0.1:2" });
    expect(opt("listen", "MAILPLANE_LISTEN")).toBe("127.0.0.1:1");
  });

  it("falls back to the environment variable, and an empty one counts as unset", () => {
    const opt = optionReader({}, { MAILPLANE_LISTEN: "127.0.0.1:2", MAILPLANE_RATE_LIMIT: "" });
    expect(opt("listen", "MAILPLANE_LISTEN")).toBe("127.0.0.1:2");
    expect(opt("rate-limit", "MAILPLANE_RATE_LIMIT")).toBeUndefined();
    expect(opt("mx-host", "MAILPLANE_MX_HOST")).toBeUndefined();
  });

  it("reads a boolean flag that is set as 1", () => {
    const opt = optionReader({ "no-dns": true }, { MAILPLANE_SMTP_NO_DNS: "0" });
    expect(opt("no-dns", "MAILPLANE_SMTP_NO_DNS")).toBe("1");
  });
});

describe("parseFlags", () => {
  it("rejects unknown flags and positionals as usage errors", () => {
    expect(() => parseFlags(["--nope"], { out: { type: "string" } })).toThrow(UsageError);
    expect(() => parseFlags(["extra"], { out: { type: "string" } })).toThrow(UsageError);
    expect(parseFlags(["--out", "x"], { out: { type: "string" } })).toEqual({ out: "x" });
  });
});

describe("postgresUrl", () => {
  it("accepts postgres:// and postgresql:// URLs, treats empty as none and refuses others", () => {
    expect(postgresUrl("postgresql://u@h/db")).toBe("postgresql://u@h/db");
    expect(postgresUrl("")).toBeUndefined();
    expect(() => postgresUrl("mysql://u@h/db")).toThrow(/postgres:\/\//);
  });
});
