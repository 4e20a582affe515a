/**
 * The client IP behind a trusted proxy, on SQLite and PostgreSQL: from a `--trusted-proxies` peer the
 * rightmost X-Forwarded-For entry that is not a trusted proxy is the IP the lockout, the access rules
 * and the login audit see; from any other peer the header is ignored, so a client cannot pick the IP
 * it is judged by (nor dodge a lockout with it).
 */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

const PASSWORD = "Correct-Horse-7";
/** A network the domain's access rule denies. */
const DENIED = "198.51.100.7";

describe.each(BACKENDS)("X-Forwarded-For from trusted proxies on $name", (backend) => {
  let direct: Harness;
  let proxied: ControlPlane;
  let token = "";
  const domain = uniqueDomain("xff");
  const alice = `alice@${domain}`;

  /** A sign-in at the control plane that trusts loopback as its proxy. */
  const viaProxy = async (forwardedFor: string | undefined, password = PASSWORD) => {
    const res = await request(`${proxied.url}/v1/sessions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }),
      },
      body: JSON.stringify({ address: alice, password }),
    });
    await res.body.dump();
    return res.statusCode;
  };
  /** A sign-in at the control plane that trusts no proxy (the same store). */
  const directly = async (forwardedFor: string | undefined, password = PASSWORD) =>
    (
      await direct.call("POST", "/v1/sessions", {
        body: { address: alice, password },
        headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
      })
    ).status;
  /** The login audit's IPs with their outcome, newest first. */
  const audited = async () => {
    const res = await direct.call("GET", `/v1/domains/${domain}/login-audit`, { token });
    expect(res.status, res.text).toBe(200);
    return (res.body.items as { ip: string; reason: string | null; count: number }[]).map((e) => [
      e.ip,
      e.reason,
      e.count,
    ]);
  };
  const unlock = (ip: string) => direct.call("DELETE", `/v1/lockouts/${ip}`, { token: direct.adminToken });

  beforeAll(async () => {
    direct = await startHarness(backend, { rateLimit: false });
    proxied = await startControlPlane({
      dataDir: direct.dataDir,
      listen: "127.0.0.1:0",
      store: direct.cp.store,
      resolver: NO_DNS,
      rateLimit: false,
      trustedProxies: ["127.0.0.0/8", "::1"],
    });
    token = (await direct.tenant("xff")).token;
    for (const [path, body] of [
      [`/v1/domains/${domain}`, { name: domain }],
      [
        `/v1/domains/${domain}/password-policy`,
        { scope: domain, lockout: { failures: 3, windowMinutes: 10, durationMinutes: 15 } },
      ],
      [`/v1/domains/${domain}/users/${alice}`, { address: alice, password: PASSWORD }],
      [`/v1/access-rules/${domain}/api`, { scope: domain, service: "api", deny: [`${DENIED}/32`] }],
    ] as const) {
      const res = await direct.call("PUT", path, { token, body });
      expect(res.status, res.text).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await proxied?.close();
    await direct?.close();
  });

  it("audits and judges the forwarded client from a trusted proxy: signed in from one IP, refused by the access rule from another", async () => {
    expect(await viaProxy("203.0.113.50")).toBe(201);
    expect(await viaProxy(DENIED)).toBe(403);
    // The proxy itself (no header) is not in the denied network.
    expect(await viaProxy(undefined)).toBe(201);
    expect(await audited()).toEqual(
      expect.arrayContaining([
        ["203.0.113.50", null, 1],
        [DENIED, "access-rule", 1],
        ["127.0.0.1", null, 1],
      ]),
    );
  });

  it("takes the rightmost entry that is no trusted proxy: entries a client wrote further left count for nothing", async () => {
    // The client claims the allowed 203.0.113.50; the proxy appended the denied address it saw.
    expect(await viaProxy(`203.0.113.50, ${DENIED}`)).toBe(403);
    // A chain of trusted proxies (127.0.0.9) is skipped to the client before it.
    expect(await viaProxy(`${DENIED}, 127.0.0.9`)).toBe(403);
    expect(await viaProxy(`${DENIED}, 203.0.113.51`)).toBe(201);
  });

  it("locks out the forwarded client, not the proxy: other clients behind it still sign in", async () => {
    for (let i = 0; i < 3; i++) expect(await viaProxy("203.0.113.66", `wrong-${i}`)).toBe(401);
    expect(await viaProxy("203.0.113.66")).toBe(429);
    expect(await viaProxy("203.0.113.67")).toBe(201);
    expect(await viaProxy(undefined)).toBe(201);
    const lockouts = await direct.call("GET", "/v1/lockouts", { token: direct.adminToken });
    expect(lockouts.status, lockouts.text).toBe(200);
    const keys = (lockouts.body.items as { key: string }[]).map((l) => l.key);
    expect(keys).toContain("203.0.113.66");
    expect(keys).not.toContain("127.0.0.1");
    await unlock("203.0.113.66");
  });

  it("ignores X-Forwarded-For from a peer that is no trusted proxy: neither a denied nor a locked-out IP can be claimed", async () => {
    // The header names the denied network, but the peer (127.0.0.1) decides.
    expect(await directly(DENIED)).toBe(201);
    for (let i = 0; i < 3; i++) expect(await directly(`203.0.113.${70 + i}`, `wrong-${i}`)).toBe(401);
    // The peer is locked out, whatever address it claims next.
    expect(await directly("203.0.113.99")).toBe(429);
    expect(await directly(undefined)).toBe(429);
    const recent = await audited();
    expect(recent.filter(([ip]) => String(ip).startsWith("203.0.113.7"))).toEqual([]);
    expect(recent).toEqual(expect.arrayContaining([["127.0.0.1", "bad-credentials", 3]]));
    await unlock("127.0.0.1");
  });
});
