/** Hand-built tenancies and contexts for the SMTP policy unit tests. */
import { buildPolicySnapshot, type TenancyInput } from "../../../platform/smtp/policy/snapshot.ts";
import type { ConnectionContext } from "../../../platform/smtp/session.ts";

/** One account with example.com (alias domain example.org), users, aliases, lists and a routed domain. */
export const TENANCY: TenancyInput = {
  revision: 7,
  accounts: [
    {
      id: "acme",
      domains: [
        { name: "example.com", aliases: ["example.org"], rejectedLocalPartChars: "%!", verified: true },
        { name: "routed.example", localRecipientsOnly: false, verified: true },
        { name: "strict.example", localRecipientsOnly: true, localRecipients: ["listed"], verified: true },
        { name: "catch.example", catchAll: "alice@example.com", verified: true },
      ],
      routes: [
        { domain: "routed.example", host: "mx2.routed.example", port: 25, priority: 20 },
        { domain: "routed.example", host: "mx1.routed.example", port: 25, priority: 10 },
        { domain: "strict.example", host: "mx.strict.example", priority: 10 },
      ],
      users: [
        { address: "alice@example.com" },
        { address: "bob@example.com" },
        { address: "gone@example.com", enabled: false },
      ],
      aliases: [
        {
          address: "sales@example.com",
          action: {
            type: "forward",
            to: ["alice@example.com", "bob@example.com", "partner@elsewhere.example"],
          },
        },
        { address: "joe@example.com", action: { type: "reject", message: "Joe no longer works here" } },
        { address: "loop1@example.com", action: { type: "forward", to: ["loop2@example.com"] } },
        { address: "loop2@example.com", action: { type: "forward", to: ["loop1@example.com"] } },
        {
          address: "half@example.com",
          action: { type: "forward", to: ["loop1@example.com", "bob@example.com"] },
        },
        {
          address: "away@example.com",
          action: {
            type: "autoReply",
            subject: "Away",
            body: "Back Monday",
            copyTo: ["alice@example.com"],
            periodDays: 1,
          },
        },
      ],
      senderLists: [
        {
          domain: "example.com",
          kind: "block",
          target: "sender",
          entries: ["*@spam.example", "eve@bad.example"],
        },
        { domain: "example.com", kind: "allow", target: "sender", entries: ["*@friend.example"] },
        { domain: "example.com", kind: "block", target: "recipient", entries: ["closed@example.com"] },
        { domain: "example.com", kind: "allow", target: "recipient", entries: ["abuse@example.com"] },
      ],
      filterSettings: [
        { scope: "account", quarantineThreshold: 0.8 },
        { scope: "routed.example", skipSpf: true, sizeLimitMb: 1 },
      ],
      passwordPolicies: [
        {
          scope: "example.com",
          expiry: { days: 30 },
          lockout: { failures: 3, windowMinutes: 5, durationMinutes: 15 },
        },
      ],
    },
  ],
};

// abuse@ must exist to be accepted: give it a user.
TENANCY.accounts[0]!.users!.push({ address: "abuse@example.com" }, { address: "closed@example.com" });

export const snapshot = buildPolicySnapshot(TENANCY);

/** An unauthenticated inbound client. */
export function inbound(overrides: Partial<ConnectionContext> = {}): ConnectionContext {
  return {
    id: "c1",
    listener: "inbound",
    remoteAddress: "192.0.2.10",
    helo: "mx.sender.example",
    secure: false,
    user: null,
    ...overrides,
  };
}

/** An authenticated submission client. */
export function submitter(address = "alice@example.com"): ConnectionContext {
  return {
    id: "c2",
    listener: "submission",
    remoteAddress: "198.51.100.5",
    helo: "laptop",
    secure: true,
    user: { address, accountId: "acme", domain: address.split("@")[1]! },
  };
}
