/**
 * The generic lifecycle against an in-memory API that records every call: request counts per
 * operation, create-only PUTs and their repeat under one Idempotency-Key, adopt, partial state after a
 * failed adopt, If-Match, idempotent delete, user disable-then-delete.
 * The real control plane is exercised by test/e2e/provider/; this pins the decisions in between.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  defineProvider,
  type ObjectApi,
  type PutOptions,
  type Stored,
} from "../../../provider/src/lib/lifecycle.ts";
import { UNKNOWN } from "../../../provider/src/lib/unknown.ts";
import { domainKind, filterSettingsKind, userKind } from "../../../sdk/src/models/kinds.ts";

class FakeApi implements ObjectApi {
  objects = new Map<string, Stored>();
  calls: string[] = [];
  /** The Idempotency-Key of each PUT, in order (undefined when none was sent). */
  keys: (string | undefined)[] = [];
  /** Answers of committed PUTs by Idempotency-Key, replayed for a repeat as the platform does. */
  #answers = new Map<string, Stored>();
  failNext: { method: string; code: string; afterWrite?: boolean; message?: string } | undefined;
  #version = 0;

  #fail(method: string): void {
    if (this.failNext?.method === method) {
      const { code, message } = this.failNext;
      this.failNext = undefined;
      throw Object.assign(new Error(message ?? `${method} failed`), { code, errors: [] });
    }
  }

  #store(path: string, body: Record<string, unknown>): Stored {
    const { password: _secret, ...visible } = body;
    const stored = { ...visible, id: path, etag: `"${++this.#version}"` } as Stored;
    this.objects.set(path, stored);
    return stored;
  }

  /** What `GET /v1/whoami` answers (the account's limits and usage); undefined: a platform without limits. */
  standing: Stored | undefined;

  async get(path: string) {
    // The limits lookup of a create's check is advice, not part of what a test counts.
    if (path === "/v1/whoami") {
      if (this.standing) return this.standing;
      throw Object.assign(new Error("not found"), { code: "MP_NOT_FOUND" });
    }
    this.calls.push(`GET ${path}`);
    this.#fail("GET");
    const found = this.objects.get(path);
    if (!found) throw Object.assign(new Error("not found"), { code: "MP_NOT_FOUND" });
    return found;
  }
  async put(path: string, body: Record<string, unknown>, options: PutOptions = {}) {
    this.calls.push(`PUT ${path}${options.ifNoneMatch ? ` if-none-match ${options.ifNoneMatch}` : ""}`);
    this.keys.push(options.idempotencyKey);
    // A lost answer: the server committed the write, the client saw only an error.
    const lost = this.failNext?.method === "PUT" && this.failNext.afterWrite;
    if (!lost) this.#fail("PUT");
    const replay =
      options.idempotencyKey === undefined ? undefined : this.#answers.get(options.idempotencyKey);
    if (replay) return replay;
    if (options.ifNoneMatch === "*" && this.objects.has(path)) {
      throw Object.assign(new Error("already exists"), { code: "MP_PRECONDITION_FAILED" });
    }
    const stored = this.#store(path, body);
    if (options.idempotencyKey !== undefined) this.#answers.set(options.idempotencyKey, stored);
    this.#fail("PUT");
    return stored;
  }
  async patch(path: string, body: Record<string, unknown>, ifMatch?: string) {
    this.calls.push(`PATCH ${path}${ifMatch ? ` if-match ${ifMatch}` : ""} ${JSON.stringify(body)}`);
    this.#fail("PATCH");
    const found = this.objects.get(path);
    if (!found) throw Object.assign(new Error("not found"), { code: "MP_NOT_FOUND" });
    if (ifMatch !== undefined && ifMatch !== found.etag) {
      throw Object.assign(new Error("etag mismatch"), { code: "MP_PRECONDITION_FAILED" });
    }
    return this.#store(path, { ...found, ...body });
  }
  async delete(path: string) {
    this.calls.push(`DELETE ${path}`);
    this.#fail("DELETE");
    if (!this.objects.delete(path)) throw Object.assign(new Error("not found"), { code: "MP_NOT_FOUND" });
  }
}

let api: FakeApi;
const domains = () => defineProvider(domainKind, async () => api);
const users = () =>
  defineProvider(userKind, async () => api, {
    async beforeDelete(a, path) {
      await a.patch(path, { enabled: false });
    },
  });

async function checked(provider: ReturnType<typeof domains>, news: Record<string, unknown>) {
  const { inputs, failures } = await provider.check({}, news);
  expect(failures).toEqual([]);
  return { ...inputs, __provider: "shim" };
}

beforeEach(() => {
  api = new FakeApi();
});

describe("create", () => {
  it("takes one call (a create-only PUT) and fails rather than taking over an existing object", async () => {
    const provider = domains();
    const inputs = await checked(provider, { name: "example.com" });
    const created = await provider.create(inputs);
    expect(created.id).toBe("example.com");
    expect(api.calls).toEqual(["PUT /v1/domains/example.com if-none-match *"]);
    expect(api.keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.outs).not.toHaveProperty("id");
    const before = api.objects.get("/v1/domains/example.com");
    const again = provider.create(await checked(provider, { name: "example.com", timezone: "Asia/Tokyo" }));
    await expect(again).rejects.toThrow(/Domain example.com already exists; set `adopt: true`/);
    expect(api.calls).toHaveLength(2);
    expect(api.objects.get("/v1/domains/example.com")).toBe(before);
  });

  it("a create whose answer was lost is repeated under the same Idempotency-Key and recorded", async () => {
    api.failNext = { method: "PUT", code: "MP_NETWORK", afterWrite: true };
    const provider = domains();
    const created = await provider.create(await checked(provider, { name: "example.com" }));
    expect(created).toMatchObject({ id: "example.com", outs: { name: "example.com" } });
    expect(api.calls).toEqual([
      "PUT /v1/domains/example.com if-none-match *",
      "PUT /v1/domains/example.com if-none-match *",
    ]);
    expect(api.keys[1]).toBe(api.keys[0]);
    expect(api.objects.size).toBe(1);
  });

  it("an object that existed before a create without an answer is not taken for ours", async () => {
    api.objects.set("/v1/domains/example.com", { name: "example.com", etag: '"7"' });
    api.failNext = { method: "PUT", code: "MP_NETWORK" };
    const provider = domains();
    const error = (await provider
      .create(await checked(provider, { name: "example.com" }))
      .catch((e: unknown) => e)) as { id?: string; message: string };
    expect(error.id).toBeUndefined();
    expect(error.message).toMatch(/already exists; set `adopt: true`/);
    expect(api.calls).toHaveLength(2);
  });

  it("adopt converges an existing object with one PATCH under If-Match", async () => {
    api.objects.set("/v1/domains/example.com", {
      ...(await checked(domains(), { name: "example.com", timezone: "Asia/Tokyo" })),
      etag: '"7"',
    });
    const provider = domains();
    const created = await provider.create(await checked(provider, { name: "example.com", adopt: true }));
    expect(api.calls).toEqual([
      "GET /v1/domains/example.com",
      'PATCH /v1/domains/example.com if-match "7" {"timezone":"UTC"}',
    ]);
    expect(created.outs).toMatchObject({ timezone: "UTC", adopt: true });
  });

  it("records a failed adoption as partial state (id, properties with __provider) so it is never orphaned", async () => {
    api.objects.set("/v1/domains/example.com", {
      ...(await checked(domains(), { name: "example.com", timezone: "Asia/Tokyo" })),
      etag: '"7"',
    });
    api.failNext = { method: "PATCH", code: "MP_VALIDATION_FAILED" };
    const provider = domains();
    const error = (await provider
      .create(await checked(provider, { name: "example.com", adopt: true }))
      .catch((e: unknown) => e)) as { id?: string; properties?: Record<string, unknown>; message: string };
    expect(error).toMatchObject({
      id: "example.com",
      properties: { name: "example.com", __provider: "shim" },
    });
    expect(error.message).toMatch(/adopt Domain example.com failed \(MP_VALIDATION_FAILED\)/);
  });

  it("adopt of an absent object reads, then creates; a lost answer is recorded as partial state", async () => {
    api.failNext = { method: "PUT", code: "MP_NETWORK", afterWrite: true };
    const provider = domains();
    const error = (await provider
      .create(await checked(provider, { name: "example.com", adopt: true }))
      .catch((e: unknown) => e)) as {
      id?: string;
      properties?: Record<string, unknown>;
    };
    expect(error).toMatchObject({
      id: "example.com",
      properties: { name: "example.com", adopt: true, __provider: "shim" },
    });
    expect(api.calls).toEqual([
      "GET /v1/domains/example.com",
      "PUT /v1/domains/example.com",
      "GET /v1/domains/example.com",
    ]);
  });

  it("a refused create is just an error: nothing to record", async () => {
    api.failNext = { method: "PUT", code: "MP_PARENT_NOT_FOUND" };
    const provider = defineProvider(userKind, async () => api);
    const error = (await provider
      .create(await checked(provider, { address: "alice@example.com", password: "Secret-Pass-1" }))
      .catch((e: unknown) => e)) as { id?: string; message: string };
    expect(error.id).toBeUndefined();
    expect(error.message).toMatch(/dependsOn: \[domain\]/);
    expect(api.calls).toEqual(["PUT /v1/domains/example.com/users/alice@example.com if-none-match *"]);
  });

  it("a platform-admin token without an account is told to set mailplane:account or MAILPLANE_ACCOUNT, not an HTTP header", async () => {
    // The API's own words for it.
    api.failNext = {
      method: "PUT",
      code: "MP_ACCOUNT_REQUIRED",
      message: "name the account with the Mailplane-Account header",
    };
    const provider = domains();
    const error = (await provider
      .create(await checked(provider, { name: "example.com" }))
      .catch((e: unknown) => e)) as { code?: string; message: string };
    expect(error.code).toBe("MP_ACCOUNT_REQUIRED");
    expect(error.message).toContain("(MP_ACCOUNT_REQUIRED)");
    expect(error.message).toContain(
      "`pulumi config set mailplane:account <account id>` or MAILPLANE_ACCOUNT",
    );
    expect(error.message).toContain("mailplane token create --account <account id>");
    expect(error.message).not.toMatch(/header/i);
    expect(api.calls).toHaveLength(1);
  });

  it("a singleton always adopts: the settings exist from the start", async () => {
    api.objects.set("/v1/domains/example.com/filter-settings", {
      ...(await checked(
        defineProvider(filterSettingsKind, async () => api),
        { scope: "example.com" },
      )),
      etag: '"1"',
    });
    const provider = defineProvider(filterSettingsKind, async () => api);
    await provider.create(await checked(provider, { scope: "example.com", tagThreshold: 0.3 }));
    expect(api.calls).toEqual([
      "GET /v1/domains/example.com/filter-settings",
      'PATCH /v1/domains/example.com/filter-settings if-match "1" {"tagThreshold":0.3}',
    ]);
  });
});

describe("read, update, delete", () => {
  it("read takes one call and returns inputs and outputs; a gone object reads as an empty id", async () => {
    const provider = domains();
    const { outs } = await provider.create(await checked(provider, { name: "example.com", adopt: false }));
    api.calls = [];
    // Nothing drifted: the stored inputs stand, only the outputs are refreshed.
    const unchanged = await provider.read("example.com", outs);
    expect(unchanged.inputs).toBeUndefined();
    expect(unchanged.props).toMatchObject({ name: "example.com", etag: outs.etag });
    api.calls = [];
    api.objects.set("/v1/domains/example.com", {
      ...api.objects.get("/v1/domains/example.com")!,
      timezone: "Asia/Tokyo",
    });
    const read = await provider.read("example.com", outs);
    expect(api.calls).toEqual(["GET /v1/domains/example.com"]);
    expect(read.inputs).toMatchObject({ name: "example.com", timezone: "Asia/Tokyo", adopt: false });
    expect(read.inputs).not.toHaveProperty("etag");
    expect(read.props).toMatchObject({ timezone: "Asia/Tokyo", etag: expect.any(String) });
    api.objects.clear();
    expect(await provider.read("example.com", outs)).toEqual({ id: "", props: {} });
  });

  it("update sends only the changed fields with If-Match, and nothing when nothing changed", async () => {
    const provider = domains();
    const { outs } = await provider.create(await checked(provider, { name: "example.com" }));
    api.calls = [];
    await provider.update("example.com", outs, await checked(provider, { name: "example.com" }));
    expect(api.calls).toEqual([]);
    await provider.update(
      "example.com",
      outs,
      await checked(provider, { name: "example.com", maxRetryDays: 7 }),
    );
    expect(api.calls).toEqual([`PATCH /v1/domains/example.com if-match ${outs.etag} {"maxRetryDays":7}`]);
  });

  it("an update over an out-of-band change fails with the ETag and says to refresh", async () => {
    const provider = domains();
    const { outs } = await provider.create(await checked(provider, { name: "example.com" }));
    await api.patch("/v1/domains/example.com", { timezone: "Asia/Tokyo" });
    await expect(
      provider.update("example.com", outs, await checked(provider, { name: "example.com", maxRetryDays: 7 })),
    ).rejects.toThrow(/MP_PRECONDITION_FAILED[\s\S]*pulumi refresh/);
  });

  it("delete is idempotent: an object already gone is success", async () => {
    const provider = domains();
    await provider.delete("example.com", { name: "example.com" });
    expect(api.calls).toEqual(["DELETE /v1/domains/example.com"]);
  });

  it("a user is disabled, then deleted, and the password lives only in the secret output", async () => {
    const provider = users();
    const inputs = await checked(provider, { address: "alice@example.com", password: "Secret-Pass-1" });
    const { outs } = await provider.create(inputs);
    expect(outs).toMatchObject({ password: "Secret-Pass-1" });
    await api.patch("/v1/domains/example.com/users/alice@example.com", { quotaMb: 5 });
    const read = await provider.read("alice@example.com", outs);
    // The platform never returns it; read carries it so refresh shows no spurious password change.
    expect(read.inputs).toMatchObject({ quotaMb: 5, password: "Secret-Pass-1" });
    api.calls = [];
    await provider.delete("alice@example.com", outs);
    expect(api.calls).toEqual([
      'PATCH /v1/domains/example.com/users/alice@example.com {"enabled":false}',
      "DELETE /v1/domains/example.com/users/alice@example.com",
    ]);
  });

  it("removing adopt or the password from the program leaves no trace a refresh could bring back", async () => {
    const provider = users();
    const created = await provider.create(
      await checked(provider, { address: "alice@example.com", password: "Secret-Pass-1", adopt: true }),
    );
    const updated = await provider.update(
      "alice@example.com",
      created.outs,
      await checked(provider, { address: "alice@example.com" }),
    );
    expect(updated.outs).not.toHaveProperty("adopt");
    expect(updated.outs).not.toHaveProperty("password");
    await api.patch("/v1/domains/example.com/users/alice@example.com", { quotaMb: 5 });
    const read = await provider.read("alice@example.com", updated.outs);
    expect(read.inputs).toMatchObject({ quotaMb: 5 });
    expect(read.inputs).not.toHaveProperty("adopt");
    expect(read.inputs).not.toHaveProperty("password");
  });
});

describe("diff", () => {
  it("answers no change when the inputs declare what the state holds, whatever provider text either carries", async () => {
    const provider = users();
    const declared = { address: "alice@example.com", password: "Secret-Pass-1", quotaMb: 10 };
    const { outs } = await provider.create(await checked(provider, declared));
    // A state written by a version with another (longer) provider text: the engine would show that
    // text as changed if diff left the decision to it.
    const stored = { ...outs, __provider: "exports.handler = __f0; /* an older shim */" };
    const news = await checked(provider, declared);
    expect(await provider.diff("alice@example.com", stored, news)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("leaves a real change to the engine's input diff: a field, a removed adopt, an unknown value", async () => {
    const provider = users();
    const declared = { address: "alice@example.com", password: "Secret-Pass-1", adopt: true };
    const { outs } = await provider.create(await checked(provider, declared));
    for (const news of [
      { ...declared, quotaMb: 20 },
      { ...declared, password: "Other-Pass-2" },
      { address: "alice@example.com", password: "Secret-Pass-1" },
    ]) {
      expect(await provider.diff("alice@example.com", outs, await checked(provider, news))).toEqual({
        changes: undefined,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
    const unknownNews = { ...(await checked(provider, declared)), firstName: UNKNOWN };
    expect((await provider.diff("alice@example.com", outs, unknownNews)).changes).toBeUndefined();
    const renamed = await checked(provider, { ...declared, address: "alicia@example.com" });
    expect(await provider.diff("alice@example.com", outs, renamed)).toMatchObject({ replaces: ["address"] });
  });
});

describe("account limits at preview", () => {
  it("fails the check of the create that would pass the account's cap, naming every planned create", async () => {
    api.standing = {
      limits: { domains: 3 },
      usage: { domains: 1, users: 0, aliases: 0, groups: 0 },
    } as never;
    const provider = domains();
    expect((await provider.check({}, { name: "a.example" })).failures).toEqual([]);
    // `up` checks each resource again: the same domain counts once.
    expect((await provider.check({}, { name: "a.example" })).failures).toEqual([]);
    expect((await provider.check({}, { name: "b.example" })).failures).toEqual([]);
    const third = await provider.check({}, { name: "c.example" });
    expect(third.failures).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining(
          'property name value "c.example": the account may hold at most 3 domains; it holds 1 and this plan creates 3 (a.example, b.example, c.example)',
        ),
      }),
    ]);
  });

  it("does not count updates, adoptions or kinds without a limit", async () => {
    api.standing = {
      limits: { domains: 0 },
      usage: { domains: 0, users: 0, aliases: 0, groups: 0 },
    } as never;
    const provider = domains();
    expect((await provider.check({ name: "a.example" }, { name: "a.example" })).failures).toEqual([]);
    expect((await provider.check({}, { name: "b.example", adopt: true })).failures).toEqual([]);
    const filters = defineProvider(filterSettingsKind, async () => api);
    expect((await filters.check({}, { scope: "account" })).failures).toEqual([]);
    expect((await provider.check({}, { name: "c.example" })).failures).toHaveLength(1);
  });
});
