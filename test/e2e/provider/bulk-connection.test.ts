/**
 * Bulk mode with `connection`, real CLI, two real control planes: the stack's settings name platform
 * A, the Tenancy's connection platform B. The tenancy lives on B only, the connection is a secret in
 * the state, a refresh sees no drift, an endpoint without its own token fails at preview before the
 * stack's token is sent anywhere, and dropping the connection moves the tenancy to A (replaced:
 * created on A, deleted from B).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";
import { outcome, readTree } from "./support.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/bulk");
const D = "conn.test";

describe("bulk mode with a connection: real CLI, two platforms", () => {
  let a: TestPlatform;
  let b: TestPlatform;
  let ws: PulumiWorkspace;
  let dir: string;
  const stack = `bulk-conn-${process.pid}`;
  const tenancyOn = (p: TestPlatform) => p.client.request<any>("GET", `/v1/domains/${D}/tenancy`);
  const run = async (args: string[]) => {
    const result = await ws.run(args);
    return { code: result.code, text: result.stdout + result.stderr };
  };

  beforeAll(async () => {
    a = await startTestPlatform("e2e");
    b = await startTestPlatform("other");
    dir = await mkdtemp(join(tmpdir(), "mailplane-bulk-conn-"));
    await writeFile(
      join(dir, "tenancy.yaml"),
      [
        "apiVersion: mailplane/v1",
        "domains:",
        `  - name: ${D}`,
        "users:",
        `  - { address: ana@${D}, firstName: Ana }`,
        "aliases:",
        `  - { address: info@${D}, action: { type: forward, to: [ana@${D}] } }`,
      ].join("\n"),
    );
    ws = await createPulumiWorkspace(program, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", a.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", a.token]);
    await ws.ok(["config", "set", "e2e:manifest", join(dir, "tenancy.yaml")]);
    await ws.ok(["config", "set", "--path", "e2e:connection.endpoint", b.url]);
    await ws.ok(["config", "set", "--secret", "--path", "e2e:connection.token", b.token]);
  }, 120_000);

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await rm(dir, { recursive: true, force: true });
    await a?.close();
    await b?.close();
  });

  it("applies the tenancy on the connection's platform only, with the connection a secret in the state", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect((await tenancyOn(b)).document.users).toEqual([expect.objectContaining({ address: `ana@${D}` })]);
    expect(await outcome(tenancyOn(a))).toBe("MP_NOT_FOUND");
    const state = (await ws.ok(["stack", "export"])).stdout;
    const backend = await readTree(ws.backendDir);
    for (const secret of [b.token, a.token]) {
      expect(state).not.toContain(secret);
      expect(backend).not.toContain(secret);
    }
    const [tenancy] = JSON.parse(state).deployment.resources.filter((r: { type: string }) =>
      r.type.includes("DomainTenancy"),
    );
    expect(tenancy.inputs.connection).toHaveProperty("ciphertext");
    expect(tenancy.outputs.connection).toHaveProperty("ciphertext");
  }, 180_000);

  it("sees no drift on refresh and no change on preview", async () => {
    await ws.ok(["refresh", "--yes", "--skip-preview", "--expect-no-changes"]);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 120_000);

  it("refuses at preview a connection naming an endpoint without its own token, before the stack's token is sent anywhere", async () => {
    await ws.ok(["config", "rm", "--path", "e2e:connection.token"]);
    try {
      const { code, text } = await run(["preview"]);
      expect(code).not.toBe(0);
      expect(text).toContain("connection.token");
      expect(text).not.toContain(a.token);
    } finally {
      await ws.ok(["config", "set", "--secret", "--path", "e2e:connection.token", b.token]);
    }
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 120_000);

  it("moves the tenancy to the stack's platform when the connection is dropped: replaced, created on A and deleted from B", async () => {
    await ws.ok(["config", "rm", "e2e:connection"]);
    const { text } = await run(["preview", "--diff"]);
    expect(text).toMatch(/\+-\s*pulumi-nodejs:dynamic\/mailplane:DomainTenancy: \(replace\)/);
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect((await tenancyOn(a)).document.users).toEqual([expect.objectContaining({ address: `ana@${D}` })]);
    expect(await outcome(tenancyOn(b))).toBe("MP_NOT_FOUND");
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 180_000);
});
