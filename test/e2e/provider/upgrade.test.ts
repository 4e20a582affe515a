/**
 * Upgrading a stack written by a version whose per-object resources stored Pulumi's serialized closure
 * as `__provider` (~2.1 KB, twice per resource) to the hand-written provider text (~0.2 KB): the real
 * CLI sees no change on preview, refresh or up; the old text in the outputs still reads and deletes
 * (it calls the same runtime entry point); a real change updates in place as before.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { legacyProviderText } from "./legacy-provider.ts";
import { outcome, previewSteps, type TenancyStack, tenancyStack } from "./support.ts";

const PASSWORD = "Correct-Horse-Battery-42";
const PER_OBJECT = /^pulumi-nodejs:dynamic\/mailplane:(?!DomainTenancy$)(\w+)$/;

interface StateResource {
  type: string;
  urn: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

describe("upgrade from the serialized-closure provider text", () => {
  let t: TenancyStack;
  const api = () => t.platform.client;
  const exportState = async () => JSON.parse((await t.ws.ok(["stack", "export"])).stdout);
  const perObject = (state: { deployment: { resources: StateResource[] } }) =>
    state.deployment.resources.filter((r) => PER_OBJECT.test(r.type));

  beforeAll(async () => {
    t = await tenancyStack("upgrade", PASSWORD);
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    // The state as the previous version wrote it: the old text in inputs and outputs of every resource.
    const state = await exportState();
    const by = `mailplane-e2e-tenancy/${t.stack}`;
    for (const r of perObject(state)) {
      const old = legacyProviderText(PER_OBJECT.exec(r.type)![1]!, by);
      r.inputs!["__provider"] = old;
      r.outputs!["__provider"] = old;
    }
    const file = join(t.ws.backendDir, "legacy-state.json");
    await writeFile(file, JSON.stringify(state));
    await t.ws.ok(["stack", "import", "--file", file]);
  }, 300_000);

  afterAll(async () => {
    await t?.dispose();
  });

  it("the imported state holds the old text for all ten kinds", async () => {
    const resources = perObject(await exportState());
    expect(resources).toHaveLength(11);
    for (const r of resources) {
      expect(String(r.inputs!["__provider"])).toContain("exports.handler = __f0;");
      expect(String(r.outputs!["__provider"])).toContain("exports.handler = __f0;");
    }
  });

  it("preview and refresh show no change, and refresh reads through the old text", async () => {
    const steps = await previewSteps(t.ws);
    for (const [name, step] of Object.entries(steps)) {
      if (name.startsWith("mailplane-e2e-tenancy")) continue;
      expect(step.op, name).toBe("same");
    }
    await t.ws.ok(["preview", "--expect-no-changes"]);
    await t.ws.ok(["refresh", "--yes", "--skip-preview", "--expect-no-changes"]);
    await t.ws.ok(["preview", "--expect-no-changes"]);
  });

  it("up changes nothing on the platform and records the new text in the inputs", async () => {
    const etag = (await api().domains.get("example.test")).etag;
    await t.ws.ok(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    expect((await api().domains.get("example.test")).etag).toBe(etag);
    for (const r of perObject(await exportState())) {
      expect(String(r.inputs!["__provider"]), r.urn).toMatch(/^exports\.handler=\(\)=>/);
    }
  });

  it("a field change updates in place, and destroy deletes what still carries the old text", async () => {
    await t.set("step", "update");
    const steps = await previewSteps(t.ws);
    expect(steps["route"]).toMatchObject({ op: "update", changed: ["priority"] });
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await api().routes.get("example.test", "mx1.example.test:25")).toMatchObject({ priority: 20 });
    const route = perObject(await exportState()).find((r) => r.urn.endsWith("::route"))!;
    expect(String(route.outputs!["__provider"])).toMatch(/^exports\.handler=\(\)=>/);
    await t.ws.ok(["preview", "--expect-no-changes"]);

    await t.ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await outcome(api().domains.get("example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().domains.get("other.test"))).toBe("MP_NOT_FOUND");
  });
});
