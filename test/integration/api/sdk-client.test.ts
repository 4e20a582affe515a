/** The SDK client (sdk/src/client) against the real control plane on both stores: typed calls and typed errors. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMailplaneError, MailplaneClient } from "../../../sdk/src/index.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (error) {
    if (isMailplaneError(error)) return error;
    throw error;
  }
  throw new Error("expected a MailplaneError");
}

describe.each(BACKENDS)("SDK client against the control plane on $name", (backend) => {
  let h: Harness;
  let client: MailplaneClient;

  beforeAll(async () => {
    h = await startHarness(backend);
    const t = await h.tenant("sdk");
    client = new MailplaneClient({ endpoint: h.url, token: t.token, retry: { maxRetries: 0 } });
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it("declares a small tenancy and reads it back", async () => {
    const d = uniqueDomain("sdk");
    const domain = await client.domains.put({ name: d, aliases: [uniqueDomain("alias")] });
    // MX, SPF, DKIM, DMARC and the ownership verification record, for the name and its alias.
    expect(domain.dnsRecords.length).toBe(10);
    const checked = await client.domains.verify(d);
    expect(checked.verification[0]).toMatchObject({
      name: d,
      status: "pending",
      lastCheck: { result: "missing" },
    });
    const route = await client.routes.put({ domain: d, host: "mx1.example.net", priority: 5 });
    expect(route.id).toBe(`${d}/routes/mx1.example.net:25`);
    await client.aliases.put({ address: `sales@${d}`, action: { type: "forward", to: [`ken@${d}`] } });
    await client.senderLists.put({ domain: d, kind: "block", target: "sender", entries: ["spam.example"] });
    const fs = await client.filterSettings.put({ scope: d, quarantineThreshold: 0.8 });
    expect(fs.quarantineThreshold).toBe(0.8);
    const pp = await client.passwordPolicies.get("account");
    expect(pp.etag).toBe("defaults");
    const user = await client.users.put({ address: `alice@${d}`, password: "Blue-Kettle-42" });
    expect(user).not.toHaveProperty("password");
    const disabled = await client.users.disable(user.address, { ifMatch: user.etag });
    expect(disabled.enabled).toBe(false);
    await client.users.delete(user.address);
    expect((await client.users.list(d)).items).toEqual([]);
    const page = await client.domains.list({ limit: 10 });
    expect(page.items.map((x) => x.name)).toContain(d);
  });

  it("surfaces problems as typed errors matched on code", async () => {
    const d = uniqueDomain("sdk");
    expect((await failure(client.domains.get(d))).code).toBe("MP_NOT_FOUND");
    const v1 = await client.domains.put({ name: d });
    await client.domains.patch(d, { maxRetryDays: 2 });
    const stale = await failure(client.domains.patch(d, { maxRetryDays: 3 }, { ifMatch: v1.etag }));
    expect(stale).toMatchObject({ code: "MP_PRECONDITION_FAILED", status: 412 });
    await client.users.put({ address: `bob@${d}`, password: "Blue-Kettle-42" });
    expect((await failure(client.users.delete(`bob@${d}`))).code).toBe("MP_USER_ENABLED");
    const weak = await failure(client.users.patch(`bob@${d}`, { password: "weak" }));
    expect(weak.code).toBe("MP_PASSWORD_POLICY_VIOLATION");
    expect(weak.errors[0]).toMatchObject({ path: ["password"], in: "body" });
  });

  it("creates a token once under one Idempotency-Key", async () => {
    const a = await client.tokens.create({ role: "read-only" }, { idempotencyKey: "sdk-key" });
    const b = await client.tokens.create({ role: "read-only" }, { idempotencyKey: "sdk-key" });
    expect(b.id).toBe(a.id);
    expect(b.token).toBe(a.token);
  });
});
