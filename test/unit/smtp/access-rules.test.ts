/** AccessRule decisions (specificity, deny over allow, allow lists, IPv4/IPv6, IPv4-mapped clients) and their use at SMTP AUTH. */
import { describe, expect, it } from "vitest";
import { AccessRules, accessScopes } from "../../../platform/access-rules.ts";
import { type LoginFailure, MemoryLoginLockout } from "../../../platform/smtp/lockout.ts";
import { authenticate, type CredentialSource } from "../../../platform/smtp/phases/auth.ts";
import { type AccessRuleInput, buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";
import { AccessRuleSpec } from "../../../sdk/src/models/access-rule.ts";
import { inbound, TENANCY } from "./fixtures.ts";

/** Rules as the API stores them: parsed by the model (CIDRs canonical). */
function rules(...specs: Record<string, unknown>[]): AccessRules {
  return new AccessRules(specs.map((s) => AccessRuleSpec.parse(s)));
}

describe("access rule decisions", () => {
  it("allows every network when no scope has a rule for the service", () => {
    const r = rules({ scope: "account", service: "api", deny: ["0.0.0.0/0", "::/0"] });
    expect(r.decide("alice@example.com", "smtp-submission", "192.0.2.7")).toEqual({
      allowed: true,
      rule: null,
    });
  });

  it("lets the most specific scope decide: user over domain over account", () => {
    const r = rules(
      { scope: "account", service: "api", deny: ["192.0.2.0/24"] },
      { scope: "example.com", service: "api", allow: ["192.0.2.0/24"] },
      { scope: "alice@example.com", service: "api", deny: ["192.0.2.7"] },
    );
    // Alice's own rule denies .7 although her domain allows the /24.
    expect(r.decide("alice@example.com", "api", "192.0.2.7")).toEqual({
      allowed: false,
      rule: "alice@example.com/api",
    });
    // Alice's rule has no allow list and does not deny .8: allowed, though the account denies the /24.
    expect(r.decide("alice@example.com", "api", "192.0.2.8").allowed).toBe(true);
    // Bob has no rule of his own: the domain's allow list decides, the account's deny is not consulted.
    expect(r.decide("bob@example.com", "api", "192.0.2.8")).toEqual({
      allowed: true,
      rule: "example.com/api",
    });
    expect(r.decide("bob@example.com", "api", "198.51.100.1")).toEqual({
      allowed: false,
      rule: "example.com/api",
    });
    // Another domain of the account falls back to the account's rule.
    expect(r.decide("carol@example.org", "api", "192.0.2.8")).toEqual({
      allowed: false,
      rule: "account/api",
    });
    expect(r.decide("carol@example.org", "api", "198.51.100.1").allowed).toBe(true);
  });

  it("lets deny win over allow within a rule", () => {
    const r = rules({
      scope: "example.com",
      service: "smtp-submission",
      allow: ["10.0.0.0/8"],
      deny: ["10.1.0.0/16"],
    });
    expect(r.decide("alice@example.com", "smtp-submission", "10.1.2.3").allowed).toBe(false);
    expect(r.decide("alice@example.com", "smtp-submission", "10.2.2.3").allowed).toBe(true);
  });

  it("admits only the allow list's networks when it is non-empty", () => {
    const r = rules({ scope: "account", service: "api", allow: ["203.0.113.0/25"] });
    expect(r.decide("a@example.com", "api", "203.0.113.127").allowed).toBe(true);
    expect(r.decide("a@example.com", "api", "203.0.113.128").allowed).toBe(false);
  });

  it("matches IPv6 clients against IPv6 blocks and never against IPv4 ones", () => {
    const r = rules({ scope: "account", service: "api", allow: ["2001:DB8::/32", "192.0.2.0/24"] });
    expect(r.decide("a@example.com", "api", "2001:db8:1::5").allowed).toBe(true);
    expect(r.decide("a@example.com", "api", "2001:db9::5").allowed).toBe(false);
    expect(r.decide("a@example.com", "api", "::ffff:c000:0201").allowed).toBe(true);
    const denyV6 = rules({ scope: "account", service: "api", deny: ["::1"] });
    expect(denyV6.decide("a@example.com", "api", "0:0:0:0:0:0:0:1").allowed).toBe(false);
    expect(denyV6.decide("a@example.com", "api", "127.0.0.1").allowed).toBe(true);
  });

  it("treats an IPv4-mapped IPv6 client as its IPv4 address, and a mapped block as its IPv4 block", () => {
    const v4 = rules({ scope: "account", service: "smtp-submission", deny: ["127.0.0.1/32"] });
    expect(v4.decide("a@example.com", "smtp-submission", "::ffff:127.0.0.1").allowed).toBe(false);
    expect(v4.decide("a@example.com", "smtp-submission", "::FFFF:127.0.0.2").allowed).toBe(true);
    const mapped = rules({ scope: "account", service: "smtp-submission", allow: ["::ffff:10.0.0.0/104"] });
    expect(mapped.decide("a@example.com", "smtp-submission", "10.9.9.9").allowed).toBe(true);
    expect(mapped.decide("a@example.com", "smtp-submission", "::ffff:10.9.9.9").allowed).toBe(true);
    expect(mapped.decide("a@example.com", "smtp-submission", "11.0.0.1").allowed).toBe(false);
  });

  it("refuses a client address that is not an IP when a rule applies", () => {
    const r = rules({ scope: "account", service: "api", deny: ["192.0.2.1"] });
    expect(r.decide("a@example.com", "api", "unknown").allowed).toBe(false);
  });

  it("lists the scopes of an address most specific first", () => {
    expect(accessScopes("alice@example.com")).toEqual(["alice@example.com", "example.com", "account"]);
  });
});

describe("the AccessRule model", () => {
  it("normalises scope and networks and names a bad CIDR's field", () => {
    const spec = AccessRuleSpec.parse({
      scope: "Alice@Example.COM",
      service: "api",
      allow: ["192.0.2.77/24", "192.0.2.0/24"],
    });
    expect(spec).toEqual({ scope: "alice@example.com", service: "api", allow: ["192.0.2.0/24"], deny: [] });
    const bad = AccessRuleSpec.safeParse({ scope: "example.com", service: "api", deny: ["300.1.1.1"] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["deny", 0]);
    expect(AccessRuleSpec.safeParse({ scope: "not a scope", service: "api" }).error?.issues[0]?.path).toEqual(
      ["scope"],
    );
    expect(AccessRuleSpec.safeParse({ scope: "account", service: "imap" }).success).toBe(false);
  });
});

const NOW = Date.parse("2026-01-31T12:00:00Z");

function credentials(): CredentialSource {
  return {
    lookup: async (address) =>
      address === "alice@example.com" ? { hash: "right", setAt: new Date(NOW).toISOString() } : undefined,
    verify: async (hash, password) => hash === password,
    dummyHash: async () => "dummy",
  };
}

/** The fixture tenancy with these rules added to account acme. */
function snapshotWith(accessRules: AccessRuleInput[]) {
  return buildPolicySnapshot({
    ...TENANCY,
    accounts: TENANCY.accounts.map((a, i) => (i === 0 ? { ...a, accessRules } : a)),
  });
}

/** A lockout that records every failure it is told about. */
class RecordingLockout extends MemoryLoginLockout {
  readonly seen: LoginFailure[] = [];
  override async recordFailure(failure: LoginFailure): Promise<boolean> {
    this.seen.push(failure);
    return super.recordFailure(failure);
  }
}

describe("SMTP AUTH with access rules", () => {
  const client = (ip: string) => ({
    ...inbound({ remoteAddress: ip, secure: true }),
    listener: "submission" as const,
  });
  const plain = (password: string) => ({ method: "PLAIN", username: "alice@example.com", password });

  it("refuses a denied network with 535 5.7.8 whether the password is right or wrong and the user known or not, without counting it", async () => {
    const snapshot = snapshotWith([
      { scope: "example.com", service: "smtp-submission", allow: [], deny: ["203.0.113.0/24"] },
    ]);
    const lockout = new RecordingLockout();
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW };
    const right = await authenticate(deps, client("203.0.113.9"), plain("right"));
    const wrong = await authenticate(deps, client("203.0.113.9"), plain("wrong"));
    const unknown = await authenticate(deps, client("203.0.113.9"), {
      ...plain("right"),
      username: "nobody@example.com",
    });
    expect(right).toEqual(wrong);
    expect(unknown).toEqual(right);
    expect(right).toMatchObject({ action: "reject", code: 535, enhanced: "5.7.8" });
    // Neither attempt counted: ten more from there do not lock the network out either.
    expect(lockout.seen).toEqual([]);
    for (let i = 0; i < 10; i++) await authenticate(deps, client("203.0.113.9"), plain("wrong"));
    expect(await lockout.lockedUntil("203.0.113.9", NOW)).toBe(0);
    // Another network signs in.
    expect((await authenticate(deps, client("198.51.100.1"), plain("right"))).action).toBe("accept");
  });

  it("accepts a network the user's own rule allows although the domain's rule denies it", async () => {
    const snapshot = snapshotWith([
      { scope: "example.com", service: "smtp-submission", allow: [], deny: ["203.0.113.0/24"] },
      { scope: "alice@example.com", service: "smtp-submission", allow: ["203.0.113.9"], deny: [] },
    ]);
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    expect((await authenticate(deps, client("203.0.113.9"), plain("right"))).action).toBe("accept");
    expect((await authenticate(deps, client("203.0.113.10"), plain("right"))).action).toBe("reject");
  });

  it("ignores rules for the api service", async () => {
    const snapshot = snapshotWith([{ scope: "account", service: "api", allow: [], deny: ["0.0.0.0/0"] }]);
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    expect((await authenticate(deps, client("203.0.113.9"), plain("right"))).action).toBe("accept");
  });
});
