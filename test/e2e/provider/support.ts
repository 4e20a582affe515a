/** Shared helpers of the provider e2e tests: a stack of the tenancy program against a test platform, and preview parsing. */
import { readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";

export const tenancyProgram = join(dirname(fileURLToPath(import.meta.url)), "programs/tenancy");

/** The nine kinds' resource names in the tenancy program (a Domain key change uses the second domain). */
export const KIND_RESOURCES = {
  Domain: "domain",
  Route: "route",
  Alias: "alias",
  SenderList: "blocked",
  FilterSettings: "filter",
  PasswordPolicy: "passwords",
  User: "user",
  Group: "group",
  AccessRule: "access",
  ReportSettings: "reports",
} as const;

export interface PreviewStep {
  op: string;
  type: string;
  /** Changed input paths (`timezone`, `action.to[2]`), from the engine's detailedDiff. */
  changed: string[];
  replaceReasons: string[];
}

/** `pulumi preview --json`, as steps keyed by resource name. */
export async function previewSteps(
  ws: PulumiWorkspace,
  args: string[] = [],
  env?: Record<string, string>,
): Promise<Record<string, PreviewStep>> {
  const preview = await ws.json<{
    steps: {
      op: string;
      urn: string;
      detailedDiff?: Record<string, unknown> | null;
      replaceReasons?: string[];
    }[];
  }>(["preview", ...args], env);
  const steps: Record<string, PreviewStep> = {};
  for (const step of preview.steps) {
    const [type, name] = step.urn.split("::").slice(-2) as [string, string];
    steps[name] = {
      op: step.op,
      type: type.split(":").at(-1)!,
      changed: Object.keys(step.detailedDiff ?? {}).sort(),
      replaceReasons: step.replaceReasons ?? [],
    };
  }
  return steps;
}

/** Every file under a directory, concatenated: what a search of the state backend must not find. */
export async function readTree(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), "utf8")),
  );
  return texts.join("\n");
}

export interface TenancyStack {
  ws: PulumiWorkspace;
  platform: TestPlatform;
  stack: string;
  /** Sets `e2e:<key>` (plain) in the stack config. */
  set(key: string, value: string): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A fresh control plane and a stack of the tenancy program configured for it: endpoint in stack
 * config, token as a secret, the two domains and the user's password (secret).
 */
export async function tenancyStack(label: string, password: string): Promise<TenancyStack> {
  const platform = await startTestPlatform();
  const stack = `${label}-${process.pid}`;
  const ws = await createPulumiWorkspace(tenancyProgram, stack);
  await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
  await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
  await ws.ok(["config", "set", "e2e:domain", "example.test"]);
  await ws.ok(["config", "set", "e2e:other", "other.test"]);
  await ws.ok(["config", "set", "--secret", "e2e:password", password]);
  return {
    ws,
    platform,
    stack,
    async set(key, value) {
      await ws.ok(["config", "set", `e2e:${key}`, value]);
    },
    async dispose() {
      // Best effort: a failed test may leave objects behind; the platform goes away with them.
      await ws.run(["destroy", "--yes", "--skip-preview"]);
      await ws.dispose();
      await rm(join(tenancyProgram, `Pulumi.${stack}.yaml`), { force: true });
      await platform.close();
    },
  };
}

/** The catalogue code of a rejected SDK call, or "ok" when it succeeded. */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return String((err as { code?: unknown }).code ?? err);
  }
}
