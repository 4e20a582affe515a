/** AUTH and MAIL FROM on hand-built snapshots: TLS required, per-IP lockout by policy, disabled/expired users, sender ownership. */
import { describe, expect, it } from "vitest";
import { LoginLockout } from "../../../platform/smtp/lockout.ts";
import { authenticate, type CredentialSource } from "../../../platform/smtp/phases/auth.ts";
import { mailFrom } from "../../../platform/smtp/phases/mail-from.ts";
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
  };
}

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
    const deps = { snapshot, lockout: new LoginLockout(), credentials: credentials(), now: NOW };
    expect(reply(await authenticate(deps, { ...tls(), secure: false }, attempt("right")))).toMatch(
      /^538 5\.7\.11 /,
    );
  });

  it("accepts the right password over TLS", async () => {
    const deps = { snapshot, lockout: new LoginLockout(), credentials: credentials(), now: NOW };
    const r = await authenticate(deps, tls(), attempt("right"));
    expect(r).toEqual({
      action: "accept",
      value: { address: "alice@example.com", accountId: "acme", domain: "example.com" },
    });
  });

  it("locks an IP after the domain policy's failures (3 in 5 minutes) with 454 4.7.0, even for the right password", async () => {
    const deps = { snapshot, lockout: new LoginLockout(), credentials: credentials(), now: NOW };
    for (let i = 0; i < 3; i++)
      expect(reply(await authenticate(deps, tls(), attempt("wrong")))).toMatch(/^535 5\.7\.8 /);
    expect(reply(await authenticate(deps, tls(), attempt("right")))).toMatch(/^454 4\.7\.0 /);
    expect((await authenticate(deps, tls("203.0.113.10"), attempt("right"))).action).toBe("accept");
  });

  it("lets the IP in again once the lockout duration (15 minutes) passed", async () => {
    const lockout = new LoginLockout();
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW };
    for (let i = 0; i < 3; i++) await authenticate(deps, tls(), attempt("wrong"));
    expect(
      (await authenticate({ ...deps, now: NOW + 15 * 60_000 + 1 }, tls(), attempt("right"))).action,
    ).toBe("accept");
  });

  it("does not lock for failures spread wider than the window", async () => {
    const lockout = new LoginLockout();
    for (let i = 0; i < 6; i++) {
      const deps = { snapshot, lockout, credentials: credentials(), now: NOW + i * 3 * 60_000 };
      await authenticate(deps, tls(), attempt("wrong"));
    }
    const deps = { snapshot, lockout, credentials: credentials(), now: NOW + 18 * 60_000 };
    expect((await authenticate(deps, tls(), attempt("right"))).action).toBe("accept");
  });

  it("refuses a disabled user with 535 5.7.8 once the password is right", async () => {
    const deps = { snapshot, lockout: new LoginLockout(), credentials: credentials(), now: NOW };
    expect(reply(await authenticate(deps, tls(), attempt("right", "gone@example.com")))).toBe(
      "535 5.7.8 Account disabled",
    );
  });

  it("refuses an expired password (policy: 30 days) with 535 5.7.8", async () => {
    const deps = {
      snapshot,
      lockout: new LoginLockout(),
      credentials: credentials(new Date(NOW - 31 * DAY).toISOString()),
      now: NOW,
    };
    expect(reply(await authenticate(deps, tls(), attempt("right")))).toMatch(/^535 5\.7\.8 Password expired/);
  });

  it("answers an unknown user exactly like a wrong password", async () => {
    const deps = { snapshot, lockout: new LoginLockout(), credentials: credentials(), now: NOW };
    expect(reply(await authenticate(deps, tls(), attempt("x", "nobody@example.com")))).toBe(
      reply(await authenticate(deps, tls("1.2.3.4"), attempt("x"))),
    );
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

  it("admits every sender on the inbound listener (lists apply at RCPT)", () => {
    expect(mailFrom(snapshot, inbound(), "eve@bad.example")).toEqual({
      action: "accept",
      value: "eve@bad.example",
    });
  });
});
