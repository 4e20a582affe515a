/** Deleting a domain takes its login audit entries and its access rules (domain and user scopes) along, on SQLite and PostgreSQL: the same account recreating it finds neither. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

const PASSWORD = "Correct-Horse-7";

describe.each(BACKENDS)("domain delete and its sign-in records on $name", (backend) => {
  let h: Harness;
  let acme: { id: string; token: string };
  const gone = uniqueDomain("dd");
  const kept = uniqueDomain("dk");
  const alice = `alice@${gone}`;
  const carol = `carol@${kept}`;

  const put = async (path: string, body: object) => {
    const res = await h.call("PUT", path, { token: acme.token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  const signIn = (address: string) =>
    h.call("POST", "/v1/sessions", { body: { address, password: PASSWORD } });
  const loginAudit = async (domain: string) => {
    const res = await h.call("GET", `/v1/domains/${domain}/login-audit`, { token: acme.token });
    expect(res.status, res.text).toBe(200);
    return res.body.items as { address: string; reason: string | null }[];
  };
  const ruleIds = async () => {
    const res = await h.call("GET", "/v1/access-rules", { token: acme.token });
    expect(res.status, res.text).toBe(200);
    return (res.body.items as { id: string }[]).map((r) => r.id).sort();
  };
  const deny = { deny: ["127.0.0.1", "::1"] };

  beforeAll(async () => {
    h = await startHarness(backend, { rateLimit: false });
    acme = await h.tenant("dd");
    for (const [domain, user] of [
      [gone, alice],
      [kept, carol],
    ] as const) {
      await put(`/v1/domains/${domain}`, { name: domain });
      await put(`/v1/domains/${domain}/users/${user}`, { address: user, password: PASSWORD });
    }
    await put(`/v1/access-rules/${gone}/api`, { scope: gone, service: "api", ...deny });
    await put(`/v1/access-rules/${alice}/smtp-submission`, {
      scope: alice,
      service: "smtp-submission",
      ...deny,
    });
    await put(`/v1/access-rules/${kept}/api`, { scope: kept, service: "api", ...deny });
    await put("/v1/access-rules/account/smtp-submission", {
      scope: "account",
      service: "smtp-submission",
      allow: ["0.0.0.0/0", "::/0"],
    });
    // Refused by the rules, and audited.
    expect((await signIn(alice)).status).toBe(403);
    expect((await signIn(carol)).status).toBe(403);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("removes the domain's login audit entries and access rules with it, and keeps other domains' and the account's", async () => {
    expect((await loginAudit(gone)).map((e) => [e.address, e.reason])).toEqual([[alice, "access-rule"]]);
    // An enabled user cannot be deleted: disabled first.
    await put(`/v1/domains/${gone}/users/${alice}`, { address: alice, enabled: false });
    const userGone = await h.call("DELETE", `/v1/domains/${gone}/users/${alice}`, { token: acme.token });
    expect(userGone.status, userGone.text).toBe(204);
    const deleted = await h.call("DELETE", `/v1/domains/${gone}`, { token: acme.token });
    expect(deleted.status, deleted.text).toBe(204);

    expect(await ruleIds()).toEqual(["account/smtp-submission", `${kept}/api`].sort());
    // Each rule's removal is audited like any delete.
    const audit = await h.call("GET", "/v1/audit?kind=AccessRule&action=delete", { token: acme.token });
    expect(audit.status, audit.text).toBe(200);
    expect((audit.body.items as { objectId: string }[]).map((e) => e.objectId).sort()).toEqual(
      [`${alice}/smtp-submission`, `${gone}/api`].sort(),
    );
    expect((await loginAudit(kept)).map((e) => [e.address, e.reason])).toEqual([[carol, "access-rule"]]);
  });

  it("lets the same account recreate the domain with no old entries and no old rule in force", async () => {
    await put(`/v1/domains/${gone}`, { name: gone });
    await put(`/v1/domains/${gone}/users/${alice}`, { address: alice, password: PASSWORD });
    expect(await loginAudit(gone)).toEqual([]);
    expect((await signIn(alice)).status).toBe(201);
    expect((await loginAudit(gone)).map((e) => [e.address, e.reason])).toEqual([[alice, null]]);
    expect((await signIn(carol)).status).toBe(403);
  });
});
