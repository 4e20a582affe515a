/** The SDK client against a real control plane on 127.0.0.1:0 (SQLite): the contract as both sides implement it. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { isMailplaneError, type MailplaneError } from "../../../sdk/src/errors.ts";
import { type Harness, startHarness, uniqueDomain } from "../api/harness.ts";

/** Runs `fn`, which must throw; returns the error. */
async function failure(fn: () => Promise<unknown>): Promise<MailplaneError> {
  try {
    await fn();
  } catch (err) {
    return err as MailplaneError;
  }
  throw new Error("expected a failure");
}

describe("MailplaneClient against the control plane", () => {
  let h: Harness;
  let client: MailplaneClient;
  let admin: MailplaneClient;

  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" });
    const tenant = await h.tenant("sdk");
    client = new MailplaneClient({ endpoint: h.url, token: tenant.token });
    admin = new MailplaneClient({ endpoint: h.url, token: h.adminToken, account: tenant.id });
  });
  afterAll(async () => {
    await client?.close();
    await admin?.close();
    await h?.close();
  });

  it("reads health and whoami", async () => {
    await expect(client.health()).resolves.toMatchObject({ status: "ok" });
    await expect(client.whoAmI()).resolves.toMatchObject({ role: "account-admin" });
  });

  it("creates a domain with the normalised name, reads it back and updates it with its etag", async () => {
    const name = uniqueDomain("Sdk").toUpperCase();
    const created = await client.domains.put({ name, aliases: [] });
    expect(created.id).toBe(name.toLowerCase());
    const read = await client.domains.get(created.id);
    expect(read.etag).toBe(created.etag);
    const patched = await client.domains.patch(created.id, { maxRetryDays: 2 }, { ifMatch: read.etag });
    expect(patched.maxRetryDays).toBe(2);
    const stale = await failure(() =>
      client.domains.patch(created.id, { maxRetryDays: 3 }, { ifMatch: read.etag }),
    );
    expect(stale.code).toBe("MP_PRECONDITION_FAILED");
    expect(stale.status).toBe(412);
    await client.domains.delete(created.id);
    const gone = await failure(() => client.domains.get(created.id));
    expect(gone.code).toBe("MP_NOT_FOUND");
  });

  it("manages routes, aliases, sender lists and singletons of a domain by their IDs", async () => {
    const domain = (await client.domains.put({ name: uniqueDomain("objs") })).id;
    const route = await client.routes.put({ domain, host: "MX1.example.net", port: 2525 });
    expect(route.id).toBe(`${domain}/routes/mx1.example.net:2525`);
    await expect(client.routes.get(domain, "mx1.example.net:2525")).resolves.toMatchObject({ priority: 10 });
    const alias = await client.aliases.put({
      address: `*@${domain}`,
      action: { type: "forward", to: [`hq@${domain}`] },
    });
    expect(alias.id).toBe(`*@${domain}`);
    await expect(client.aliases.get(`*@${domain}`)).resolves.toMatchObject({ action: { type: "forward" } });
    const list = await client.senderLists.put({
      domain,
      kind: "block",
      target: "sender",
      entries: ["@spam.example"],
    });
    expect(list.entries).toEqual(["*@spam.example"]);
    const settings = await client.filterSettings.put({ scope: domain, quarantineDays: 14 });
    expect(settings.quarantineDays).toBe(14);
    await expect(client.filterSettings.reset(domain)).resolves.toMatchObject({ quarantineDays: 28 });
    await expect(client.passwordPolicies.get("account")).resolves.toMatchObject({ minLength: 8 });
    const page = await client.routes.list(domain);
    expect(page.items.map((r) => r.id)).toEqual([route.id]);
  });

  it("keeps the password out of every answer and refuses to delete an enabled user", async () => {
    const domain = (await client.domains.put({ name: uniqueDomain("users") })).id;
    const user = await client.users.put({ address: `Alice@${domain}`, password: "Correct-Horse-7-staple" });
    expect(user).not.toHaveProperty("password");
    const enabled = await failure(() => client.users.delete(user.address));
    expect(enabled.code).toBe("MP_USER_ENABLED");
    const disabled = await client.users.disable(user.address, { ifMatch: user.etag });
    expect(disabled.enabled).toBe(false);
    await client.users.delete(user.address);
    expect((await failure(() => client.users.get(user.address))).code).toBe("MP_NOT_FOUND");
  });

  it("maps the server's password-rule problem (the base rule: no spaces, an upper-case letter or a digit)", async () => {
    const domain = (await client.domains.put({ name: uniqueDomain("pw") })).id;
    const err = await failure(() => client.users.put({ address: `bob@${domain}`, password: "all lower" }));
    expect(isMailplaneError(err)).toBe(true);
    expect(err.code).toBe("MP_PASSWORD_POLICY_VIOLATION");
    expect(err.errors.length).toBeGreaterThan(0);
    expect(err.errors[0]!.path).toEqual(["password"]);
  });

  it("creates a token once per Idempotency-Key", async () => {
    const first = await admin.tokens.create({ role: "read-only" }, { idempotencyKey: "sdk-itest-1" });
    const again = await admin.tokens.create({ role: "read-only" }, { idempotencyKey: "sdk-itest-1" });
    expect(again.id).toBe(first.id);
    expect(first.token.length).toBeGreaterThan(10);
    const reused = await failure(() =>
      admin.tokens.create({ role: "account-admin" }, { idempotencyKey: "sdk-itest-1" }),
    );
    expect(reused.code).toBe("MP_IDEMPOTENCY_KEY_REUSED");
  });
});
