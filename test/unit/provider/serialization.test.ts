/**
 * The serialized provider, tested the way the engine uses it: the SDK serializes each resource's
 * provider into `__provider`, the dynamic-provider process loads that text with require-from-string and
 * calls configure, check, create… Here: sizes per kind, nothing secret inside, and the loaded text works.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../../e2e/provider/platform.ts";

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = "mp_serialization-test-token-0123456789abcdef";
const PASSWORD = "Serialization-Secret-42";
const KINDS = [
  "Domain",
  "Route",
  "Alias",
  "SenderList",
  "FilterSettings",
  "PasswordPolicy",
  "User",
  "Account",
  "ApiToken",
];
/**
 * Every resource stores this text twice (inputs and outputs) and the engine rewrites the whole state
 * after each step, so its size is part of every step's cost: 2,096–2,106 bytes when Pulumi's closure
 * serializer wrote it, ~215 now that it is written by hand (`providerText` in shim.ts), plus the stack
 * stamp `serialization/test`, which grows with the project and stack names (up to ~200 bytes more for
 * the longest). The budget catches anything creeping in (a captured module or client adds kilobytes).
 */
const BUDGET = 300;

// The engine's own loader, from the dynamic-provider command's dependencies.
const pulumiRequire = createRequire(
  createRequire(import.meta.url).resolve("@pulumi/pulumi/cmd/dynamic-provider"),
);
const requireFromString = pulumiRequire("require-from-string") as (code: string) => {
  handler(): Record<string, (...args: any[]) => Promise<any>>;
};

describe("the serialized provider of each resource", () => {
  let texts: Record<string, string>;
  let platform: TestPlatform | undefined;

  afterAll(async () => {
    await platform?.close();
  });

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(here, "fixtures/serialize-providers.ts")],
      {
        env: {
          ...process.env,
          FIXTURE_PASSWORD: PASSWORD,
          MAILPLANE_TOKEN: TOKEN,
          // The stack config a program would see, token included.
          PULUMI_CONFIG: JSON.stringify({
            "mailplane:token": TOKEN,
            "mailplane:endpoint": "http://127.0.0.1:9",
          }),
        },
      },
    );
    texts = JSON.parse(stdout);
  }, 60_000);

  it("is serialized for every kind, within the size budget", () => {
    expect(Object.keys(texts).sort()).toEqual([...KINDS].sort());
    const sizes = Object.fromEntries(KINDS.map((k) => [k, texts[k]!.length]));
    console.info(`serialized __provider size per resource (bytes): ${JSON.stringify(sizes)}`);
    for (const kind of KINDS) expect(texts[kind]!.length, kind).toBeLessThan(BUDGET);
  });

  it("holds no token, no password and no runtime code: only the kind and the import", () => {
    for (const kind of KINDS) {
      const text = texts[kind]!;
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PASSWORD);
      expect(text).toContain(`call("${kind}",m,a,"serialization/test")`);
      expect(text).toContain('import("mailplane/provider-runtime")');
      expect(text).not.toContain("require(");
    }
  });

  it("loads back with require-from-string and runs configure and check through the runtime", async () => {
    for (const kind of KINDS) {
      const provider = requireFromString(texts[kind]!).handler();
      expect(Object.keys(provider).sort()).toEqual([
        "check",
        "configure",
        "create",
        "delete",
        "diff",
        "read",
        "update",
      ]);
    }
    const domain = requireFromString(texts["Domain"]!).handler();
    const stack: Record<string, string> = {
      "mailplane:endpoint": "http://127.0.0.1:9",
      "mailplane:token": TOKEN,
    };
    await domain["configure"]!({ config: { get: (key: string) => stack[key] } });
    const checked = await domain["check"]!({}, { name: "Example.COM", aliases: ["B.example", "a.example"] });
    expect(checked).toEqual({
      inputs: expect.objectContaining({ name: "example.com", aliases: ["a.example", "b.example"] }),
      failures: [],
    });
  });

  it("creates, reads and deletes against a real control plane, configured only through configure()", async () => {
    platform = await startTestPlatform("serialization");
    const stack: Record<string, string> = {
      "mailplane:endpoint": platform.url,
      "mailplane:token": platform.token,
    };
    const config = { get: (key: string) => stack[key] };
    const domain = requireFromString(texts["Domain"]!).handler();
    const route = requireFromString(texts["Route"]!).handler();
    await domain["configure"]!({ config });
    await route["configure"]!({ config });

    const domainInputs = (await domain["check"]!({}, { name: "serialized.test" })).inputs;
    const created = await domain["create"]!({ ...domainInputs, __provider: texts["Domain"] });
    expect(created.id).toBe("serialized.test");
    const routeInputs = (
      await route["check"]!({}, { domain: "serialized.test", host: "MX1.serialized.test" })
    ).inputs;
    const createdRoute = await route["create"]!({ ...routeInputs, __provider: texts["Route"] });
    expect(createdRoute.id).toBe("serialized.test/routes/mx1.serialized.test:25");
    expect(await platform.client.routes.get("serialized.test", "mx1.serialized.test:25")).toMatchObject({
      priority: 10,
    });

    await platform.client.routes.patch("serialized.test", "mx1.serialized.test:25", { priority: 30 });
    const read = await route["read"]!(createdRoute.id, createdRoute.outs);
    expect(read.inputs).toMatchObject({ host: "mx1.serialized.test", port: 25, priority: 30 });
    await route["delete"]!(createdRoute.id, createdRoute.outs);
    await domain["delete"]!(created.id, created.outs);
    await expect(platform.client.domains.get("serialized.test")).rejects.toMatchObject({
      code: "MP_NOT_FOUND",
    });
  }, 60_000);
});
