/** argon2id password hashing: PHC format, verification, salts. */
import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../../platform/api/access/passwords.ts";

describe("password hashing", () => {
  it("hashes to an argon2id PHC string that verifies only the same password", async () => {
    const hash = await hashPassword("Blue-Kettle-42");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(hash).not.toContain("Blue-Kettle-42");
    expect(await verifyPassword("Blue-Kettle-42", hash)).toBe(true);
    expect(await verifyPassword("Blue-Kettle-43", hash)).toBe(false);
  });

  it("salts every hash and verifies with the parameters the hash records", async () => {
    const cheap = await hashPassword("same", { memory: 1024, passes: 1, parallelism: 1 });
    const again = await hashPassword("same", { memory: 1024, passes: 1, parallelism: 1 });
    expect(cheap).not.toBe(again);
    expect(cheap).toContain("$m=1024,t=1,p=1$");
    expect(await verifyPassword("same", cheap)).toBe(true);
  });

  it("never matches a hash it cannot read", async () => {
    expect(await verifyPassword("x", "$scrypt$whatever")).toBe(false);
    expect(await verifyPassword("x", "")).toBe(false);
  });
});
