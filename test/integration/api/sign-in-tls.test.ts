/** requireTlsForSignIn on SQLite and PostgreSQL: API sign-in over plain HTTP refused with 403 MP_TLS_REQUIRED (known and unknown addresses alike, audited, not counted); `X-Forwarded-Proto: https` counts only from a trusted proxy. */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../platform/api/server.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "./harness.ts";

const PASSWORD = "Correct-Horse-7";

describe.each(BACKENDS)("TLS required for sign-in on $name", (backend) => {
  let direct: Harness;
  let proxy: ControlPlane;
  let token = "";
  const strict = uniqueDomain("tls");
  const relaxed = uniqueDomain("plain");
  const dave = `dave@${strict}`;
  const erin = `erin@${relaxed}`;

  const signIn = (h: Harness, address: string, headers: Record<string, string> = {}, password = PASSWORD) =>
    h.call("POST", "/v1/sessions", { body: { address, password }, headers });
  /** A sign-in at the control plane that trusts loopback proxies. */
  const viaProxy = async (address: string, headers: Record<string, string> = {}) => {
    const res = await request(`${proxy.url}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ address, password: PASSWORD }),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { code?: string } };
  };

  beforeAll(async () => {
    direct = await startHarness(backend, { rateLimit: false });
    // A second control plane on the same store that trusts loopback proxies.
    proxy = await startControlPlane({
      dataDir: direct.dataDir,
      listen: "127.0.0.1:0",
      store: direct.cp.store,
      resolver: NO_DNS,
      rateLimit: false,
      trustedProxies: ["127.0.0.0/8", "::1"],
    });
    token = (await direct.tenant("tls")).token;
    for (const [path, body] of [
      [`/v1/domains/${strict}`, { name: strict }],
      [`/v1/domains/${relaxed}`, { name: relaxed }],
      [`/v1/domains/${strict}/password-policy`, { scope: strict, requireTlsForSignIn: true }],
      [`/v1/domains/${strict}/users/${dave}`, { address: dave, password: PASSWORD }],
      [`/v1/domains/${relaxed}/users/${erin}`, { address: erin, password: PASSWORD }],
    ] as const) {
      const res = await direct.call("PUT", path, { token, body });
      expect(res.status, res.text).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await direct?.close();
  });

  it("refuses sign-in over plain HTTP with 403 MP_TLS_REQUIRED, the same for an unknown address of the domain, and records it", async () => {
    const known = await signIn(direct, dave);
    const unknown = await signIn(direct, `nobody@${strict}`);
    expect([known.status, known.body.code]).toEqual([403, "MP_TLS_REQUIRED"]);
    expect([unknown.status, unknown.body.code, unknown.body.detail]).toEqual([
      403,
      "MP_TLS_REQUIRED",
      known.body.detail,
    ]);
    // Not counted: six more, past the default lockout, and the next domain's user still signs in.
    for (let i = 0; i < 6; i++) expect((await signIn(direct, dave, {}, `wrong-${i}`)).status).toBe(403);
    expect((await signIn(direct, erin)).status).toBe(201);
    const audit = await direct.call("GET", `/v1/domains/${strict}/login-audit?user=${dave}`, { token });
    expect(audit.body.items).toMatchObject([{ result: "failure", reason: "tls-required", count: 7 }]);
  });

  it("ignores X-Forwarded-Proto from a client that is no trusted proxy", async () => {
    const res = await signIn(direct, dave, { "x-forwarded-proto": "https" });
    expect(res.body.code).toBe("MP_TLS_REQUIRED");
  });

  it("lets a trusted proxy's X-Forwarded-Proto: https sign in, and still refuses its plain-HTTP requests", async () => {
    expect((await viaProxy(dave, { "x-forwarded-proto": "https" })).status).toBe(201);
    expect((await viaProxy(dave, { "x-forwarded-proto": "http" })).body.code).toBe("MP_TLS_REQUIRED");
    expect((await viaProxy(dave, { "x-forwarded-proto": "https, http" })).body.code).toBe("MP_TLS_REQUIRED");
    expect((await viaProxy(dave)).body.code).toBe("MP_TLS_REQUIRED");
  });
});
