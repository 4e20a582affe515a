/** AUTH and MAIL FROM on hand-built snapshots: TLS required, constant work, per-IP and per-/64 lockout by policy, disabled/expired users, sender ownership. */

import { describe, expect, it } from "vitest";
import { type LoginFailure, MemoryLoginLockout } from "../../../platform/smtp/lockout.ts";
import { authenticate, type CredentialSource } from "../../../platform/smtp/phases/auth.ts";
import { mailFrom } from "../../../platform/smtp/phases/mail-from.ts";
import { buildPolicySnapshot } from "../../../platform/smtp/policy/snapshot.ts";
import type { LoginAttemptInput } from "../../../platform/store/contract/login-audit-store.ts";
import { inbound, snapshot, submitter } from "./fixtures.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-01-31T12:00:00Z");

/** Passwords in clear, compared directly: these tests are about the phase, not the hash. */
function credentials(setAt = new Date(NOW - DAY).toISOString()): CredentialSource {
  const known = new Map([
    ["alice@example.com", "right"],
    ["gone@example.com", "right"],
  ]);
  return {
    lookup: async (address) => (known.has(address) ? { hash: known.get(address)!, setAt } : undefined),
    verify: async (hash, password) => hash === password,
    dummyHash: async () => DUMMY,
  };
}

const DUMMY = "dummy-hash-no-password-matches";

const tls = (ip = "203.0.113.9") => ({
  ...inbound({ remoteAddress: ip, secure: true }),
  listener: "submission" as const,
});
const attempt = (password: string, username = "alice@example.com") => ({
  method: "PLAIN",
  username,
  password,
});
const reply = (r: Awaited<ReturnType<typeof authenticate>>) =>
  r.action === "accept" ? "accept" : `${r.code} ${r.enhanced} ${r.message}`;

describe("authenticate", () => {
  it("refuses AUTH before STARTTLS with 538 5.7.11", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    expect(reply(await authenticate(deps, { ...tls(), secure: false }, attempt("right")))).toMatch(
      /^538 5\.7\.11 /,
    );
  });

  it("records each attempt at a hosted domain for the login audit (refusals before the password too), never the password", async () => {
    const attempts: LoginAttemptInput[] = [];
    const failures: LoginFailure[] = [];
    const memory = new MemoryLoginLockout();
    const lockout = {
      lockedUntil: (ip: string, now: number) => memory.lockedUntil(ip, now),
      recordFailure: async (f: LoginFailure) => {
        failures.push(f);
        return memory.recordFailure(f);
      },
      recordAttempt: async (a: LoginAttemptInput) => {
        attempts.push(a);
      },
    };
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW };
    await authenticate(deps, { ...tls(), secure: false }, attempt("right"));
    await authenticate(deps, tls(), attempt("right"));
    await authenticate(deps, tls(), attempt("wrong-secret", "nobody@example.com"));
    await authenticate(deps, tls(), attempt("wrong-secret", "someone@not-hosted.example"));
    const facts = (a: LoginAttemptInput | undefined) =>
      a && [a.address, a.userExists, a.service, a.result, a.reason, a.credential];
    expect(attempts.map(facts)).toEqual([
      ["alice@example.com", true, "smtp-submission", "failure", "tls-required", null],
      ["alice@example.com", true, "smtp-submission", "success", null, "password"],
    ]);
    // Counted failures carry their entry to the lockout's transaction; none for a name no one hosts.
    expect(failures.map((f) => facts(f.attempt))).toEqual([
      ["nobody@example.com", false, "smtp-submission", "failure", "bad-credentials", null],
      undefined,
    ]);
    expect(JSON.stringify([attempts, failures])).not.toContain("wrong-secret");
  });

  it("accepts the right password over TLS", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    const r = await authenticate(deps, tls(), attempt("right"));
    expect(r).toEqual({
      action: "accept",
      value: { address: "alice@example.com", accountId: "acme", domain: "example.com" },
    });
  });

  it("locks an IP after the domain policy's failures (3 in 5 minutes) with 454 4.7.0, even for the right password", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    for (let i = 0; i < 3; i++)
      expect(reply(await authenticate(deps, tls(), attempt("wrong")))).toMatch(/^535 5\.7\.8 /);
    expect(reply(await authenticate(deps, tls(), attempt("right")))).toMatch(/^454 4\.7\.0 /);
    expect((await authenticate(deps, tls("203.0.113.10"), attempt("right"))).action).toBe("accept");
  });

  it("lets the IP in again once the lockout duration (15 minutes) passed", async () => {
    const lockout = new MemoryLoginLockout();
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW };
    for (let i = 0; i < 3; i++) await authenticate(deps, tls(), attempt("wrong"));
    expect(
      (await authenticate({ ...deps, now: NOW + 15 * 60_000 + 1 }, tls(), attempt("right"))).action,
    ).toBe("accept");
  });

  it("does not lock for failures spread wider than the window", async () => {
    const lockout = new MemoryLoginLockout();
    for (let i = 0; i < 6; i++) {
      const deps = { snapshot, lockout, credentials: credentials(), now: NOW + i * 3 * 60_000 };
      await authenticate(deps, tls(), attempt("wrong"));
    }
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW + 18 * 60_000 };
    expect((await authenticate(deps, tls(), attempt("right"))).action).toBe("accept");
  });

  it("refuses a disabled user with 535 5.7.8 once the password is right", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    expect(reply(await authenticate(deps, tls(), attempt("right", "gone@example.com")))).toBe(
      "535 5.7.8 Account disabled",
    );
  });

  it("refuses an expired password (policy: 30 days) with 535 5.7.8", async () => {
    const deps = {
      snapshot,
      lockout: new MemoryLoginLockout(),
      credentials: credentials(new Date(NOW - 31 * DAY).toISOString()),
      now: NOW,
    };
    expect(reply(await authenticate(deps, tls(), attempt("right")))).toMatch(/^535 5\.7\.8 Password expired/);
  });

  it("answers an unknown user exactly like a wrong password", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    expect(reply(await authenticate(deps, tls(), attempt("x", "nobody@example.com")))).toBe(
      reply(await authenticate(deps, tls("1.2.3.4"), attempt("x"))),
    );
  });
});

/** A credential source that counts its calls and remembers which hashes it verified. */
function spyCredentials() {
  const inner = credentials();
  const calls = { lookups: [] as string[], verified: [] as string[] };
  const source: CredentialSource = {
    lookup: async (address) => {
      calls.lookups.push(address);
      return inner.lookup(address);
    },
    verify: async (hash, password) => {
      calls.verified.push(hash);
      return inner.verify(hash, password);
    },
    dummyHash: () => inner.dummyHash(),
  };
  return { source, calls };
}

/** A lockout that records what the phase reported. */
function spyLockout() {
  const memory = new MemoryLoginLockout();
  const failures: LoginFailure[] = [];
  return {
    failures,
    lockout: {
      lockedUntil: (ip: string, now: number) => memory.lockedUntil(ip, now),
      recordFailure: async (f: LoginFailure) => {
        failures.push(f);
        return memory.recordFailure(f);
      },
    },
  };
}

describe("authenticate does the same work for every name", () => {
  const cases = [
    { name: "a wrong password", user: "alice@example.com", password: "wrong", reason: "wrong-password" },
    { name: "an unknown user", user: "nobody@example.com", password: "right", reason: "unknown-user" },
    { name: "an unknown domain", user: "alice@unhosted.example", password: "right", reason: "unknown-user" },
    { name: "a domain alias login", user: "alice@example.org", password: "right", reason: "alias-domain" },
    { name: "a user without a password", user: "bob@example.com", password: "right", reason: "no-password" },
    { name: "a name that is no address", user: "not an address", password: "right", reason: "unknown-user" },
  ] as const;

  it.each(cases)("looks up once, verifies once and answers 535 5.7.8 for $name", async (c) => {
    const { source, calls } = spyCredentials();
    const { lockout, failures } = spyLockout();
    const r = await authenticate(
      { snapshot, lockout, credentials: source, now: NOW },
      tls(),
      attempt(c.password, c.user),
    );
    expect(reply(r)).toBe("535 5.7.8 Authentication credentials invalid");
    expect(calls.lookups).toHaveLength(1);
    expect(calls.verified).toHaveLength(1);
    // Only a user with a hash is checked against it; every other name against the dummy.
    expect(calls.verified[0]).toBe(c.reason === "wrong-password" ? "right" : DUMMY);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ reason: c.reason, counted: true, ip: "203.0.113.9" });
  });

  it("looks up once and verifies once for the right password too", async () => {
    const { source, calls } = spyCredentials();
    const r = await authenticate(
      { snapshot, lockout: new MemoryLoginLockout(), credentials: source, now: NOW },
      tls(),
      attempt("right"),
    );
    expect(r.action).toBe("accept");
    expect([calls.lookups.length, calls.verified.length]).toEqual([1, 1]);
  });

  it("reports the hosted domain and the existing user with a failure, never an unknown name", async () => {
    const { lockout, failures } = spyLockout();
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW };
    await authenticate(deps, tls(), attempt("wrong"));
    await authenticate(deps, tls(), attempt("right", "Secret-Typed-Here@example.com"));
    await authenticate(deps, tls(), attempt("right", "x@unhosted.example"));
    expect(failures.map((f) => [f.target, f.user])).toEqual([
      [{ accountId: "acme", domain: "example.com" }, "alice@example.com"],
      [{ accountId: "acme", domain: "example.com" }, null],
      [null, null],
    ]);
  });

  it("audits a disabled user's right password without counting it towards the lockout", async () => {
    const { lockout, failures } = spyLockout();
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW };
    for (let i = 0; i < 4; i++) await authenticate(deps, tls(), attempt("right", "gone@example.com"));
    expect(failures.map((f) => [f.reason, f.counted])).toEqual(Array(4).fill(["disabled", false]));
    expect((await authenticate(deps, tls(), attempt("right"))).action).toBe("accept");
  });
});

describe("authenticate counts failures per IPv4 address and per IPv6 /64", () => {
  it("locks the whole /64 after failures from three different addresses in it; another /64 still logs in", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:abcd:ef01:2345:6789"]) {
      expect(reply(await authenticate(deps, tls(ip), attempt("wrong")))).toMatch(/^535 /);
    }
    expect(reply(await authenticate(deps, tls("2001:db8:1:2::77"), attempt("right")))).toMatch(
      /^454 4\.7\.0 /,
    );
    expect((await authenticate(deps, tls("2001:db8:1:3::1"), attempt("right"))).action).toBe("accept");
  });

  it("counts an IPv4-mapped IPv6 client as its IPv4 address, and IPv4 neighbours apart", async () => {
    const deps = { snapshot, lockout: new MemoryLoginLockout(), credentials: credentials(), now: NOW };
    await authenticate(deps, tls("192.0.2.1"), attempt("wrong"));
    await authenticate(deps, tls("::ffff:192.0.2.1"), attempt("wrong"));
    await authenticate(deps, tls("::FFFF:c000:0201"), attempt("wrong"));
    expect(reply(await authenticate(deps, tls("192.0.2.1"), attempt("right")))).toMatch(/^454 /);
    expect((await authenticate(deps, tls("192.0.2.2"), attempt("right"))).action).toBe("accept");
  });
});

describe("mailFrom", () => {
  it("requires AUTH on the submission listener with 530 5.7.0", () => {
    const r = mailFrom(snapshot, { ...inbound(), listener: "submission" }, "alice@example.com");
    expect(r).toMatchObject({ code: 530, enhanced: "5.7.0" });
  });

  it("lets a user send as themself or as an alias forwarding to them, not as others (553 5.7.1)", () => {
    expect(mailFrom(snapshot, submitter(), "alice@example.com").action).toBe("accept");
    expect(mailFrom(snapshot, submitter(), "sales@example.com").action).toBe("accept");
    expect(mailFrom(snapshot, submitter(), "bob@example.com")).toMatchObject({
      code: 553,
      enhanced: "5.7.1",
    });
  });

  it("keeps the reverse path's case (RFC 5321 §2.4) and compares it without case", () => {
    expect(mailFrom(snapshot, inbound(), "Bob.Smith@Outside.example")).toMatchObject({
      action: "accept",
      value: "Bob.Smith@Outside.example",
    });
    expect(mailFrom(snapshot, submitter(), "Alice@Example.com")).toMatchObject({
      action: "accept",
      value: "Alice@Example.com",
    });
  });

  it("lets a user send as one of their extra addresses, and nobody else as it (553 5.7.1)", () => {
    const snap = buildPolicySnapshot({
      revision: 1,
      accounts: [
        {
          id: "acme",
          domains: [{ name: "example.com", verified: true }],
          users: [
            { address: "alice@example.com", addresses: ["a.smith@example.com"] },
            { address: "bob@example.com" },
          ],
        },
      ],
    });
    expect(mailFrom(snap, submitter("alice@example.com"), "a.smith@example.com").action).toBe("accept");
    expect(mailFrom(snap, submitter("bob@example.com"), "a.smith@example.com")).toMatchObject({
      code: 553,
      enhanced: "5.7.1",
    });
  });

  it("admits every sender on the inbound listener (lists apply at RCPT)", () => {
    expect(mailFrom(snapshot, inbound(), "eve@bad.example")).toEqual({
      action: "accept",
      value: "eve@bad.example",
    });
  });
});
