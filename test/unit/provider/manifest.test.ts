/**
 * Tenancy manifests: each kind of mistake is reported with the file, line and column, the path in the
 * manifest and what is wrong — and no manifest is returned (the Tenancy component registers nothing).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManifestError } from "../../../provider/src/manifest/load-manifest.ts";
import { readTenancyManifest } from "../../../provider/src/tenancy.ts";

const dir = mkdtempSync(join(tmpdir(), "mailplane-manifest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = `apiVersion: mailplane/v1
domains:
  - name: example.com
routes:
  - domain: example.com
    host: mx1.example.com
    port: 25
users:
  - address: ada@example.com
    firstName: Ada
  - address: grace@example.com
`;

/** Writes the manifest and returns the problems it is rejected with (fails the test if it is accepted). */
function problemsOf(text: string) {
  const file = join(dir, "tenancy.yaml");
  writeFileSync(file, text);
  try {
    readTenancyManifest(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    const manifestError = err as ManifestError;
    expect(manifestError.message).toContain(`${file}:`);
    return manifestError.problems.map((p) => ({
      line: p.line,
      column: p.column,
      path: p.path,
      message: p.message,
    }));
  }
  throw new Error("the manifest was accepted");
}

describe("tenancy manifest", () => {
  it("accepts the valid manifest and normalises it", () => {
    const file = join(dir, "valid.yaml");
    writeFileSync(file, valid.replace("ada@example.com", "Ada@Example.COM"));
    const manifest = readTenancyManifest(file);
    expect(manifest.users.map((u) => u.address)).toEqual(["ada@example.com", "grace@example.com"]);
    expect(manifest.routes[0]).toMatchObject({ host: "mx1.example.com", port: 25, priority: 10 });
  });

  it("reports an unknown key at the key's line with its path", () => {
    const problems = problemsOf(
      valid.replace("    firstName: Ada\n", "    firstName: Ada\n    nickname: ada\n"),
    );
    expect(problems).toEqual([
      { line: 11, column: 5, path: "users[0].nickname", message: 'unknown key "nickname"' },
    ]);
  });

  it("reports a bad address once, at the value", () => {
    const problems = problemsOf(valid.replace("grace@example.com", "grace at example.com"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 11, column: 14, path: "users[1].address" });
    expect(problems[0]?.message).toMatch(/email address/);
  });

  it("reports a value of the wrong type", () => {
    const problems = problemsOf(valid.replace("port: 25", "port: twenty-five"));
    expect(problems).toEqual([{ line: 7, column: 11, path: "routes[0].port", message: "must be integer" }]);
  });

  it("reports a duplicate user (same address in another case) at the second entry", () => {
    const problems = problemsOf(`${valid}  - address: ADA@example.com\n`);
    expect(problems).toEqual([
      { line: 12, column: 5, path: "users[2]", message: "duplicate User ada@example.com (also at users[0])" },
    ]);
  });

  it("reports a rule across fields: the tag threshold must be below the quarantine threshold", () => {
    const problems = problemsOf(
      `${valid}filterSettings:\n  - scope: example.com\n    quarantineThreshold: 0.5\n    tagThreshold: 0.7\n`,
    );
    expect(problems).toEqual([
      {
        line: 15,
        column: 19,
        path: "filterSettings[0].tagThreshold",
        message: "must be below quarantineThreshold (0.5)",
      },
    ]);
  });

  it("reports an object whose domain is not declared", () => {
    const problems = problemsOf(`${valid}  - address: bob@other.example\n`);
    expect(problems).toEqual([
      {
        line: 12,
        column: 14,
        path: "users[2].address",
        message: "domain other.example is not declared in domains",
      },
    ]);
  });

  it("reports YAML errors (a repeated key) with their position", () => {
    const problems = problemsOf(valid.replace("    port: 25\n", "    port: 25\n    port: 26\n"));
    expect(problems).toEqual([{ line: 8, column: 5, path: "", message: "Map keys must be unique" }]);
  });

  it("lists every problem of a manifest, in file order", () => {
    const problems = problemsOf(
      valid
        .replace("port: 25", "port: 0")
        .replace("    firstName: Ada\n", "    firstName: Ada\n    nick: a\n"),
    );
    expect(problems.map((p) => p.path)).toEqual(["routes[0].port", "users[0].nick"]);
    expect(problems[0]!.line).toBeLessThan(problems[1]!.line);
  });
});
