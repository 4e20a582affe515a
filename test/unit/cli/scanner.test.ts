/** The rspamd controller and settings-ID settings of `mailplane serve` / `mailplane smtp`: flags and env vars, the password file, usage errors. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { controllerFrom, settingsIdFrom } from "../../../cli/commands/scanner.ts";
import { optionReader } from "../../../cli/options.ts";

const RSPAMD = "http://127.0.0.1:11333";
const CONTROLLER = "http://127.0.0.1:11334";
const dir = mkdtempSync(join(tmpdir(), "mp-scanner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
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

describe("settingsIdFrom", () => {
  it("selects mailplane-verified for a supervised rspamd and nothing for --rspamd-url by default", () => {
    expect(settingsIdFrom(optionReader({}, {}), undefined)).toEqual({ settingsId: "mailplane-verified" });
    expect(settingsIdFrom(optionReader({}, {}), RSPAMD)).toEqual({});
  });

  it("reads --rspamd-settings-id and MAILPLANE_RSPAMD_SETTINGS_ID; none sends no Settings-ID", () => {
    expect(settingsIdFrom(optionReader({ "rspamd-settings-id": "mailplane-verified" }, {}), RSPAMD)).toEqual({
      settingsId: "mailplane-verified",
    });
    expect(settingsIdFrom(optionReader({}, { MAILPLANE_RSPAMD_SETTINGS_ID: "inbound.v2" }), RSPAMD)).toEqual({
      settingsId: "inbound.v2",
    });
    expect(settingsIdFrom(optionReader({ "rspamd-settings-id": "none" }, {}), undefined)).toEqual({});
  });

  it("refuses an ID that could break the request header, naming the flag", () => {
    for (const bad of ["a b", "x\r\nPass: all", "-dash-first", "x".repeat(65)]) {
      const read = () => settingsIdFrom(optionReader({ "rspamd-settings-id": bad }, {}), RSPAMD);
      expect(read).toThrow(UsageError);
      expect(read).toThrow(/--rspamd-settings-id/);
    }
  });
});
