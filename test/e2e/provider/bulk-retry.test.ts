/**
 * Bulk mode's create, retried for real: the Pulumi CLI talks to the control plane through a proxy
 * that loses the apply's answer (the provider asks again under the same Idempotency-Key and records
 * the tenancy once), or kills the CLI after the platform applied and before the state could record
 * it (the next `up` refuses to take the domain over and changes nothing; `adopt: true` records it
 * without changing it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/bulk");

/** What the proxy does once the platform answered an apply (`PUT …/tenancy`). */
type AfterApply = "answer" | "drop" | "kill";

describe("bulk mode: a create retried after a lost answer or a killed CLI", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  let proxy: Server;
  let afterApply: AfterApply = "answer";
  let applies = 0;
  /** The `pulumi up` the proxy kills (its own process group: the engine and its plugins go too). */
  let cli: ChildProcess | undefined;
  const stack = `bulk-retry-${process.pid}`;
  const domain = "retry.test";
  const document = (lastName: string) => ({
    domains: [{ name: domain }],
    aliases: [{ address: `info@${domain}`, action: { type: "forward", to: [`ana@${domain}`] } }],
    users: [{ address: `ana@${domain}`, firstName: "Ana", lastName }],
  });
  const live = () => platform.client.request<any>("GET", `/v1/domains/${domain}/tenancy`);
  const audited = async () =>
    (
      (await platform.client.request<any>("GET", "/v1/audit?limit=500")).items as { objectId: string }[]
    ).filter((e) => e.objectId.includes(domain)).length;
  const setDocument = (lastName: string) =>
    ws.ok(["config", "set", "--path", "e2e:document", JSON.stringify(document(lastName))]);

  beforeAll(async () => {
    platform = await startTestPlatform();
    const target = new URL(platform.url);
    proxy = createServer((req, res) => {
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (c: Buffer) => chunks.push(c));
          answer.on("end", () => {
            const isApply = req.method === "PUT" && req.url?.endsWith("/tenancy");
            if (isApply) applies++;
            const mode = isApply ? afterApply : "answer";
            if (isApply) afterApply = "answer";
            if (mode === "kill" && cli?.pid !== undefined) {
              // The platform has committed; the CLI dies before it hears so, as in a power cut.
              process.kill(-cli.pid, "SIGKILL");
            }
            if (mode !== "answer") return req.socket.destroy();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    ws = await createPulumiWorkspace(program, stack);
    await ws.ok([
      "config",
      "set",
      "mailplane:endpoint",
      `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    ]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
  }, 120_000);

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await new Promise((resolve) => proxy?.close(resolve));
    await platform?.close();
  });

  it("records a create whose answer was lost once: the repeat under the same key gets the first answer", async () => {
    await setDocument("First");
    afterApply = "drop";
    applies = 0;
    await ws.ok(["up", "--yes", "--skip-preview"]);
    expect(applies).toBeGreaterThanOrEqual(2);
    // One apply on the platform: an audit entry per object (domain, alias, user), not two.
    expect(await audited()).toBe(3);
    const state = JSON.parse((await ws.ok(["stack", "export"])).stdout);
    const [tenancy] = state.deployment.resources.filter((r: { type: string }) =>
      r.type.includes("DomainTenancy"),
    );
    expect(tenancy.outputs.etag).toBe((await live()).etag);
    await ws.ok(["preview", "--expect-no-changes"]);
    await ws.ok(["destroy", "--yes", "--skip-preview"]);
  }, 240_000);

  it("after a CLI killed once the platform applied, up refuses to take the domain over and changes nothing; adopt records it unchanged", async () => {
    await setDocument("Second");
    afterApply = "kill";
    const env = {
      ...(process.env as Record<string, string>),
      PULUMI_BACKEND_URL: `file://${ws.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "mailplane-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      NO_COLOR: "1",
    };
    cli = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", stack, "--non-interactive"], {
      cwd: program,
      env,
      detached: true,
      stdio: "ignore",
    });
    const exit = await new Promise<string | null>((resolve) =>
      cli!.on("exit", (_code, signal) => resolve(signal)),
    );
    expect(exit).toBe("SIGKILL");
    const applied = await live();
    expect(applied.document.users[0].lastName).toBe("Second");
    const entries = await audited();
    // The killed run holds the stack's lock: an operator removes it (file backend), as after any crash.
    await rm(join(ws.backendDir, ".pulumi", "locks"), { recursive: true, force: true });
    await setDocument("Third");
    const again = await ws.run(["up", "--yes", "--skip-preview"]);
    const text = again.stdout + again.stderr;
    expect(again.code).not.toBe(0);
    expect(text).toContain(`domain ${domain} already exists; set \`adopt: true\``);
    expect((await live()).etag).toBe(applied.etag);
    expect(await audited()).toBe(entries);
    await setDocument("Second");
    await ws.ok(["config", "set", "e2e:adopt", "true"]);
    const adopted = await ws.run(["up", "--yes", "--skip-preview"]);
    expect(adopted.code, adopted.stdout + adopted.stderr).toBe(0);
    expect((await live()).etag).toBe(applied.etag);
    expect(await audited()).toBe(entries);
    await ws.ok(["preview", "--expect-no-changes"]);
  }, 300_000);
});
