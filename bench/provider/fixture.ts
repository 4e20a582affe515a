/**
 * The provider benchmark's shared fixture: a control plane whose HTTP requests are counted at the
 * server, and a stack of one of the two programs (mailplane's, or the no-op floor) on its own backend.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startControlPlane } from "../../platform/api/server.ts";
import { MailplaneClient } from "../../sdk/src/client/client.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../test/support/pulumi.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** The two programs measured in the same run. */
export const PROGRAMS = {
  /** N dynamic resources whose provider does nothing: the engine's floor. */
  floor: join(here, "programs/floor"),
  /** N mailplane resources (a Domain per 100, the rest Aliases). */
  mailplane: join(here, "programs/mailplane"),
} as const;
export type ProgramName = keyof typeof PROGRAMS;

/** One measured Pulumi command. */
export interface Scenario {
  name: string;
  description: string;
  /** `pulumi` arguments. */
  args: string[];
  /**
   * True when running it leaves the stack as it was (preview, refresh without drift), so it can be
   * repeated on the same stacks; false for `up` of a new stack, which needs new stacks per round.
   */
  repeatable: boolean;
}

export interface BenchPlatform {
  url: string;
  token: string;
  /** HTTP requests the control plane received since the last `resetCount()`, by method. */
  counts(): Record<string, number>;
  resetCount(): void;
  close(): Promise<void>;
}

/**
 * Starts a control plane with rate limiting off (the bench measures the provider, not the limiter)
 * and an account-admin token. Requests are counted by a listener on the server's `request` event,
 * beside fastify's own, so the count is what reached the server.
 */
export async function startBenchPlatform(): Promise<BenchPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), "mailplane-bench-provider-"));
  const cp = await startControlPlane({ dataDir, listen: "127.0.0.1:0", rateLimit: false });
  const admin = new MailplaneClient({
    endpoint: cp.url,
    token: readFileSync(cp.adminTokenPath!, "utf8").trim(),
  });
  await admin.accounts.put({ id: "bench", name: "Provider bench" });
  const { token } = await admin.tokens.create({ role: "account-admin" }, { account: "bench" });
  await admin.close();
  let counts: Record<string, number> = {};
  cp.app.server.on("request", (req: { method?: string }) => {
    const method = req.method ?? "?";
    counts[method] = (counts[method] ?? 0) + 1;
  });
  return {
    url: cp.url,
    token,
    counts: () => ({ ...counts }),
    resetCount() {
      counts = {};
    },
    async close() {
      await cp.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The environment of every Pulumi command of the bench: without the `mailplane-source` condition, so
 * `mailplane` resolves to the compiled dist/ as in an installed package (run.ts builds it first).
 * The floor does not import mailplane; it gets the same environment for symmetry.
 */
export const AS_INSTALLED: Record<string, string> = { NODE_OPTIONS: "" };

/** A fresh stack of `program` with `count` resources, configured for the platform. */
export async function benchStack(
  program: ProgramName,
  count: number,
  platform: BenchPlatform,
): Promise<{ ws: PulumiWorkspace; dispose(): Promise<void> }> {
  const stack = `bench-${program}-${count}-${process.pid}`;
  const ws = await createPulumiWorkspace(PROGRAMS[program], stack);
  await ws.ok(["config", "set", "bench:count", String(count)], AS_INSTALLED);
  await ws.ok(["config", "set", "mailplane:endpoint", platform.url], AS_INSTALLED);
  await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token], AS_INSTALLED);
  return {
    ws,
    async dispose() {
      // The teardown is not timed, and it rewrites the checkpoint after every delete like `up` does
      // (a 4,000-resource destroy would take longer than the `up` measured): one write at the end.
      await ws.ok(["destroy", "--yes", "--skip-preview"], {
        ...AS_INSTALLED,
        PULUMI_SKIP_CHECKPOINTS: "true",
      });
      await ws.dispose();
      await rm(join(PROGRAMS[program], `Pulumi.${stack}.yaml`), { force: true });
    },
  };
}

/** Runs one scenario and returns its wall-clock time in ms (the CLI's whole run, program included). */
export async function timeScenario(ws: PulumiWorkspace, scenario: Scenario): Promise<number> {
  const start = performance.now();
  await ws.ok(scenario.args, AS_INSTALLED);
  return performance.now() - start;
}
