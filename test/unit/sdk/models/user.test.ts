/** User: defaults, normalisation, the write-only password and the patch used to disable. */
import { describe, expect, it } from "vitest";
import { User, UserPatch, UserSpec, userDomain, userId } from "../../../../sdk/src/models/user.ts";
import { issues } from "./helpers.ts";

describe("UserSpec", () => {
  it("fills defaults and normalises the address", () => {
    const spec = UserSpec.parse({ address: "Alice@Example.COM", password: "Secret-1" });
    expect(spec).toEqual({
      address: "alice@example.com",
      firstName: "",
      lastName: "",
      password: "Secret-1",
      enabled: true,
      role: "email-user",
      quotaMb: 0,
      addresses: [],
      forwardOnDelete: null,
      externalAddress: null,
      loginAlerts: { failed: true, successful: false },
    });
    expect(userId(spec)).toBe("alice@example.com");
    expect(userDomain(spec)).toBe("example.com");
  });

  it("keeps extra addresses in the user's domain, sorted once each, and names the one that is not", () => {
    const spec = UserSpec.parse({
      address: "alice@example.com",
      addresses: ["Smith@example.com", "a@example.com", "smith@example.com"],
    });
    expect(spec.addresses).toEqual(["a@example.com", "smith@example.com"]);
    const bad = UserSpec.safeParse({
      address: "alice@example.com",
      addresses: ["a@example.com", "alice@other.example", "alice@example.com"],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["addresses.1", "must be an address in example.com"],
      ["addresses.2", "must differ from the user's own address"],
    ]);
    expect(
      UserSpec.safeParse({
        address: "a@example.com",
        addresses: Array.from({ length: 21 }, (_, i) => `x${i}@example.com`),
      }).success,
    ).toBe(false);
  });

  it("allows omitting the password (an update that keeps it)", () => {
    expect(UserSpec.parse({ address: "alice@example.com" }).password).toBeUndefined();
  });

  it("rejects bad addresses, roles and quotas with their paths", () => {
    expect(
      issues(UserSpec, { address: "alice", role: "root", quotaMb: -5 }).map((l) => l.split(":")[0]),
    ).toEqual(["address", "role", "quotaMb"]);
  });

  it("rejects an external address equal to the user's own", () => {
    expect(issues(UserSpec, { address: "alice@example.com", externalAddress: "ALICE@example.com" })).toEqual([
      "externalAddress: must differ from the user's own address",
    ]);
  });

  it("rejects an empty password", () => {
    expect(issues(UserSpec, { address: "alice@example.com", password: "" })).toEqual([
      "password: must not be empty",
    ]);
  });
});

describe("User (API object)", () => {
  it("has no password field, so a stray one is dropped", () => {
    const user = User.parse({
      ...UserSpec.parse({ address: "alice@example.com", password: "Secret-1" }),
      id: "alice@example.com",
      domain: "example.com",
      etag: '"1"',
      createdAt: "2025-01-01T00:00:00.000Z",
      updatedAt: "2025-01-01T00:00:00.000Z",
      passwordChangedAt: null,
    });
    expect(user).not.toHaveProperty("password");
    expect(Object.keys(User.shape)).not.toContain("password");
  });
});

describe("UserPatch", () => {
  it("disables with { enabled: false } and nothing else", () => {
    expect(UserPatch.parse({ enabled: false })).toEqual({ enabled: false });
  });
});
