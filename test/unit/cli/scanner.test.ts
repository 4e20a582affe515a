/** The rspamd controller settings of `mailplane serve` / `mailplane smtp`: flags and env vars, the password file, usage errors. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { controllerFrom } from "../../../cli/commands/scanner.ts";
import { optionReader } from "../../../cli/options.ts";

const RSPAMD = "http://127.0.0.1:11333";
const CONTROLLER = "http://127.0.0.1:11334";
const dir = mkdtempSync(join(tmpdir(), "mp-scanner-"));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};

describe("controllerFrom", () => {
  it("is undefined without --rspamd-controller-url: reports are refused", () => {
    expect(controllerFrom(optionReader({}, {}), RSPAMD)).toBeUndefined();
  });

  it("reads the controller URL and the password file from MAILPLANE_RSPAMD_CONTROLLER_URL and MAILPLANE_RSPAMD_CONTROLLER_PASSWORD_FILE", () => {
    const opt = optionReader(
      {},
      {
        MAILPLANE_RSPAMD_CONTROLLER_URL: CONTROLLER,
        MAILPLANE_RSPAMD_CONTROLLER_PASSWORD_FILE: file("env-password", "s3cret\n"),
      },
    );
    expect(controllerFrom(opt, RSPAMD)).toEqual({ controllerUrl: CONTROLLER, controllerPassword: "s3cret" });
  });

  it("takes the password file's first line (CRLF too), spaces kept", () => {
    const opt = optionReader(
      {
        "rspamd-controller-url": CONTROLLER,
        "rspamd-controller-password-file": file("crlf", " a b \r\nignored\r\n"),
      },
      {},
    );
    expect(controllerFrom(opt, RSPAMD)?.controllerPassword).toBe(" a b ");
  });

  it("refuses a password file without a controller URL, naming both flags", () => {
    const opt = optionReader({ "rspamd-controller-password-file": file("lonely", "x") }, {});
    expect(() => controllerFrom(opt, RSPAMD)).toThrow(
      new UsageError("--rspamd-controller-password-file needs --rspamd-controller-url"),
    );
  });

  it("refuses a controller URL without --rspamd-url", () => {
    const opt = optionReader({ "rspamd-controller-url": CONTROLLER }, {});
    expect(() => controllerFrom(opt, undefined)).toThrow(/--rspamd-controller-url needs --rspamd-url/);
  });

  it("refuses a controller URL that is not http(s)", () => {
    const opt = optionReader({ "rspamd-controller-url": "127.0.0.1:11334" }, {});
    expect(() => controllerFrom(opt, RSPAMD)).toThrow(/--rspamd-controller-url must be an http/);
  });

  it("refuses an unreadable or empty password file, naming the file and never its content", () => {
    const missing = optionReader(
      { "rspamd-controller-url": CONTROLLER, "rspamd-controller-password-file": join(dir, "nope") },
      {},
    );
    expect(() => controllerFrom(missing, RSPAMD)).toThrow(/"[^"]*nope" cannot be read \(ENOENT\)/);
    const empty = optionReader(
      {
        "rspamd-controller-url": CONTROLLER,
        "rspamd-controller-password-file": file("empty", "\nsecond-line-secret\n"),
      },
      {},
    );
    let message = "";
    try {
      controllerFrom(empty, RSPAMD);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/is empty: its first line is the password/);
    expect(message).not.toContain("second-line-secret");
  });
});
