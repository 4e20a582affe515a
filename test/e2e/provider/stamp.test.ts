/**
 * The stack stamp with the real Pulumi CLI against a real control plane: `pulumi up` leaves each
 * object it wrote (one by one and in bulk) stamped with this project and stack, visible through the
 * API; the stamp makes no diff (no-op preview and refresh stay clean) and stays out of the state;
 * an edit from elsewhere keeps it, and the next `pulumi up --refresh` reverts the edit.
 */
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/stamp");
const PROJECT = "mailplane-e2e-stamp";

describe("the provider stamps what it writes with the project and stack: real CLI, real control plane", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  const stack = `stamp-${process.pid}`;
  const stamp = { tool: "pulumi", project: PROJECT, stack };
  const get = (path: string) => platform.client.request<Record<string, any>>("GET", path);

  beforeAll(async () => {
    platform = await startTestPlatform();
    ws = await createPulumiWorkspace(program, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "e2e:password", "Stamp-Secret-Battery-9"]);
  });

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await platform?.close();
  });

  it("up stamps every object it writes, one by one and in bulk, with this project and stack", async () => {
    await ws.ok(["up", "--yes", "--skip-preview"]);
    const objects = {
      domain: await get("/v1/domains/stamp.test"),
      alias: await get("/v1/domains/stamp.test/aliases/info@stamp.test"),
      user: await get("/v1/domains/stamp.test/users/ana@stamp.test"),
      filter: await get("/v1/domains/stamp.test/filter-settings"),
      bulkDomain: await get("/v1/domains/bulk-stamp.test"),
      bulkAlias: await get("/v1/domains/bulk-stamp.test/aliases/sales@bulk-stamp.test"),
    };
    for (const [name, object] of Object.entries(objects)) expect(object.managedBy, name).toEqual(stamp);
    // The filter settings were declared at their defaults: written anyway, to hold the stamp.
    expect(objects.filter.etag).not.toBe("defaults");
  });

  it("makes no diff: a preview and a refresh after up find nothing to change, and the state holds no stamp", async () => {
    await ws.ok(["preview", "--expect-no-changes"]);
    await ws.ok(["refresh", "--yes", "--expect-no-changes"]);
    await ws.ok(["preview", "--expect-no-changes"]);
    const state = (await ws.ok(["stack", "export"])).stdout;
    expect(state).toContain("info@stamp.test");
    expect(state).not.toContain("managedBy");
  });

  it("keeps the stamp through an edit from elsewhere, which the next up --refresh reverts", async () => {
    const path = "/v1/domains/stamp.test/aliases/info@stamp.test";
    const edited = await platform.client.request<Record<string, any>>("PATCH", path, {
      body: { action: { type: "forward", to: ["someone@elsewhere.example"] } },
    });
    expect(edited.managedBy).toEqual(stamp);
    await ws.ok(["up", "--yes", "--refresh", "--skip-preview"]);
    const reverted = await get(path);
    expect(reverted.action).toEqual({ type: "forward", to: ["ana@stamp.test"] });
    expect(reverted.managedBy).toEqual(stamp);
    await ws.ok(["preview", "--expect-no-changes"]);
  });
});
