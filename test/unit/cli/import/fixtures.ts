/** A small tenant as `readTenant` would return it (normalised, in manifest order): the renderers' fixture. */
import { TenancyManifest } from "../../../../sdk/src/models/tenancy.ts";

/** What the import header names as the source. */
export const SOURCE = { endpoint: "http://127.0.0.1:8080", account: "acme" } as const;

/**
 * Two domains with a domain alias, routes (one at every default but its key), a forward list, a
 * reject, an auto-reply and a catch-all, a sender list, changed filter settings and password policies
 * (one nested field), users (one at every default), a local part (`joe`) used by both domains, and
 * access rules of the account, a domain and a user.
 */
export function fixtureManifest(): TenancyManifest {
  return TenancyManifest.parse({
    domains: [
      {
        name: "example.com",
        aliases: ["example.net"],
        timezone: "Europe/Amsterdam",
        catchAll: "info@example.com",
      },
      { name: "example.org" },
    ],
    routes: [
      { domain: "example.com", host: "mx1.example.net", priority: 10 },
      { domain: "example.com", host: "2001:db8::25", port: 2525, priority: 20, tls: "required" },
      { domain: "example.org", host: "mx.example.org" },
    ],
    aliases: [
      { address: "joe@example.com", action: { type: "reject", message: "Joe no longer works here" } },
      {
        address: "sales@example.com",
        action: { type: "forward", to: ["bob@example.com", "alice@example.com"] },
      },
      { address: "*@example.org", action: { type: "forward", to: ["joe@example.org"] } },
      {
        address: "holiday@example.org",
        action: { type: "autoReply", subject: "Closed", body: "Back on Monday.\nThe team" },
      },
    ],
    senderLists: [
      {
        domain: "example.com",
        kind: "block",
        target: "sender",
        entries: ["spam.example", "eve@example.net"],
      },
    ],
    filterSettings: [
      { scope: "example.com", quarantineThreshold: 0.8, tagThreshold: 0.3, blockedExtensions: ["exe", "js"] },
    ],
    passwordPolicies: [
      { scope: "account", minLength: 12, lockout: { failures: 3 } },
      { scope: "example.com", requireDigit: true },
    ],
    users: [
      {
        address: "alice@example.com",
        firstName: "Alice",
        lastName: "Liddell",
        quotaMb: 2048,
        role: "domain-admin",
      },
      { address: "bob@example.com" },
      { address: "joe@example.org", enabled: false },
    ],
    accessRules: [
      { scope: "account", service: "api", deny: ["203.0.113.0/24"] },
      { scope: "example.com", service: "smtp-submission", allow: ["192.0.2.0/24", "2001:db8::/32"] },
      { scope: "alice@example.com", service: "smtp-submission", allow: ["198.51.100.7/32"] },
    ],
  });
}
