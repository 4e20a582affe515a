/**
 * examples/typescript applied while the control plane's PostgreSQL is stopped for 10 s mid-run: the
 * provider retries the 503s within its budget, shows them as progress, and `pulumi up` completes.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../../platform/store/postgres.ts";
import type { Store } from "../../../platform/store/store.ts";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "../provider/platform.ts";

const programDir = join(import.meta.dirname, "..", "..", "..", "examples", "typescript");
const stack = `pg-outage-${process.pid}`;
const OUTAGE_MS = 10_000;

/**
 * The PostgreSQL store, stopping its server right after the first Domain is written (before that
 * request is answered, so every later request of the run meets the outage) and starting it again
 * OUTAGE_MS later. Counts the store calls made while the server was down.
 */
function stopAfterFirstDomain(store: Store, server: PostgresServer) {
  const outage = { calls: 0, down: false, over: undefined as Promise<void> | undefined };
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (outage.down) outage.calls++;
        const result = await value.apply(target, args);
        const input = args[0] as { kind?: string } | undefined;
        if (prop === "putObject" && input?.kind === "Domain" && outage.over === undefined) {
          outage.down = true;
          await server.halt();
          outage.over = new Promise<void>((resolve) => setTimeout(resolve, OUTAGE_MS)).then(async () => {
            await server.start();
            outage.down = false;
          });
        }
        return result;
      };
    },
  });
  return { store: proxy, outage };
}

describe("examples/typescript while PostgreSQL is stopped for 10 s mid-run", () => {
  let server: PostgresServer;
  let store: Store;
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  let outage: ReturnType<typeof stopAfterFirstDomain>["outage"];

  beforeAll(async () => {
    server = await startPostgres();
    store = await openPostgresStore({ url: server.url });
    const faulty = stopAfterFirstDomain(store, server);
    outage = faulty.outage;
    platform = await startTestPlatform("pg-outage", { rateLimit: false, store: faulty.store });
    ws = await createPulumiWorkspace(programDir, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "adaPassword", "Analytical-Engine-1843"]);
  });

  afterAll(async () => {
    await outage?.over;
    await ws?.dispose();
    await platform?.close();
    await store?.close();
    server?.stop();
    rmSync(join(programDir, `Pulumi.${stack}.yaml`), { force: true });
  });

  it("up completes, showing the retries as info rather than errors, and leaves nothing to change", async () => {
    const up = await ws.run(["up", "--yes", "--skip-preview"]);
    const output = `${up.stdout}\n${up.stderr}`;
    expect(up.code, output).toBe(0);
    // The outage happened mid-run: requests reached the store while its server was down.
    expect(outage.over).toBeDefined();
    await outage.over;
    expect(outage.calls).toBeGreaterThan(0);
    const retries = output
      .split("\n")
      .filter((line) => /mailplane: .*MP_UNAVAILABLE.*retry \d+ in/.test(line));
    expect(retries.length, output).toBeGreaterThan(0);
    // Pulumi prints failures as "error: …" (after the resource's name); a retry is not one.
    expect(output).not.toMatch(/\berror:/);
    const routes = await platform.client.routes.list("example.org");
    expect(routes.items.map((r) => [r.host, r.priority])).toEqual([
      ["mx1.example.org", 10],
      ["mx2.example.org", 20],
    ]);
    await ws.ok(["preview", "--expect-no-changes"]);
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect((await platform.client.domains.list()).items).toEqual([]);
  });
});
