/**
 * The import round trip with the real Pulumi CLI and a real control plane: a tenant created through
 * the API → `mailplane import` (YAML for the Tenancy component, and a TypeScript program) → `pulumi up`
 * adopts everything without a single write → `pulumi preview --expect-no-changes` → retainOnDelete and
 * `pulumi destroy` leave every object on the platform as it was.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const PASSWORD = { alice: "Wonder-Land-1865", bob: "Tool-Belt-1999", carol: "Soprano-Tune-1843" };

/**
 * The tenant "someone built by hand": two domains (one with a domain alias), routes, a forward list,
 * a reject and a catch-all, a sender list, non-default filter settings, an account password policy
 * and a domain one, and three users (one disabled).
 */
async function seedTenant(client: MailplaneClient): Promise<void> {
  await client.domains.put({ name: "example.com", aliases: ["example.net"], timezone: "Europe/Amsterdam" });
  await client.domains.put({ name: "example.org", maxRetryDays: 2 });
  await client.passwordPolicies.put({ scope: "account", minLength: 10, lockout: { failures: 3 } });
  await client.passwordPolicies.put({ scope: "example.org", requireSymbol: true });
  await client.filterSettings.put({
    scope: "example.com",
    quarantineThreshold: 0.8,
    tagThreshold: 0.3,
    blockedExtensions: ["exe", "js", "vbs"],
  });
  await client.routes.put({ domain: "example.com", host: "mx1.example.net", priority: 10 });
  await client.routes.put({ domain: "example.com", host: "mx2.example.net", priority: 20, tls: "required" });
  await client.routes.put({ domain: "example.org", host: "mx.example.org", port: 2525 });
  await client.senderLists.put({
    domain: "example.com",
    kind: "block",
    target: "sender",
    entries: ["spam.example", "eve@example.net"],
  });
  await client.users.put({
    address: "alice@example.com",
    firstName: "Alice",
    quotaMb: 2048,
    password: PASSWORD.alice,
  });
  await client.users.put({ address: "bob@example.com", role: "domain-admin", password: PASSWORD.bob });
  await client.users.put({ address: "carol@example.org", password: PASSWORD.carol });
  await client.users.disable("carol@example.org");
  await client.aliases.put({
    address: "sales@example.com",
    action: { type: "forward", to: ["alice@example.com", "bob@example.com"] },
  });
  await client.aliases.put({
    address: "joe@example.com",
    action: { type: "reject", message: "Joe no longer works here" },
  });
  await client.aliases.put({
    address: "*@example.org",
    action: { type: "forward", to: ["carol@example.org"] },
  });
  await client.accessRules.put({ scope: "account", service: "api", deny: ["203.0.113.0/24"] });
  await client.accessRules.put({
    scope: "alice@example.com",
    service: "smtp-submission",
    allow: ["192.0.2.0/24"],
  });
}

/** Every object of the tenant as the API returns it (etag and timestamps included), by ID. */
async function snapshot(client: MailplaneClient): Promise<Record<string, Record<string, unknown>>> {
  const objects: Record<string, unknown>[] = [];
  for (const domain of (await client.domains.list({ limit: 500 })).items) {
    objects.push(domain);
    for (const list of [
      await client.routes.list(domain.name, { limit: 500 }),
      await client.aliases.list(domain.name, { limit: 500 }),
      await client.senderLists.list(domain.name, { limit: 500 }),
      await client.users.list(domain.name, { limit: 500 }),
    ]) {
      objects.push(...list.items);
    }
    objects.push(
      await client.filterSettings.get(domain.name),
      await client.passwordPolicies.get(domain.name),
    );
  }
  objects.push(await client.filterSettings.get("account"), await client.passwordPolicies.get("account"));
  objects.push(...(await client.accessRules.list({ limit: 500 })).items);
  return Object.fromEntries(objects.map((o) => [String(o["id"]), o]));
}

/** How many changes the audit log holds: adopting without differences must add none. */
async function auditCount(client: MailplaneClient): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await client.audit.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    total += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return total;
}

/** Runs the real CLI (`node cli/mailplane.ts import …`) as a user would, with the token in the environment. */
function runImport(
  platform: TestPlatform,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "cli", "mailplane.ts"), "import", ...args],
      { env: { ...process.env, MAILPLANE_ENDPOINT: platform.url, MAILPLANE_TOKEN: platform.token } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A Pulumi project in a temporary directory, as a user would set one up: Pulumi.yaml (Node, no
 * ts-node), a package.json with "type": "module", and node_modules where `@pulumi/pulumi` is the
 * checkout's and `mailplane` is the checkout itself (what `npm install mailplane` provides).
 */
function programDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mailplane-import-${name}-`));
  writeFileSync(
    join(dir, "Pulumi.yaml"),
    `name: imported-${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.ts\n`,
  );
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: `imported-${name}`, type: "module" })}\n`,
  );
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(root, "node_modules", "@pulumi"), join(dir, "node_modules", "@pulumi"));
  symlinkSync(root, join(dir, "node_modules", "mailplane"));
  return dir;
}

/** The mailplane resources in the stack's state: type name and resource name. */
async function stateResources(
  ws: PulumiWorkspace,
): Promise<{ type: string; name: string; retain: boolean }[]> {
  const exported = JSON.parse((await ws.ok(["stack", "export"])).stdout);
  return (exported.deployment.resources ?? [])
    .filter((r: { type: string }) => r.type.startsWith("pulumi-nodejs:dynamic/mailplane:"))
    .map((r: { type: string; urn: string; retainOnDelete?: boolean }) => ({
      type: r.type.split(":").at(-1)!,
      name: r.urn.split("::").at(-1)!,
      retain: r.retainOnDelete === true,
    }));
}

/** The objects a complete import declares: everything but the singletons still at their defaults. */
function declaredIds(before: Record<string, Record<string, unknown>>): string[] {
  const atDefaults = [
    "example.com/password-policy",
    "example.org/filter-settings",
    "account/filter-settings",
  ];
  return Object.keys(before)
    .filter((id) => !atDefaults.includes(id))
    .sort();
}

const FORMATS = [
  {
    format: "yaml",
    file: "tenancy.yaml",
    // The Tenancy component names its children `<component>-<id>` (Pulumi's convention for components).
    childPrefix: "imported-",
    // The user's program around the manifest: the Tenancy component, adopt, passwords from stack config.
    program: `import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();
if (config.getBoolean("retainOnDelete")) {
  pulumi.runtime.registerResourceTransform((args) => ({ props: args.props, opts: { ...args.opts, retainOnDelete: true } }));
}
new mailplane.Tenancy("imported", { file: "tenancy.yaml", adopt: true, passwords: config.getSecretObject("passwords") });
`,
  },
  { format: "typescript", file: "index.ts", program: undefined, childPrefix: "" },
] as const;

for (const { format, file, program, childPrefix } of FORMATS) {
  describe(`import round trip: ${format}`, () => {
    let platform: TestPlatform;
    let ws: PulumiWorkspace;
    let dir: string;
    let before: Record<string, Record<string, unknown>>;
    let auditBefore: number;
    const stack = `import-${format}-${process.pid}`;

    beforeAll(async () => {
      platform = await startTestPlatform(`import-${format}`, { rateLimit: false });
      await seedTenant(platform.client);
      before = await snapshot(platform.client);
      auditBefore = await auditCount(platform.client);
      dir = programDir(format);
      if (program !== undefined) writeFileSync(join(dir, "index.ts"), program);
      ws = await createPulumiWorkspace(dir, stack);
      await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
      await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    });

    afterAll(async () => {
      await ws?.dispose();
      await platform?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(`mailplane import --format ${format} writes the tenant, says passwords were left out, and reads nothing twice`, async () => {
      const result = await runImport(platform, ["--format", format, "--out", join(dir, file)]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe("");
      const text = readFileSync(join(dir, file), "utf8");
      expect(text).toContain("Passwords are write-only and were not imported");
      expect(text).not.toMatch(/Wonder-Land|Tool-Belt|Soprano-Tune/);
      // Progress per domain with counts, and the password note, on stderr.
      expect(result.stderr).toContain(
        "example.com: 2 routes, 2 aliases, 1 sender list, 2 users, 0 groups, filter settings changed, password policy at defaults",
      );
      expect(result.stderr).toContain(
        "example.org: 1 route, 1 alias, 0 sender lists, 1 user, 0 groups, filter settings at defaults, password policy changed",
      );
      expect(result.stderr).toContain("access rules: 2 rules");
      expect(result.stderr).toContain("3 users were written without a password");
      expect(result.stderr).toContain(
        `pulumi config set --secret --path 'passwords["<address>"]' <password>`,
      );
      // Reading changed nothing; the audit log does record writes (the seeding's), so "no new entry" below means no write.
      expect(await snapshot(platform.client)).toEqual(before);
      expect(auditBefore).toBeGreaterThanOrEqual(16);
      expect(await auditCount(platform.client)).toBe(auditBefore);
    });

    it("pulumi up adopts every object: one resource each, nothing created or written on the platform", async () => {
      await ws.ok(["up", "--yes", "--skip-preview"]);
      const resources = await stateResources(ws);
      const ids = resources.map((r) => r.name).sort();
      expect(ids).toEqual(declaredIds(before).map((id) => `${childPrefix}${id}`));
      expect(new Set(ids).size).toBe(ids.length);
      // Unchanged to the etag and timestamp, no object more or less, and not one write in the audit log.
      expect(await snapshot(platform.client)).toEqual(before);
      expect(await auditCount(platform.client)).toBe(auditBefore);
    });

    it("pulumi preview --expect-no-changes passes after the adopt", async () => {
      await ws.ok(["preview", "--expect-no-changes"]);
    });

    if (format === "yaml") {
      it("a password set later in stack config updates that user only; the others keep theirs", async () => {
        await ws.ok([
          "config",
          "set",
          "--secret",
          "--path",
          'passwords["bob@example.com"]',
          "Tool-Box-2025!",
        ]);
        const audit = await auditCount(platform.client);
        await ws.ok(["up", "--yes", "--skip-preview"]);
        expect(await auditCount(platform.client)).toBe(audit + 1);
        const after = await snapshot(platform.client);
        expect(after["bob@example.com"]!["passwordChangedAt"]).not.toBe(
          before["bob@example.com"]!["passwordChangedAt"],
        );
        const { "bob@example.com": _bob, ...others } = after;
        const { "bob@example.com": _bobBefore, ...othersBefore } = before;
        expect(others).toEqual(othersBefore);
        await ws.ok(["preview", "--expect-no-changes"]);
        before = after;
      });
    }

    it("with retainOnDelete, pulumi destroy empties the stack and leaves every object on the platform", async () => {
      await ws.ok(["config", "set", "retainOnDelete", "true"]);
      // The option lives in the state: one up records it, and writes nothing to the platform.
      const audit = await auditCount(platform.client);
      await ws.ok(["up", "--yes", "--skip-preview"]);
      const resources = await stateResources(ws);
      expect(resources.map((r) => r.name).sort()).toEqual(
        declaredIds(before).map((id) => `${childPrefix}${id}`),
      );
      expect(resources.filter((r) => !r.retain)).toEqual([]);
      expect(await auditCount(platform.client)).toBe(audit);

      await ws.ok(["destroy", "--yes", "--skip-preview"]);
      expect(await stateResources(ws)).toEqual([]);
      // Not deleted, and the singletons not reset to their defaults either.
      expect(await snapshot(platform.client)).toEqual(before);
      expect(await auditCount(platform.client)).toBe(audit);
    });
  });
}
