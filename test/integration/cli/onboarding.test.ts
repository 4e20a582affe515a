/**
 * `mailplane account create` and `mailplane token create|list|revoke` against a real control plane
 * on 127.0.0.1:0 (SQLite): what each writes where, that a token's value appears once and only on
 * standard output, and each refusal (exit 1 from the API, exit 2 for usage) — without Pulumi.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { type CliRun, runCli } from "../../support/cli.ts";

describe("mailplane account and token against a control plane", () => {
  let cp: ControlPlane;
  let dataDir: string;
  let adminToken: string;
  let admin: MailplaneClient;
  const runs: CliRun[] = [];

  /** Runs the CLI in process with the endpoint and, unless given, the platform-admin token. */
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await runCli(args, { MAILPLANE_ENDPOINT: cp.url, MAILPLANE_TOKEN: adminToken, ...env });
    runs.push(result);
    return result;
  };
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => "ok",
      (e: { code?: string }) => e.code,
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mailplane-onboarding-int-"));
    cp = await startControlPlane({ dataDir, listen: "127.0.0.1:0", rateLimit: false, logger: false });
    adminToken = readFileSync(cp.adminTokenPath!, "utf8").trim();
    admin = new MailplaneClient({ endpoint: cp.url, token: adminToken });
  });

  afterAll(async () => {
    await admin?.close();
    await cp?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("account create makes the account with its display name and says how to get its token", async () => {
    const result = await run(["account", "create", "acme", "--name", "ACME Corp"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('created account acme (name "ACME Corp")\n');
    expect(result.stderr).toContain("mailplane token create --account acme --role account-admin");
    expect(await admin.accounts.get("acme")).toMatchObject({ id: "acme", name: "ACME Corp" });
  });

  it("account create without --name names the account by its id", async () => {
    const result = await run(["account", "create", "globex"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await admin.accounts.get("globex")).toMatchObject({ name: "globex" });
  });

  it("account create refuses an account that exists (exit 1) and leaves its name as it was", async () => {
    const result = await run(["account", "create", "acme", "--name", "Someone Else"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('account acme already exists (name "ACME Corp"); nothing changed');
    expect(await admin.accounts.get("acme")).toMatchObject({ name: "ACME Corp" });
  });

  it("account create refuses a malformed id before calling the API (exit 2, names <id>)", async () => {
    const before = (await admin.accounts.list()).items.length;
    const result = await run(["account", "create", "Not_A_Slug!"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("mailplane account: <id> must be a slug");
    expect(result.stderr).toContain('got "Not_A_Slug!"');
    expect((await admin.accounts.list()).items.length).toBe(before);
  });

  it("account create --contact sets where the reserved addresses go, and names --contact when it is no address", async () => {
    const result = await run(["account", "create", "hooli", "--contact", "IT@Hooli.example"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await admin.accounts.get("hooli")).toMatchObject({ contact: "it@hooli.example" });
    const bad = await run(["account", "create", "umbrella", "--contact", "nobody"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--contact must be an email address");
    expect(bad.stderr).toContain('got "nobody"');
  });

  it("account create needs exactly one <id> and the create subcommand (exit 2)", async () => {
    expect((await run(["account", "create"])).stderr).toContain("create needs <id>");
    expect((await run(["account", "create", "a1", "b2"])).code).toBe(2);
    const unknown = await run(["account", "delete", "acme"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown subcommand "delete": create');
  });

  it("token create prints the value alone on stdout, once; it works for the account; stderr has only its ID", async () => {
    const result = await run(["token", "create", "--account", "acme", "--description", "pulumi: acme/dev"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines).toHaveLength(2);
    const value = lines[0]!;
    expect(value).toMatch(/^\S{20,}$/);
    expect(result.stderr).not.toContain(value);
    expect(result.stderr).toMatch(/created \S+ \(account-admin of account acme, never expires\)/);
    expect(result.stderr).toContain("only this once");
    const client = new MailplaneClient({ endpoint: cp.url, token: value });
    try {
      expect(await client.whoAmI()).toMatchObject({ account: "acme", role: "account-admin" });
    } finally {
      await client.close();
    }
  });

  it("token create with --role domain-admin and --domain scopes the token to that domain", async () => {
    const result = await run([
      "token",
      "create",
      "--account",
      "acme",
      "--role",
      "domain-admin",
      "--domain",
      "example.com",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const client = new MailplaneClient({ endpoint: cp.url, token: result.stdout.trim() });
    try {
      expect(await client.whoAmI()).toMatchObject({ role: "domain-admin", domains: ["example.com"] });
    } finally {
      await client.close();
    }
  });

  it("token create refuses a domain-admin token without --domain, naming the flag (exit 2, nothing created)", async () => {
    const before = (await admin.tokens.list({}, { account: "acme" })).items.length;
    const result = await run(["token", "create", "--account", "acme", "--role", "domain-admin"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "mailplane token: --domain a domain-admin token needs at least one domain",
    );
    expect(result.stdout).toBe("");
    expect((await admin.tokens.list({}, { account: "acme" })).items.length).toBe(before);
  });

  it("token create refuses an unknown role naming --role (exit 2)", async () => {
    const result = await run(["token", "create", "--account", "acme", "--role", "owner"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("mailplane token: --role");
  });

  it("token create with a platform-admin token and no account says to name one with --account (exit 1)", async () => {
    const result = await run(["token", "create"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("MP_ACCOUNT_REQUIRED");
    expect(result.stderr).toContain("name one with --account");
    expect(result.stdout).toBe("");
  });

  it("an account-admin token may not create accounts (403, exit 1)", async () => {
    const accountToken = (await run(["token", "create", "--account", "acme"])).stdout.trim();
    const result = await run(["account", "create", "initech"], { MAILPLANE_TOKEN: accountToken });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("403 MP_FORBIDDEN");
    expect(await outcome(admin.accounts.get("initech"))).toBe("MP_NOT_FOUND");
  });

  it("token list shows the account's tokens by ID, never a value; --json is the API's list", async () => {
    const created = await run(["token", "create", "--account", "acme", "--description", "listed"]);
    const value = created.stdout.trim();
    const table = await run(["token", "list", "--account", "acme"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+ROLE\s+DOMAINS\s+EXPIRES\s+REVOKED\s+DESCRIPTION$/);
    expect(table.stdout).toMatch(/account-admin\s+-\s+never\s+-\s+listed/);
    expect(table.stdout).not.toContain(value);
    const json = await run(["token", "list", "--account", "acme", "--json"]);
    const listed = JSON.parse(json.stdout) as { id: string; description: string }[];
    const api = (await admin.tokens.list({}, { account: "acme" })).items;
    expect(listed.map((t) => t.id)).toEqual(api.map((t) => t.id));
    expect(json.stdout).not.toContain(value);
  });

  it("token revoke stops the token at once", async () => {
    const value = (await run(["token", "create", "--account", "acme"])).stdout.trim();
    const client = new MailplaneClient({ endpoint: cp.url, token: value });
    try {
      const id = (await client.whoAmI()).tokenId;
      const result = await run(["token", "revoke", id, "--account", "acme"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`revoked ${id}\n`);
      expect(await outcome(client.whoAmI())).toBe("MP_UNAUTHORIZED");
    } finally {
      await client.close();
    }
  });

  it("token usage errors: revoke needs an ID, flags of another subcommand are refused (exit 2)", async () => {
    expect((await run(["token", "revoke"])).stderr).toContain("revoke needs <token id>");
    const stray = await run(["token", "create", "--account", "acme", "--json"]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("--json belongs to token list");
    expect((await run(["token", "list", "--role", "read-only"])).stderr).toContain(
      "--role belongs to token create",
    );
    expect((await run(["token"])).stderr).toContain("name a subcommand: create, list, revoke");
  });

  it("never prints the calling token, in any output of any run above", () => {
    expect(runs.length).toBeGreaterThan(10);
    for (const r of runs) expect(`${r.stdout}${r.stderr}`).not.toContain(adminToken);
  });
});
