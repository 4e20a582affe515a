/**
 * What Pulumi users expect around the lifecycle, with the real CLI against a real control plane:
 * protect, ignoreChanges and retainOnDelete; bad input failing at preview with the property named;
 * a missing endpoint or token failing at preview; the environment as configuration; adopt.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outcome, previewSteps, type TenancyStack, tenancyStack } from "./support.ts";

describe("provider options and failures: real CLI, real control plane", () => {
  let t: TenancyStack;
  const api = () => t.platform.client;
  const route = () => api().routes.get("example.test", "mx1.example.test:25");

  beforeAll(async () => {
    t = await tenancyStack("options", "Correct-Horse-Battery-42");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
  });

  afterAll(async () => {
    await t?.dispose();
  });

  it("protect: destroy refuses and nothing is deleted", async () => {
    await t.set("protect", "true");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    const destroy = await t.ws.run(["destroy", "--yes"]);
    expect(destroy.code).not.toBe(0);
    expect(destroy.stdout + destroy.stderr).toMatch(/protected/);
    expect(await outcome(route())).toBe("ok");
    expect(await outcome(api().domains.get("example.test"))).toBe("ok");
    await t.set("protect", "false");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
  });

  it("ignoreChanges: an ignored field neither diffs from the program nor reverts drift", async () => {
    await t.set("ignoreChanges", "true");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    // The program's priority changes (update step): the route stays unchanged, the others update.
    await t.set("step", "update");
    const steps = await previewSteps(t.ws);
    expect(steps["route"]?.op ?? "same").toBe("same");
    expect(steps["domain"]?.op).toBe("update");
    await t.set("step", "base");
    // Drift in the ignored field is recorded by refresh and left alone by up.
    await api().routes.patch("example.test", "mx1.example.test:25", { priority: 77 });
    await t.ws.ok(["refresh", "--yes", "--skip-preview"]);
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await route()).toMatchObject({ priority: 77 });
    // Without ignoreChanges the program wins again.
    await t.set("ignoreChanges", "false");
    expect((await previewSteps(t.ws))["route"]).toMatchObject({ op: "update", changed: ["priority"] });
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await route()).toMatchObject({ priority: 10 });
  });

  it("retainOnDelete: removed from the program, the route leaves the stack but stays on the platform", async () => {
    await t.set("retainOnDelete", "true");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    await t.set("withoutRoute", "true");
    expect((await previewSteps(t.ws))["route"]?.op).toBe("delete");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await outcome(route())).toBe("ok");
    const exported = JSON.parse((await t.ws.ok(["stack", "export"])).stdout);
    expect(exported.deployment.resources.map((r: { type: string }) => r.type)).not.toContainEqual(
      expect.stringMatching(/:Route$/),
    );
    // Back: the retained route is on the platform, so declaring it again needs adopt, or a cleanup.
    await api().routes.delete("example.test", "mx1.example.test:25");
    await t.set("withoutRoute", "false");
    await t.set("retainOnDelete", "false");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await outcome(route())).toBe("ok");
  });

  const badInputs: [step: string, property: string, reason: RegExp][] = [
    ["bad-port", "port", />=\s?1/],
    ["bad-threshold", "tagThreshold", /must be below quarantineThreshold \(0\.5\)/],
    ["bad-extension", "blockedExtensions[1]", /must be a file extension/],
    ["bad-address", "externalAddress", /must be an email address/],
  ];
  for (const [step, property, reason] of badInputs) {
    it(`bad input fails at preview with the property named: ${step}`, async () => {
      await t.set("step", step);
      const preview = await t.ws.run(["preview"]);
      expect(preview.code).not.toBe(0);
      const output = preview.stdout + preview.stderr;
      expect(output).toContain(`property ${property} `);
      expect(output).toMatch(reason);
      await t.set("step", "base");
    });
  }

  it("missing endpoint and token fail at preview, naming the stack config key and the variable", async () => {
    await t.ws.ok(["config", "rm", "mailplane:endpoint"]);
    await t.ws.ok(["config", "rm", "mailplane:token"]);
    const env = { MAILPLANE_ENDPOINT: "", MAILPLANE_TOKEN: "" };
    const preview = await t.ws.run(["preview"], env);
    expect(preview.code).not.toBe(0);
    const output = preview.stdout + preview.stderr;
    for (const name of ["mailplane:endpoint", "MAILPLANE_ENDPOINT", "mailplane:token", "MAILPLANE_TOKEN"]) {
      expect(output).toContain(name);
    }
  });

  it("MAILPLANE_ENDPOINT and MAILPLANE_TOKEN work without stack config", async () => {
    await t.ws.ok(["preview", "--expect-no-changes"], {
      MAILPLANE_ENDPOINT: t.platform.url,
      MAILPLANE_TOKEN: t.platform.token,
    });
    await t.ws.ok(["config", "set", "mailplane:endpoint", t.platform.url]);
    await t.ws.ok(["config", "set", "--secret", "mailplane:token", t.platform.token]);
  });

  it("a platform-admin token works with mailplane:account naming the account", async () => {
    await t.ws.ok(["config", "set", "--secret", "mailplane:token", t.platform.adminToken]);
    await t.ws.ok(["config", "set", "mailplane:account", t.platform.account]);
    await t.ws.ok(["preview", "--expect-no-changes", "--refresh"]);
    await t.ws.ok(["config", "rm", "mailplane:account"]);
    await t.ws.ok(["config", "set", "--secret", "mailplane:token", t.platform.token]);
  });

  it("a create over an existing object fails unless adopt is set; adopt converges it and reports what differed", async () => {
    await api().domains.put({ name: "adopted.test", timezone: "Asia/Tokyo" });
    await t.set("adoptee", "adopted.test");
    const refused = await t.ws.run(["up", "--yes", "--skip-preview"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/adopted\.test already exists; set `adopt: true`/);
    expect(await api().domains.get("adopted.test")).toMatchObject({ timezone: "Asia/Tokyo" });

    await t.set("adopt", "true");
    const adopted = await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(adopted.stdout).toContain('adopting Domain adopted.test: timezone: "Asia/Tokyo" → "UTC"');
    expect(await api().domains.get("adopted.test")).toMatchObject({ timezone: "UTC" });
    await t.ws.ok(["preview", "--expect-no-changes"]);
    // Adopted means owned: destroy deletes it.
    await t.ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await outcome(api().domains.get("adopted.test"))).toBe("MP_NOT_FOUND");
  });
});
