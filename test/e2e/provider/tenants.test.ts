/**
 * Tenants as code with the real Pulumi CLI against two real control planes: a platform admin's
 * program declares an Account and its ApiToken, puts a domain and an alias in the account with the
 * new token as `connection`, a domain on a second platform with that platform's connection, and
 * forwards to a user found by a lookup. Preview → up → no-op → field change → rotation → drift on
 * refresh → guards → destroy; the token's value never reaches the state in plain text.
 */
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { legacyProviderText } from "./legacy-provider.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";
import { outcome, previewSteps, readTree } from "./support.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/tenants");

describe("tenants as code: Account, ApiToken, connections and lookups, real CLI, two platforms", () => {
  let a: TestPlatform;
  let b: TestPlatform;
  let ws: PulumiWorkspace;
  let admin: MailplaneClient;
  let acme: MailplaneClient;
  const stack = `tenants-${process.pid}`;
  const set = (key: string, value: string, secret = false) =>
    ws.ok(["config", "set", ...(secret ? ["--secret"] : []), key, value]);
  const output = async (name: string) =>
    (await ws.ok(["stack", "output", name, "--show-secrets"])).stdout.trim();
  const exported = async () => (await ws.ok(["stack", "export", "--show-secrets=false"])).stdout;

  beforeAll(async () => {
    a = await startTestPlatform("e2e");
    b = await startTestPlatform("other");
    admin = new MailplaneClient({ endpoint: a.url, token: a.adminToken });
    acme = new MailplaneClient({ endpoint: a.url, token: a.adminToken, account: "acme" });
    // Managed outside the program: the domain and user the lookup finds.
    await a.client.domains.put({ name: "shared.test" });
    await a.client.users.put({ address: "ops@shared.test", password: "Shared-Ops-Passw0rd" });
    ws = await createPulumiWorkspace(program, stack);
    await set("mailplane:endpoint", a.url);
    await set("mailplane:token", a.adminToken, true);
    await set("e2e:sharedUser", "ops@shared.test");
    await set("e2e:otherEndpoint", b.url);
    await set("e2e:otherToken", b.token, true);
    await set("e2e:tenantToken", a.token, true);
  });

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await admin?.close();
    await acme?.close();
    await a?.close();
    await b?.close();
  });

  it("preview shows the Account, the ApiToken and the objects in it as creates, and changes nothing", async () => {
    const steps = await previewSteps(ws);
    expect(steps["acme"]).toMatchObject({ op: "create", type: "Account" });
    expect(steps["acme-admin"]).toMatchObject({ op: "create", type: "ApiToken" });
    expect(steps["acme-domain"]).toMatchObject({ op: "create", type: "Domain" });
    expect(steps["elsewhere"]).toMatchObject({ op: "create", type: "Domain" });
    expect(await outcome(admin.accounts.get("acme"))).toBe("MP_NOT_FOUND");
  });

  it("up creates the account, its token, objects in it with that token, and a domain on the other platform", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await admin.accounts.get("acme")).toMatchObject({
      name: "ACME Corp",
      contact: "it@acme.test",
      limits: { domains: 5 },
    });
    const tokens = (await acme.tokens.list()).items;
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ id: await output("tokenId"), role: "account-admin", account: "acme" });
    // The token works and acts on its account.
    const value = await output("tokenValue");
    const asAcme = new MailplaneClient({ endpoint: a.url, token: value });
    expect(await asAcme.whoAmI()).toMatchObject({ account: "acme", role: "account-admin" });
    expect(await asAcme.domains.get("acme.test")).toMatchObject({ timezone: "Europe/Amsterdam" });
    expect(await asAcme.domains.get("manifest.acme.test")).toMatchObject({ timezone: "UTC" });
    // The manifest's access rule is a child of the Tenancy, in the connection's account.
    expect(await asAcme.accessRules.get("manifest.acme.test", "api")).toMatchObject({
      allow: ["192.0.2.0/24"],
      deny: [],
    });
    // The lookup's user is the alias's forward target.
    expect(await asAcme.aliases.get("info@acme.test")).toMatchObject({
      action: { type: "forward", to: ["ops@shared.test"] },
    });
    await asAcme.close();
    expect(await output("opsForwardTarget")).toBe("ops@shared.test");
    // The second connection: the domain is on platform B, in B's account, and not on A.
    expect(await b.client.domains.get("elsewhere.test")).toMatchObject({ name: "elsewhere.test" });
    expect(await outcome(a.client.domains.get("elsewhere.test"))).toBe("MP_NOT_FOUND");
  });

  it("keeps every token out of the state in plain text: the new token, the admin's and the other platform's", async () => {
    const value = await output("tokenValue");
    const state = await exported();
    expect(state).toContain("acme-admin");
    for (const secret of [value, a.adminToken, b.token, a.token]) {
      expect(state).not.toContain(secret);
    }
    const backend = await readTree(ws.backendDir);
    for (const secret of [value, a.adminToken, b.token, a.token]) expect(backend).not.toContain(secret);
    // The outputs and the connections are secrets, not merely absent.
    const resources = JSON.parse(state).deployment.resources as {
      urn: string;
      outputs?: Record<string, any>;
    }[];
    const token = resources.find((r) => r.urn.endsWith("::acme-admin"))!;
    expect(token.outputs?.["token"]).toHaveProperty("ciphertext");
    const domain = resources.find((r) => r.urn.endsWith("::acme-domain"))!;
    expect(domain.outputs?.["connection"]).toHaveProperty("ciphertext");
  });

  it("a second preview reports no changes", async () => {
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("a state written with the older serialized provider text previews and refreshes with no change", async () => {
    // As an earlier version wrote it (~2.1 KB per copy); the steps below then run on it.
    const state = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    let rewritten = 0;
    for (const r of state.deployment.resources) {
      const kind = /^pulumi-nodejs:dynamic\/mailplane:(\w+)$/.exec(r.type)?.[1];
      if (!kind) continue;
      const old = legacyProviderText(kind, `mailplane-e2e-tenants/${stack}`);
      r.inputs.__provider = old;
      r.outputs.__provider = old;
      rewritten++;
    }
    expect(rewritten).toBeGreaterThanOrEqual(5);
    const file = join(ws.backendDir, "legacy-state.json");
    await writeFile(file, JSON.stringify(state));
    await ws.ok(["stack", "import", "--file", file]);
    await ws.ok(["preview", "--expect-no-changes"]);
    await ws.ok(["refresh", "--yes", "--skip-preview", "--expect-no-changes"]);
    await ws.ok(["preview", "--expect-no-changes"]);
    // An up with no change records the new text in the inputs, so the next real change diffs as that
    // field alone (before it, the engine would list `__provider` beside it once).
    await ws.ok(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
  });

  it("a field change renames the account in place and replaces the token; the old token is revoked", async () => {
    const oldId = await output("tokenId");
    const before = await admin.accounts.get("acme");
    await set("e2e:step", "update");
    const steps = await previewSteps(ws);
    expect(steps["acme"]).toMatchObject({ op: "update", changed: ["name"], replaceReasons: [] });
    expect(steps["acme-admin"]).toMatchObject({ op: "replace", replaceReasons: ["description"] });
    const diff = (await ws.ok(["preview", "--diff"])).stdout;
    expect(diff).toContain('~ name: "ACME Corp" => "ACME Corporation"');
    await ws.ok(["up", "--yes", "--skip-preview"]);
    // The rename kept the other fields (a whole-spec PUT under If-Match).
    expect(await admin.accounts.get("acme")).toMatchObject({
      name: "ACME Corporation",
      contact: "it@acme.test",
      limits: { domains: 5 },
      createdAt: before.createdAt,
    });
    const newId = await output("tokenId");
    expect(newId).not.toBe(oldId);
    expect((await acme.tokens.get(oldId)).revokedAt).not.toBeNull();
    expect(await acme.tokens.get(newId)).toMatchObject({ description: "Pulumi: ACME's tenancy" });
    // The domain stayed: only its connection's token changed.
    const value = await output("tokenValue");
    const asAcme = new MailplaneClient({ endpoint: a.url, token: value });
    expect((await asAcme.domains.list()).items.map((d) => d.name).sort()).toEqual([
      "acme.test",
      "manifest.acme.test",
    ]);
    await asAcme.close();
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("a new rotation value replaces the token, and the objects in the account carry on with the new one", async () => {
    const oldId = await output("tokenId");
    const domainBefore = await acme.domains.get("acme.test");
    await set("e2e:rotation", "2");
    const steps = await previewSteps(ws);
    expect(steps["acme-admin"]).toMatchObject({ op: "replace", replaceReasons: ["rotation"] });
    expect(steps["acme-domain"]?.op ?? "same").not.toBe("replace");
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await output("tokenId")).not.toBe(oldId);
    expect((await acme.tokens.get(oldId)).revokedAt).not.toBeNull();
    expect((await acme.domains.get("acme.test")).createdAt).toBe(domainBefore.createdAt);
    // Refresh and the next up reach the account with the new token (the old one is revoked).
    await ws.ok(["refresh", "--yes", "--skip-preview"]);
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("refresh shows an account renamed outside Pulumi, and up puts the name back", async () => {
    await acme.accounts.put({
      id: "acme",
      name: "Renamed by hand",
      contact: "it@acme.test",
      limits: { domains: 5 },
    });
    await ws.ok(["refresh", "--yes", "--skip-preview"]);
    const steps = await previewSteps(ws);
    expect(steps["acme"]).toMatchObject({ op: "update", changed: ["name"] });
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect((await admin.accounts.get("acme")).name).toBe("ACME Corporation");
  });

  it("a token revoked outside Pulumi: refresh drops it and says how to go on, and up makes a new one the objects then use", async () => {
    const oldId = await output("tokenId");
    await acme.tokens.revoke(oldId);
    // The objects reached with that token cannot be read with it any more: the error says what to do.
    const refresh = await ws.run(["refresh", "--yes", "--skip-preview"]);
    expect(refresh.code).not.toBe(0);
    expect(refresh.stdout + refresh.stderr).toContain("a refresh of that ApiToken (`pulumi refresh --target");
    // The full refresh read the token as gone already; when it did not get to it, the targeted one does.
    const resources = JSON.parse(await exported()).deployment.resources as { urn: string }[];
    const token = resources.find((r) => r.urn.endsWith("::acme-admin"));
    if (token) await ws.ok(["refresh", "--yes", "--skip-preview", "--target", token.urn]);
    const steps = await previewSteps(ws);
    expect(steps["acme-admin"]).toMatchObject({ op: "create" });
    await ws.ok(["up", "--yes", "--skip-preview"]);
    const newId = await output("tokenId");
    expect(newId).not.toBe(oldId);
    expect((await acme.tokens.get(newId)).revokedAt).toBeNull();
    await ws.ok(["refresh", "--yes", "--skip-preview"]);
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("refuses an Account declared with a tenant's account-admin token (403), and creates nothing", async () => {
    await set("e2e:fault", "tenant-admin");
    const up = await ws.run(["up", "--yes", "--skip-preview"]);
    expect(up.code).not.toBe(0);
    expect(up.stdout + up.stderr).toMatch(/create Account intruder failed \(MP_FORBIDDEN\)/);
    expect(await outcome(admin.accounts.get("intruder"))).toBe("MP_NOT_FOUND");
    await set("e2e:fault", "none");
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("a lookup of an object that does not exist fails the preview naming the function and the object", async () => {
    await set("e2e:fault", "missing-lookup");
    const preview = await ws.run(["preview"]);
    expect(preview.code).not.toBe(0);
    expect(preview.stdout + preview.stderr).toContain(
      "mailplane.getUser: user nobody@shared.test does not exist in account e2e",
    );
    await set("e2e:fault", "none");
  });

  it("a connection naming another endpoint without its own token fails at preview, before the stack's token is sent anywhere", async () => {
    await set("e2e:fault", "endpoint-without-token");
    const preview = await ws.run(["preview"]);
    expect(preview.code).not.toBe(0);
    expect(preview.stdout + preview.stderr).toContain("connection.token");
    expect(preview.stdout + preview.stderr).not.toContain(a.adminToken);
    await set("e2e:fault", "none");
  });

  it("destroy refuses to delete an account that still holds domains the program does not declare", async () => {
    await acme.domains.put({ name: "stray.test" });
    const destroy = await ws.run(["destroy", "--yes", "--skip-preview"]);
    expect(destroy.code).not.toBe(0);
    expect(destroy.stdout + destroy.stderr).toContain("it still has domains (stray.test)");
    expect(await admin.accounts.get("acme")).toMatchObject({ name: "ACME Corporation" });
    expect(await acme.domains.get("stray.test")).toMatchObject({ name: "stray.test" });
    await acme.domains.delete("stray.test");
  });

  it("destroy deletes the objects, revokes the token and deletes the account, on both platforms", async () => {
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await outcome(admin.accounts.get("acme"))).toBe("MP_NOT_FOUND");
    expect(await outcome(b.client.domains.get("elsewhere.test"))).toBe("MP_NOT_FOUND");
    // The shared objects the lookup read are untouched.
    expect(await a.client.users.get("ops@shared.test")).toMatchObject({ address: "ops@shared.test" });
  });
});
