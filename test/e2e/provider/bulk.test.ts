/**
 * Bulk mode with the real Pulumi CLI against a real control plane: a domain's tenancy is one resource;
 * up, a no-op preview, a one-field change previewed as that object's field only, drift shown on refresh
 * and reverted by up, a document with three invalid objects refused at preview naming all three
 * (nothing applied), passwords never in plain text in the state, and destroy emptying the domain.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/bulk");
const D = "bulk.test";
const PASSWORD = "Kq7-Bulk-Secret-1";

/** The manifest: a route, two aliases, a block list, a policy and users (`overrides` by address). */
function manifest(users: Record<string, Record<string, unknown>> = {}, extra = ""): string {
  const user = (local: string, fields: Record<string, unknown> = {}) =>
    `  - ${JSON.stringify({ address: `${local}@${D}`, firstName: local, ...fields, ...users[`${local}@${D}`] })}`;
  return [
    "apiVersion: mailplane/v1",
    "domains:",
    `  - name: ${D}`,
    "routes:",
    `  - { domain: ${D}, host: mx1.${D}, port: 2626, priority: 10, tls: none }`,
    "aliases:",
    `  - { address: sales@${D}, action: { type: forward, to: [ana@${D}] } }`,
    `  - { address: joe@${D}, action: { type: reject, message: Joe left } }`,
    "senderLists:",
    `  - { domain: ${D}, kind: block, target: sender, entries: ["*@junk.example"] }`,
    "passwordPolicies:",
    `  - { scope: ${D}, minLength: 12 }`,
    "users:",
    user("ana"),
    user("bob"),
    user("cy", { quotaMb: 100 }),
    extra,
  ].join("\n");
}

describe("bulk mode: real CLI, real control plane", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  let dir: string;
  const stack = `bulk-${process.pid}`;
  const file = () => join(dir, "tenancy.yaml");
  const live = () => platform.client.request<any>("GET", `/v1/domains/${D}/tenancy`);
  const run = async (args: string[]) => {
    const result = await ws.run(args);
    return { code: result.code, text: result.stdout + result.stderr };
  };

  beforeAll(async () => {
    platform = await startTestPlatform();
    dir = await mkdtemp(join(tmpdir(), "mailplane-bulk-"));
    await writeFile(file(), manifest());
    ws = await createPulumiWorkspace(program, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "e2e:manifest", file()]);
    await ws.ok(["config", "set", "--secret", "--path", `e2e:passwords["ana@${D}"]`, PASSWORD]);
  }, 120_000);

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await rm(dir, { recursive: true, force: true });
    await platform?.close();
  });

  it("creates the whole domain as one resource, and a second preview expects no changes", async () => {
    const up = await ws.ok(["up", "--yes", "--skip-preview"]);
    expect(up.stdout).toContain("dynamic/mailplane:DomainTenancy acme-bulk.test created");
    const tenancy = await live();
    expect(tenancy.document.users.map((u: { address: string }) => u.address)).toEqual([
      `ana@${D}`,
      `bob@${D}`,
      `cy@${D}`,
    ]);
    expect(tenancy.passwordsSetAt[`ana@${D}`]).toEqual(expect.any(String));
    expect(tenancy.passwordsSetAt[`bob@${D}`]).toBeNull();
    const state = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    const resources = state.deployment.resources.filter((r: { type: string }) =>
      r.type.includes("DomainTenancy"),
    );
    expect(resources).toHaveLength(1);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 180_000);

  it("keeps the password out of the state in plain text (a secret by address in inputs and outputs)", async () => {
    const exported = (await ws.ok(["stack", "export"])).stdout;
    expect(exported).not.toContain(PASSWORD);
    const state = JSON.parse(exported);
    const [tenancy] = state.deployment.resources.filter((r: { type: string }) =>
      r.type.includes("DomainTenancy"),
    );
    for (const side of [tenancy.inputs, tenancy.outputs]) {
      expect(side.passwords[`ana@${D}`]).toMatchObject({
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      });
      expect(side.passwords[`bob@${D}`]).toBeUndefined();
      // Everything else stays readable for review: one JSON text per object.
      expect(JSON.parse(side.users[`bob@${D}`]).firstName).toBe("bob");
      expect(side.users[`ana@${D}`]).not.toContain("password");
    }
  }, 60_000);

  it("keeps a stack whose state an earlier release wrote (a tree per object, passwords in their users): no change on preview or refresh, and up rewrites only the state", async () => {
    const exported = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    const tenancy = exported.deployment.resources.find((r: { type: string }) =>
      r.type.includes("DomainTenancy"),
    );
    const earlier = (side: Record<string, any>) => {
      for (const list of ["routes", "aliases", "senderLists", "users", "groups"]) {
        for (const [key, text] of Object.entries(side[list] ?? {}))
          side[list][key] = JSON.parse(String(text));
      }
      for (const [address, secret] of Object.entries(side.passwords ?? {})) {
        side.users[address].password = secret;
      }
      delete side.passwords;
    };
    earlier(tenancy.inputs);
    earlier(tenancy.outputs);
    const file = join(dir, "earlier-state.json");
    await writeFile(file, JSON.stringify(exported));
    await ws.ok(["stack", "import", "--file", file]);
    const before = (await live()).etag;
    await ws.ok(["preview", "--expect-no-changes"]);
    await ws.ok(["refresh", "--yes", "--skip-preview", "--expect-no-changes"]);
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect((await live()).etag).toBe(before);
    const after = JSON.parse((await ws.ok(["stack", "export"])).stdout).deployment.resources.find(
      (r: { type: string }) => r.type.includes("DomainTenancy"),
    );
    expect(typeof after.inputs.users[`bob@${D}`]).toBe("string");
    expect(after.inputs.passwords[`ana@${D}`]).toMatchObject({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    });
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 180_000);

  it("previews a one-field change as that object's field only, and applies it", async () => {
    await writeFile(file(), manifest({ [`bob@${D}`]: { enabled: false } }));
    const { text } = await run(["preview", "--diff"]);
    const changed = text.split("\n").filter((line) => /^\s*[~+-] /.test(line) && !/\d+ to /.test(line));
    // Keys are padded to the widest of their level: compared without the padding.
    expect(changed.map((line) => line.trim().replace(/ +:/, ":"))).toEqual([
      "~ pulumi-nodejs:dynamic/mailplane:DomainTenancy: (update)",
      "~ users: {",
      `~ bob@${D}: (json) {`,
      "~ enabled: true => false",
    ]);
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect((await live()).document.users[1].enabled).toBe(false);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 180_000);

  it("shows an out-of-band change on refresh, per object, and up reverts it", async () => {
    await platform.client.request("PATCH", `/v1/domains/${D}/users/cy@${D}`, { body: { quotaMb: 5 } });
    const refresh = (await ws.ok(["refresh", "--yes", "--skip-preview", "--diff"])).stdout.replace(
      / +:/g,
      ":",
    );
    expect(refresh).toContain(`~ cy@${D}: (json) {`);
    expect(refresh).toContain("~ quotaMb: 100 => 5");
    const { text } = await run(["preview", "--diff"]);
    expect(text.replace(/ +:/g, ":")).toContain("~ quotaMb: 5 => 100");
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect((await live()).document.users[2].quotaMb).toBe(100);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 180_000);

  it("refuses a manifest with three invalid objects at preview, naming all three, and applies nothing", async () => {
    const before = (await live()).etag;
    await writeFile(
      file(),
      manifest({ [`bob@${D}`]: { quotaMb: -1 } }, `  - { address: "not an address", firstName: x }`).replace(
        "port: 2626",
        "port: 70000",
      ),
    );
    const { code, text } = await run(["up", "--yes"]);
    expect(code).not.toBe(0);
    expect(text).toContain("routes[0].port");
    expect(text).toContain("users[1].quotaMb");
    expect(text).toContain("users[3].address");
    expect((await live()).etag).toBe(before);
    await writeFile(file(), manifest({ [`bob@${D}`]: { enabled: false } }));
  }, 120_000);

  it("refuses a DomainTenancy document with three invalid objects in check, each by its property path", async () => {
    const before = (await live()).etag;
    const document = {
      domains: [{ name: "direct.test" }],
      routes: [{ domain: "direct.test", host: "mx1.direct.test", port: 70000 }],
      aliases: [{ address: "a@direct.test", action: { type: "forward", to: ["not an address"] } }],
      users: [{ address: "u@direct.test", quotaMb: -1 }],
    };
    await ws.ok(["config", "set", "--path", "e2e:document", JSON.stringify(document)]);
    try {
      const { code, text } = await run(["preview"]);
      expect(code).not.toBe(0);
      expect(text).toContain('routes["mx1.direct.test:70000"].port');
      expect(text).toContain('aliases["a@direct.test"].action.to[0]');
      expect(text).toContain('users["u@direct.test"].quotaMb');
    } finally {
      await ws.ok(["config", "rm", "e2e:document"]);
    }
    expect((await live()).etag).toBe(before);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 120_000);

  it("refuses at preview, as at up, a document whose domain another account holds, and applies nothing", async () => {
    const before = (await live()).etag;
    const other = new MailplaneClient({
      endpoint: platform.url,
      token: platform.adminToken,
      account: "holder",
    });
    await other.accounts.put({ id: "holder", name: "Holder" });
    await other.request("PUT", "/v1/domains/taken.test/tenancy", {
      body: { domains: [{ name: "taken.test" }], users: [{ address: "owner-secret@taken.test" }] },
    });
    await other.close();
    const document = { domains: [{ name: "taken.test" }], users: [{ address: "u@taken.test" }] };
    await ws.ok(["config", "set", "--path", "e2e:document", JSON.stringify(document)]);
    try {
      for (const args of [["preview"], ["up", "--yes", "--skip-preview"]]) {
        const { code, text } = await run(args);
        expect(code, args[0]).not.toBe(0);
        expect(text, args[0]).toMatch(
          /property domain\.name .*has a problem: is held by another account that has not verified it/,
        );
        expect(text, args[0]).not.toContain("owner-secret");
        expect(text, args[0]).not.toContain("holder");
      }
    } finally {
      await ws.ok(["config", "rm", "e2e:document"]);
    }
    expect((await live()).etag).toBe(before);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 180_000);

  it("destroy empties the domain", async () => {
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
    await expect(live()).rejects.toMatchObject({ code: "MP_NOT_FOUND" });
    const users = await platform.client.request<any>("GET", "/v1/users").catch(() => ({ items: [] }));
    expect(users.items ?? []).toEqual([]);
  }, 120_000);

  it("stores a password written in a DomainTenancy's document only encrypted", async () => {
    const plain = "Zr8-Plain-In-Document";
    const document = {
      domains: [{ name: "direct.test" }],
      users: [{ address: "u@direct.test", password: plain }],
    };
    await ws.ok(["config", "set", "--path", "e2e:document", JSON.stringify(document)]);
    try {
      await ws.ok(["up", "--yes", "--skip-preview"]);
      expect(
        (await platform.client.request<any>("GET", "/v1/domains/direct.test/tenancy")).passwordsSetAt,
      ).toEqual({
        "u@direct.test": expect.any(String),
      });
      // The default provider records the stack's config, where this test put the document in plain
      // text itself; every resource of the program must hold the password encrypted only.
      const state = JSON.parse((await ws.ok(["stack", "export"])).stdout);
      const resources = JSON.stringify(
        state.deployment.resources.filter((r: { type: string }) => !r.type.startsWith("pulumi:providers:")),
      );
      expect(resources).toContain("u@direct.test");
      expect(resources).not.toContain(plain);
      await ws.ok(["destroy", "--yes", "--skip-preview"]);
    } finally {
      await ws.ok(["config", "rm", "e2e:document"]);
    }
  }, 180_000);
});
