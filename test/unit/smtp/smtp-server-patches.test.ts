/** The smtp-server version check: patches only on a tested release with every private member in place, stock otherwise. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  checkSmtpServer,
  fallbackWarning,
  installedSmtpServer,
  TESTED_SMTP_SERVER_VERSIONS,
} from "../../../platform/smtp/smtp-server-patches.ts";

describe("checkSmtpServer", () => {
  it("patches the installed smtp-server, a tested release", async () => {
    const facts = await installedSmtpServer();
    expect(TESTED_SMTP_SERVER_VERSIONS).toContain(facts.version);
    expect(checkSmtpServer(facts)).toMatchObject({ patched: true, version: facts.version });
  });

  it("runs stock on any other release, newer ones included, and says which", async () => {
    const facts = await installedSmtpServer();
    for (const version of ["3.21.7", "3.22.0", "4.0.0", "3.21.5", "unknown"]) {
      const decision = checkSmtpServer({ ...facts, version });
      expect(decision).toEqual({
        patched: false,
        version,
        reason: `smtp-server ${version} is not a tested release (tested: ${TESTED_SMTP_SERVER_VERSIONS.join(", ")})`,
      });
      if (!decision.patched)
        expect(fallbackWarning(decision)).toMatch(/runs it unpatched \(stock DATA reader/);
    }
  });

  it("runs stock on a tested version number whose parser lost a member the DATA reader uses", async () => {
    const facts = await installedSmtpServer();
    const parser = Object.create(facts.parser as object) as Record<string, unknown>;
    parser._feedDataStream = undefined;
    expect(checkSmtpServer({ ...facts, parser })).toMatchObject({
      patched: false,
      reason: "SMTPStream methods._feedDataStream is not a function",
    });
    const { _lastBytes: _, ...fields } = facts.parser as Record<string, unknown>;
    const withoutField = Object.assign(Object.create(Object.getPrototypeOf(facts.parser)), fields);
    expect(checkSmtpServer({ ...facts, parser: withoutField })).toMatchObject({
      patched: false,
      reason: "SMTPStream has no _lastBytes",
    });
  });

  it("runs stock when a connection member is gone or a module did not load", async () => {
    const facts = await installedSmtpServer();
    class Reorganised {
      send() {}
    }
    expect(checkSmtpServer({ ...facts, connectionClass: Reorganised })).toMatchObject({
      patched: false,
      reason: "SMTPConnection.prototype.init is not a function",
    });
    expect(checkSmtpServer({ ...facts, connectionClass: null })).toMatchObject({ patched: false });
    expect(checkSmtpServer({ ...facts, parser: null })).toMatchObject({ patched: false });
  });

  it("lists the release package.json accepts at its lowest (the lock installs a tested one)", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    const range = String(manifest.dependencies["smtp-server"]);
    expect(TESTED_SMTP_SERVER_VERSIONS).toContain(range.replace(/^[\^~]/, ""));
  });
});
