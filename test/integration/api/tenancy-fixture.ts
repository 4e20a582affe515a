/** A bulk tenancy document for tests: one domain with a route, aliases, a list, settings, a policy and three users. */

/**
 * A domain's document: a route, two aliases, a block list, settings, a policy and users; `passwords` by address.
 * @example tenancyDocument("example.com", { "ana@example.com": "Kq7-Secret-0001" })
 */
export function tenancyDocument(domain: string, passwords: Record<string, string> = {}) {
  const user = (local: string, extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const address = `${local}@${domain}`;
    return {
      address,
      firstName: local,
      ...extra,
      ...(passwords[address] ? { password: passwords[address] } : {}),
    };
  };
  return {
    apiVersion: "mailplane/v1",
    domains: [{ name: domain, primaryContact: `it@${domain}` }],
    routes: [{ domain, host: "127.0.0.1", port: 2626, priority: 10, tls: "none" }],
    aliases: [
      { address: `sales@${domain}`, action: { type: "forward", to: [`ana@${domain}`] } },
      { address: `joe@${domain}`, action: { type: "reject", message: "Joe left" } },
    ],
    senderLists: [{ domain, kind: "block", target: "sender", entries: ["*@junk.example"] }],
    filterSettings: [{ scope: domain, quarantineThreshold: 0.9, tagThreshold: 0.25 }],
    passwordPolicies: [{ scope: domain, minLength: 10 }],
    users: [user("ana"), user("bob", { enabled: false }), user("cy")],
  };
}
