/**
 * `mailplane import` against a real control plane on 127.0.0.1:0: which tokens and flags read what,
 * and how each API failure is reported (by code, with a hint, exit 1) — without Pulumi.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { TenancyManifest } from "../../../sdk/src/models/tenancy.ts";
import { type CliRun, runCli } from "../../support/cli.ts";

describe("mailplane import against a control plane", () => {
  let cp: ControlPlane;
  let dataDir: string;
  let adminToken: string;
  let accountToken: string;
  let domainToken: string;

  /** Runs the CLI in process with its own environment (the endpoint always set). */
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(["import", ...args], { MAILPLANE_ENDPOINT: cp.url, ...env });
  const manifestOf = (result: CliRun) => TenancyManifest.parse(parse(result.stdout));

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mailplane-import-int-"));
    cp = await startControlPlane({ dataDir, listen: "127.0.0.1:0", rateLimit: false, logger: false });
    adminToken = readFileSync(cp.adminTokenPath!, "utf8").trim();
    const admin = new MailplaneClient({ endpoint: cp.url, token: adminToken });
    await admin.accounts.put({ id: "acme", name: "ACME" });
    accountToken = (await admin.tokens.create({ role: "account-admin" }, { account: "acme" })).token;
    await admin.close();
    const client = new MailplaneClient({ endpoint: cp.url, token: accountToken });
    await client.domains.put({ name: "example.com" });
    await client.domains.put({ name: "example.org" });
    await client.routes.put({ domain: "example.com", host: "mx1.example.net" });
    await client.users.put({ address: "alice@example.org", password: "Wonder-Land-1865" });
    await client.filterSettings.put({ scope: "account", quarantineDays: 14 });
    domainToken = (await client.tokens.create({ role: "domain-admin", domains: ["example.com"] })).token;
    await client.close();
  });

  afterAll(async () => {
    await cp?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("an account-admin token imports the whole account: both domains, their objects, the changed account default", async () => {
    const result = await run([], { MAILPLANE_TOKEN: accountToken });
    expect(result.code, result.stderr).toBe(0);
    const manifest = manifestOf(result);
    expect(manifest.domains.map((d) => d.name)).toEqual(["example.com", "example.org"]);
    expect(manifest.routes.map((r) => `${r.host}:${r.port}`)).toEqual(["mx1.example.net:25"]);
    expect(manifest.users.map((u) => u.address)).toEqual(["alice@example.org"]);
    expect(manifest.users[0]!.password).toBeUndefined();
    expect(manifest.filterSettings.map((f) => [f.scope, f.quarantineDays])).toEqual([["account", 14]]);
    expect(manifest.passwordPolicies).toEqual([]);
    expect(result.stderr).toContain(
      "mailplane import: account: filter settings changed, password policy at defaults",
    );
  });

  it("--domain limits the import to that domain and leaves the account-wide settings out", async () => {
    const result = await run(["--domain", "example.com"], { MAILPLANE_TOKEN: accountToken });
    expect(result.code, result.stderr).toBe(0);
    const manifest = manifestOf(result);
    expect(manifest.domains.map((d) => d.name)).toEqual(["example.com"]);
    expect(manifest.users).toEqual([]);
    expect(manifest.filterSettings).toEqual([]);
  });

  it("--all-singletons writes every filter settings and password policy, also those at their defaults", async () => {
    const result = await run(["--all-singletons"], { MAILPLANE_TOKEN: accountToken });
    expect(result.code, result.stderr).toBe(0);
    const manifest = manifestOf(result);
    expect(manifest.filterSettings.map((f) => f.scope)).toEqual(["account", "example.com", "example.org"]);
    expect(manifest.passwordPolicies.map((p) => p.scope)).toEqual(["account", "example.com", "example.org"]);
  });

  it("a platform-admin token without --account fails with MP_ACCOUNT_REQUIRED and says to pass --account", async () => {
    const result = await run([], { MAILPLANE_TOKEN: adminToken });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^mailplane import: 4\d\d MP_ACCOUNT_REQUIRED: /m);
    expect(result.stderr).toContain("name one with --account");
  });

  it("a platform-admin token with --account reads that account", async () => {
    const result = await run(["--account", "acme"], { MAILPLANE_TOKEN: adminToken });
    expect(result.code, result.stderr).toBe(0);
    expect(manifestOf(result).domains.map((d) => d.name)).toEqual(["example.com", "example.org"]);
    expect(result.stdout).toContain('account "acme"');
  });

  it("a domain-admin token imports its domains only, without the account-wide settings it does not manage", async () => {
    const result = await run([], { MAILPLANE_TOKEN: domainToken });
    expect(result.code, result.stderr).toBe(0);
    const manifest = manifestOf(result);
    expect(manifest.domains.map((d) => d.name)).toEqual(["example.com"]);
    expect(manifest.filterSettings).toEqual([]);
    expect(result.stderr).toContain(
      "account-wide filter settings, password policy and report settings left out",
    );
  });

  it("an unknown token fails with 401 MP_UNAUTHORIZED and names the flag and variable", async () => {
    const result = await run(["--token", "not-a-token"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("mailplane import: 401 MP_UNAUTHORIZED: ");
    expect(result.stderr).toContain("check --token or MAILPLANE_TOKEN");
  });

  it("an unknown --domain fails with 404 MP_NOT_FOUND instead of writing an empty manifest", async () => {
    const result = await run(["--domain", "nope.example"], { MAILPLANE_TOKEN: accountToken });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("mailplane import: 404 MP_NOT_FOUND: ");
  });

  it("an endpoint where nothing listens fails with MP_NETWORK and names --endpoint", async () => {
    const result = await run(["--endpoint", "http://127.0.0.1:1"], { MAILPLANE_TOKEN: accountToken });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("MP_NETWORK");
    expect(result.stderr).toContain("check --endpoint or MAILPLANE_ENDPOINT");
  });

  it("usage errors exit 2 with the usage: no token, an unknown format", async () => {
    const noToken = await run([]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("give an API token with --token or MAILPLANE_TOKEN");
    const badFormat = await run(["--format", "hcl"], { MAILPLANE_TOKEN: accountToken });
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("usage: mailplane import");
  });

  it("--out to a directory that does not exist fails with exit 1 and the path", async () => {
    const out = join(dataDir, "missing", "tenancy.yaml");
    const result = await run(["--out", out], { MAILPLANE_TOKEN: accountToken });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot write ${out}`);
  });
});
