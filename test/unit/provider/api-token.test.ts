/** The ApiToken provider's check and diff: one spelling per value, every change a replacement, a new connection token none. */
import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../../../provider/src/lib/unknown.ts";
import { apiTokenProvider } from "../../../provider/src/resources/api-token.ts";

const stored = {
  account: "acme",
  role: "account-admin",
  domains: [],
  description: "Pulumi",
  expiresAt: "2099-01-01T00:00:00.000Z",
  createdAt: "2026-12-03T10:00:00.000Z",
  revokedAt: null,
  etag: "e1",
  token: "mpt_secret-value",
  rotation: "1",
  connection: { account: "acme" },
};
const declared = {
  account: "acme",
  role: "account-admin",
  description: "Pulumi",
  expiresAt: "2099-01-01T00:00:00Z",
  rotation: "1",
  connection: { account: "acme" },
};

describe("apiTokenProvider.check", () => {
  it("spells expiresAt as the platform stores it, so a declaration that did not change never diffs", async () => {
    const { inputs, failures } = await apiTokenProvider.check({}, declared);
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({ expiresAt: "2099-01-01T00:00:00.000Z", domains: [], rotation: "1" });
  });

  it("lists every problem at once, naming the field and never quoting the token", async () => {
    const { failures } = await apiTokenProvider.check(
      {},
      { role: "domain-admin", account: "Not A Slug", adopt: true, rotation: 3, token: "mpt_leak" },
    );
    const text = (failures ?? []).map((f) => f.reason).join("\n");
    expect(text).toContain("property domains");
    expect(text).toContain("property account");
    expect(text).toContain("property adopt");
    expect(text).toContain("property rotation");
    expect(text).not.toContain("mpt_leak");
  });
});

describe("apiTokenProvider.diff", () => {
  const replaces = async (news: Record<string, unknown>) =>
    (await apiTokenProvider.diff!("tok_1", stored, { ...declared, expiresAt: stored.expiresAt, ...news }))
      .replaces;

  it("is no change for the same declaration, whatever provider text the state holds", async () => {
    const news = { ...declared, expiresAt: stored.expiresAt, __provider: "a newer provider text" };
    expect(await apiTokenProvider.diff!("tok_1", { ...stored, __provider: "an older one" }, news)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("replaces the token for any change of the token or of its rotation trigger", async () => {
    expect(await replaces({ description: "CI" })).toEqual(["description"]);
    expect(await replaces({ role: "read-only" })).toEqual(["role"]);
    expect(await replaces({ rotation: "2" })).toEqual(["rotation"]);
    expect(await replaces({ account: "other" })).toEqual(["account"]);
    expect(await replaces({ expiresAt: null })).toEqual(["expiresAt"]);
    expect(await replaces({ rotation: UNKNOWN })).toEqual(["rotation"]);
  });

  it("does not replace it for a new connection token to the same account, and leaves that change to the engine", async () => {
    const connection = { account: "acme", token: "mpt_new" };
    expect(await replaces({ connection })).toEqual([]);
    const diff = await apiTokenProvider.diff!("tok_1", stored, {
      ...declared,
      expiresAt: stored.expiresAt,
      connection,
    });
    expect(diff.changes).toBeUndefined();
  });
});
