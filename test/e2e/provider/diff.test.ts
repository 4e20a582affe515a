/**
 * How changes read in review, with the real Pulumi CLI against a real control plane: a list insertion
 * previews as one added element, a reorder as no change, a bad value is shown in the error with every
 * other error of the resource (a secret as `[secret]`), and a stack made when Tenancy named its
 * children by bare IDs upgrades to `<component>-<id>` names without replacing anything.
 */
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/diff");
const PASSWORD = "Correct-Horse-Battery-42";
const TO = ["alice@example.test", "carol@example.test"];
const ENTRIES = ["spam.example", "bob@example.net"];

/** The lines of `pulumi preview --diff` between a resource's header and the next one. */
function diffLines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^[~+-] (\[\d+\]|to|action)/.test(line));
}

describe("provider diff ergonomics: real CLI, real control plane", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  const stack = `diff-${process.pid}`;
  const set = (key: string, value: unknown) =>
    ws.ok(["config", "set", `e2e:${key}`, typeof value === "string" ? value : JSON.stringify(value)]);
  const run = async (args: string[]) => {
    const result = await ws.run(args);
    return { code: result.code, text: result.stdout + result.stderr };
  };

  beforeAll(async () => {
    platform = await startTestPlatform();
    ws = await createPulumiWorkspace(program, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "e2e:password", PASSWORD]);
    await set("to", TO);
    await set("entries", ENTRIES);
    await ws.ok(["up", "--yes", "--skip-preview"]);
  });

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await platform?.close();
  });

  it("previews an insertion into the middle of a forward list as one added element, and applies it", async () => {
    await set("to", ["alice@example.test", "bob@example.test", "carol@example.test"]);
    const { text } = await run(["preview", "--diff"]);
    expect(diffLines(text)).toEqual(["~ action: {", "~ to: [", '+ [2]: "bob@example.test"']);
    await ws.ok(["up", "--yes", "--skip-preview"]);
    // The platform stores the set sorted, as before; only the stack's inputs keep the written order.
    expect((await platform.client.aliases.get("team@example.test")).action).toMatchObject({
      to: ["alice@example.test", "bob@example.test", "carol@example.test"],
    });
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("previews a reorder (and another case) as no change", async () => {
    await set("to", ["Carol@Example.test", "bob@example.test", "alice@example.test"]);
    await set("entries", ["bob@example.net", "SPAM.example"]);
    await ws.ok(["preview", "--expect-no-changes"]);
  });

  it("shows each bad value in the error, every error of the resource at once", async () => {
    await set("to", ["alice@example.test", "not an address", "also@bad@example"]);
    const { code, text } = await run(["preview"]);
    expect(code).not.toBe(0);
    expect(text).toContain('property action.to[1] value "not an address": must be an email address');
    expect(text).toContain('property action.to[2] value "also@bad@example": must be an email address');
    expect(text).not.toContain("{<nil>}");
    await set("to", TO);
  });

  it("shows a secret's value as [secret], never the value", async () => {
    const long = `Secret-${"x".repeat(1030)}`;
    await ws.ok(["config", "set", "--secret", "e2e:password", long]);
    await set("withUser", "true");
    const { code, text } = await run(["preview"]);
    expect(code).not.toBe(0);
    expect(text).toMatch(/property password value \[secret\]: .*1024/);
    expect(text).not.toContain("xxxxxxxxxx");
    await ws.ok(["config", "set", "--secret", "e2e:password", PASSWORD]);
    await set("withUser", "false");
  });

  it("carries a stack whose Tenancy children have bare-ID names over to <component>-<id> without a replace", async () => {
    await set("tenancy", "true");
    await ws.ok(["up", "--yes", "--skip-preview"]);
    const exported = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    const urns: string[] = exported.deployment.resources.map((r: { urn: string }) => r.urn);
    expect(urns).toContainEqual(
      expect.stringMatching(/Tenancy\$pulumi-nodejs:dynamic\/mailplane:Alias::acme-info@tenant\.test$/),
    );
    // The state an earlier version made: the same resources, named by their bare IDs.
    const legacy = JSON.stringify(exported).replaceAll("::acme-", "::");
    const file = join(ws.backendDir, "legacy-state.json");
    await writeFile(file, legacy);
    await ws.ok(["stack", "import", "--file", file]);
    const before = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    expect(before.deployment.resources.map((r: { urn: string }) => r.urn)).toContainEqual(
      expect.stringMatching(/Tenancy\$pulumi-nodejs:dynamic\/mailplane:Alias::info@tenant\.test$/),
    );

    // No create, delete or replace: every resource is the same, each child aliased from its old name.
    const preview = await ws.json<{
      steps: { op: string; urn: string; oldState?: { urn: string } }[];
      changeSummary: Record<string, number>;
    }>(["preview", "--show-sames"]);
    expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
    expect(preview.steps.filter((s) => s.op !== "same")).toEqual([]);
    const children = preview.steps.filter((s) => s.urn.includes("Tenancy$"));
    expect(children.map((s) => s.urn).sort()).toEqual(urns.filter((urn) => urn.includes("Tenancy$")).sort());
    expect(children).toHaveLength(3);
    for (const step of children) expect(step.oldState?.urn).toBe(step.urn.replace("::acme-", "::"));
    await ws.ok(["up", "--yes", "--skip-preview"]);
    const after = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    expect(after.deployment.resources.map((r: { urn: string }) => r.urn).sort()).toEqual([...urns].sort());
    await ws.ok(["preview", "--expect-no-changes"]);
  });
});
