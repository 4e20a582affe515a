/**
 * Account limits with the real Pulumi CLI: a plan that would create more users than the account may
 * hold fails at preview, naming the limit and the planned users, and `up` applies nothing; within
 * the limit it applies.
 */
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiWorkspace, type PulumiWorkspace } from "../../support/pulumi.ts";
import { startTestPlatform, type TestPlatform } from "./platform.ts";

const program = join(dirname(fileURLToPath(import.meta.url)), "programs/limits");

describe("account limits at preview: real CLI, real control plane", () => {
  let platform: TestPlatform;
  let ws: PulumiWorkspace;
  const stack = `limits-${process.pid}`;

  beforeAll(async () => {
    platform = await startTestPlatform();
    const res = await fetch(`${platform.url}/v1/accounts/${platform.account}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${platform.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ id: platform.account, name: "Limited", limits: { users: 2 } }),
    });
    expect(res.status).toBe(200);
    ws = await createPulumiWorkspace(program, stack);
    await ws.ok(["config", "set", "mailplane:endpoint", platform.url]);
    await ws.ok(["config", "set", "--secret", "mailplane:token", platform.token]);
    await ws.ok(["config", "set", "--secret", "e2e:password", "Correct-Horse-Battery-42"]);
  });

  afterAll(async () => {
    await ws?.run(["destroy", "--yes", "--skip-preview"]);
    await ws?.dispose();
    await rm(join(program, `Pulumi.${stack}.yaml`), { force: true });
    await platform?.close();
  });

  it("fails the preview of three users against a limit of two, and up creates nothing", async () => {
    await ws.ok(["config", "set", "e2e:users", "3"]);
    const preview = await ws.run(["preview"]);
    expect(preview.code).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(
      /the account may hold at most 2 users; it holds 0 and this plan creates 3 \(user\d@limits\.test, user\d@limits\.test, user\d@limits\.test\)/,
    );
    const up = await ws.run(["up", "--yes"]);
    expect(up.code).not.toBe(0);
    expect((await platform.client.domains.list()).items).toEqual([]);
  });

  it("applies two users within the limit", async () => {
    await ws.ok(["config", "set", "e2e:users", "2"]);
    await ws.ok(["up", "--yes"]);
    expect((await platform.client.users.list("limits.test")).items.map((u) => u.address)).toEqual([
      "user1@limits.test",
      "user2@limits.test",
    ]);
  });
});
