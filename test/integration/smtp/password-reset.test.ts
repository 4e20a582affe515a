/**
 * Self-service password reset on SQLite and PostgreSQL: the signed link travels through the engine's
 * own queue to the user's external address (a capturing smarthost), sets the password once, ends the
 * user's sessions; tampered, expired, reused and withdrawn links are refused; the request answers the
 * same for every address and is limited per address and per IP; the token is in no log, answer or
 * audit entry; lost-password instructions come from the user, else the domain, else the account.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { BACKENDS, type Harness, startHarness, uniqueDomain } from "../api/harness.ts";
import { startCapture } from "./support/capture.ts";
import { EventLog, HOSTNAME } from "./support/harness.ts";

const PASSWORD = "Correct-Horse-7";
const MINUTE = 60_000;

/** One request from a chosen loopback address (another client IP; node:http binds the local address). */
function from(
  localAddress: string,
  base: string,
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; headers: Record<string, unknown>; text: string; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method,
        localAddress,
        headers: body ? { "content-type": "application/json" } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            body: text.startsWith("{") ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe.each(BACKENDS)("self-service password reset on $name", (backend) => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let capture: Awaited<ReturnType<typeof startCapture>>;
  let acme: { id: string; token: string };
  let clock = Date.now();
  let ipCounter = 10;
  const d = uniqueDomain("reset");
  const ana = `ana@${d}`;
  const bob = `bob@${d}`;
  const carol = `carol@${d}`;
  const dora = `dora@${d}`;
  const home = (name: string) => `${name}.home@remote.example`;

  const put = async (path: string, body: object) => {
    const res = await h.call("PUT", path, { token: acme.token, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    await engine?.policy.reached(await h.cp.store.revision());
    return res;
  };
  /** A fresh client address per test, so the per-IP limit of one test does not reach another. */
  const client = () => `127.0.0.${ipCounter++}`;
  const api = (ip: string, method: string, path: string, body?: object) =>
    from(ip, h.url, method, path, body);
  /** Everything the background mailing started has been queued, and the queue is done with it. */
  const settled = async () => {
    await h.cp.app.services.background.idle();
    await Promise.all(events.all("injected").map(([meta]) => events.settled(meta.id)));
  };
  const mailsTo = (to: string) => capture.received.filter((m) => m.to.includes(to));
  /** The token of the newest link mailed to `to` (quoted-printable soft breaks undone). */
  const lastToken = (to: string): string => {
    const raw =
      mailsTo(to)
        .at(-1)
        ?.raw.replace(/=\r?\n/g, "") ?? "";
    const token = /\/console\/#\/reset\/(mpr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(raw)?.[1];
    if (!token) throw new Error(`no reset link mailed to ${to}`);
    return token;
  };
  const askLink = async (address: string, ip = client()) => {
    const res = await api(ip, "POST", "/v1/password-resets", { address });
    expect(res.status).toBe(202);
    await settled();
    return res;
  };
  const complete = (token: string, password: string, ip = client()) =>
    api(ip, "POST", `/v1/password-resets/${token}`, { password });
  const signIn = (address: string, password: string) =>
    h.call("POST", "/v1/sessions", { body: { address, password } });

  beforeAll(async () => {
    capture = await startCapture();
    h = await startHarness(backend, {
      smtp: () => engine?.operations,
      rateLimit: false,
      now: () => new Date(clock),
      publicUrl: "https://mail.example.net/",
    });
    acme = await h.tenant("reset");
    await put(`/v1/domains/${d}`, { name: d });
    await put(`/v1/domains/${d}/users/${ana}`, {
      address: ana,
      password: PASSWORD,
      externalAddress: home("ana"),
    });
    await put(`/v1/domains/${d}/users/${bob}`, { address: bob, password: PASSWORD });
    await put(`/v1/domains/${d}/users/${carol}`, {
      address: carol,
      password: PASSWORD,
      role: "account-admin",
      externalAddress: home("carol"),
    });
    await put(`/v1/domains/${d}/users/${dora}`, {
      address: dora,
      password: PASSWORD,
      externalAddress: home("dora"),
      enabled: false,
    });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      smarthost: { host: "127.0.0.1", port: capture.port, tls: "none" },
      policy: { trustAllDomains: true, masterKey: loadMasterKey(h.dataDir) },
    });
    events = new EventLog(engine);
    await engine.policy.reached(await h.cp.store.revision());
  });
  afterAll(async () => {
    await engine?.close();
    await h?.close();
    await capture?.close();
  });

  it("mails a link to the external address, From: the domain, whose token sets a new password once and ends every session", async () => {
    const before = await signIn(ana, PASSWORD);
    expect(before.status).toBe(201);
    const res = await askLink(ana);
    expect(res.body).toEqual({ linkValidMinutes: 60 });
    const [mail] = mailsTo(home("ana"));
    expect(mail).toBeDefined();
    expect(mail!.from).toBe("");
    expect(mail!.raw).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
    // The console's reset page, the token in the fragment (QP soft breaks undone).
    expect(mail!.raw.replace(/=\r?\n/g, "")).toContain("https://mail.example.net/console/#/reset/mpr_");
    const token = lastToken(home("ana"));

    expect((await complete(token, "Fresh-Kettle-93")).status).toBe(204);
    // The session signed in with the old password ended; the new password signs in, the old does not.
    expect((await h.call("GET", "/v1/me", { token: before.body.token })).status).toBe(401);
    expect((await signIn(ana, PASSWORD)).status).toBe(401);
    expect((await signIn(ana, "Fresh-Kettle-93")).status).toBe(201);
    // Used once: the password it was bound to is gone.
    const again = await complete(token, "Other-Kettle-94");
    expect(again.status).toBe(410);
    expect(again.body.code).toBe("MP_RESET_LINK_INVALID");
    expect((await signIn(ana, "Fresh-Kettle-93")).status).toBe(201);

    // Audited (the link sent, the password set by the reset), never with the token.
    const audit = await h.call("GET", `/v1/audit?objectId=${encodeURIComponent(ana)}&limit=100`, {
      token: acme.token,
    });
    const entries = audit.body.items as { action: string; actor: unknown; after: unknown }[];
    expect(entries.some((e) => e.action === "password-reset-sent")).toBe(true);
    expect(entries.find((e) => e.action === "password-reset-sent")!.after).toMatchObject({
      to: home("ana"),
      queued: true,
    });
    expect(entries.find((e) => e.action === "update")?.actor).toEqual({
      tokenId: "password-reset",
      role: "email-user",
    });
    // The token is nowhere but the mail: not in a log line, an API answer (the 410's path included) or the audit.
    const secret = token.slice(4);
    expect(h.logs.join("\n")).not.toContain(secret);
    expect(h.responses.join("\n")).not.toContain(secret);
    expect(again.text).toContain("mpr_[REDACTED]");
    expect(JSON.stringify(entries)).not.toContain(secret);
  });

  it("refuses a tampered link (payload or signature), an expired one and one whose password changed since", async () => {
    await askLink(ana);
    const token = lastToken(home("ana"));
    const [payload, mac] = token.slice(4).split(".") as [string, string];
    // A later expiry with the old signature.
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const longer = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 24 * 60 * MINUTE })).toString(
      "base64url",
    );
    expect((await complete(`mpr_${longer}.${mac}`, "Tamper-Kettle-95")).status).toBe(410);
    // Another user's address with the old signature.
    const other = Buffer.from(JSON.stringify({ ...claims, a: bob })).toString("base64url");
    expect((await complete(`mpr_${other}.${mac}`, "Tamper-Kettle-95")).status).toBe(410);
    // A flipped signature byte.
    const flipped = Buffer.from(mac, "base64url");
    flipped[0] = flipped[0]! ^ 1;
    expect(
      (await complete(`mpr_${payload}.${flipped.toString("base64url")}`, "Tamper-Kettle-95")).status,
    ).toBe(410);
    expect((await complete("mpr_garbage", "Tamper-Kettle-95")).status).toBe(410);
    // A password the policy refuses changes nothing: the link stays good.
    const weak = await complete(token, "password");
    expect(weak.status).toBe(422);
    expect(weak.body.code).toBe("MP_PASSWORD_POLICY_VIOLATION");

    // Past its hour.
    clock += 61 * MINUTE;
    try {
      expect((await complete(token, "Late-Kettle-96")).status).toBe(410);
    } finally {
      clock -= 61 * MINUTE;
    }
    // Still within the hour it works — unless the password changed in between (here by an admin).
    await askLink(ana);
    const fresh = lastToken(home("ana"));
    await put(`/v1/domains/${d}/users/${ana}`, {
      address: ana,
      password: "Admin-Kettle-97",
      externalAddress: home("ana"),
    });
    expect((await complete(fresh, "Fresh-Kettle-98")).status).toBe(410);
    expect((await complete(token, "Fresh-Kettle-98")).status).toBe(410);
    expect((await signIn(ana, "Admin-Kettle-97")).status).toBe(201);
  });

  it("lets exactly one of two simultaneous uses of a link set the password", async () => {
    const fay = `fay@${d}`;
    await put(`/v1/domains/${d}/users/${fay}`, {
      address: fay,
      password: PASSWORD,
      externalAddress: home("fay"),
    });
    await askLink(fay);
    const token = lastToken(home("fay"));
    const answers = await Promise.all([complete(token, "Race-Kettle-31"), complete(token, "Race-Kettle-32")]);
    expect(answers.map((a) => a.status).sort()).toEqual([204, 410]);
    const winner = answers[0]!.status === 204 ? "Race-Kettle-31" : "Race-Kettle-32";
    expect((await signIn(fay, winner)).status).toBe(201);
  });

  it("answers 202 the same for an unknown address, a user without external address, a disabled user and an account admin, and mails none of them", async () => {
    const mailed = capture.received.length;
    const answers = [];
    for (const address of [`nobody@${d}`, bob, dora, carol, "x@not-hosted.example"]) {
      const res = await askLink(address);
      answers.push([res.status, res.text]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(mailsTo(home("dora"))).toHaveLength(0);
    expect(mailsTo(home("carol"))).toHaveLength(0);
    expect(capture.received).toHaveLength(mailed);
  });

  it("sends an account admin's link once the policy allows its role, and none for a role whose recovery is withdrawn; a link sent before the withdrawal dies", async () => {
    await put("/v1/password-policy", {
      scope: "account",
      rolePermissions: { "account-admin": { passwordRecoveryAllowed: true } },
    });
    await askLink(carol);
    expect(mailsTo(home("carol"))).toHaveLength(1);
    const carolToken = lastToken(home("carol"));
    await askLink(ana);
    const anaToken = lastToken(home("ana"));
    const anaMails = mailsTo(home("ana")).length;

    await put(`/v1/domains/${d}/password-policy`, {
      scope: d,
      rolePermissions: { "email-user": { passwordRecoveryAllowed: false } },
    });
    await askLink(ana);
    expect(mailsTo(home("ana"))).toHaveLength(anaMails);
    expect((await complete(anaToken, "Withdrawn-Kettle-99")).status).toBe(410);
    // The domain's policy replaces the account's, whose account-admin permission no longer applies.
    expect((await complete(carolToken, "Withdrawn-Kettle-99")).status).toBe(410);
    await h.call("DELETE", `/v1/domains/${d}/password-policy`, { token: acme.token });
    await h.call("DELETE", "/v1/password-policy", { token: acme.token });
  });

  it("mails at most 3 links per address however many are asked for, and answers 429 past 10 requests from one IP", async () => {
    const erin = `erin@${d}`;
    await put(`/v1/domains/${d}/users/${erin}`, {
      address: erin,
      password: PASSWORD,
      externalAddress: home("erin"),
    });
    // Each from another IP: the per-address limit holds whoever asks.
    for (let i = 0; i < 5; i++) await askLink(erin);
    expect(mailsTo(home("erin"))).toHaveLength(3);

    const ip = client();
    for (let i = 0; i < 10; i++) {
      expect((await api(ip, "POST", "/v1/password-resets", { address: `nobody${i}@${d}` })).status).toBe(202);
    }
    const limited = await api(ip, "POST", "/v1/password-resets", { address: ana });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("MP_RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await api(ip, "GET", `/v1/sessions/lost-password?address=${ana}`)).status).toBe(429);
    // Another client is not affected.
    expect((await api(client(), "GET", `/v1/sessions/lost-password?address=${ana}`)).status).toBe(200);
  });

  it("shows the most specific lost-password instructions, the same for an unknown address as for a user without their own", async () => {
    const help = async (address: string) =>
      (await api(client(), "GET", `/v1/sessions/lost-password?address=${encodeURIComponent(address)}`)).body;
    expect(await help(ana)).toEqual({ instructions: null, selfServiceReset: true });
    await put("/v1/password-policy", {
      scope: "account",
      lostPasswordInstructions: "Call the help desk on 555-0100.",
    });
    expect(await help(ana)).toEqual({
      instructions: "Call the help desk on 555-0100.",
      selfServiceReset: true,
    });
    await put(`/v1/domains/${d}/password-policy`, {
      scope: d,
      lostPasswordInstructions: "Ask Ines in room 4.",
      rolePermissions: { "email-user": { passwordRecoveryAllowed: false } },
    });
    await put(`/v1/domains/${d}/users/${carol}`, {
      address: carol,
      role: "account-admin",
      externalAddress: home("carol"),
      lostPasswordInstructions: "Carol: use the sealed envelope.",
    });
    expect(await help(ana)).toEqual({ instructions: "Ask Ines in room 4.", selfServiceReset: false });
    expect(await help(`nobody@${d}`)).toEqual(await help(ana));
    expect(await help(`NOBODY@${d.toUpperCase()}`)).toEqual(await help(ana));
    expect(await help(carol)).toEqual({
      instructions: "Carol: use the sealed envelope.",
      selfServiceReset: false,
    });
    expect(await help("x@not-hosted.example")).toEqual({ instructions: null, selfServiceReset: false });
    await h.call("DELETE", `/v1/domains/${d}/password-policy`, { token: acme.token });
    await h.call("DELETE", "/v1/password-policy", { token: acme.token });
  });

  it("refuses to set a password over plain HTTP with 403 MP_TLS_REQUIRED when the domain requires TLS for sign-in, and the link stays usable", async () => {
    const erin = `erin@${d}`;
    await put(`/v1/domains/${d}/users/${erin}`, {
      address: erin,
      password: PASSWORD,
      externalAddress: home("erin"),
    });
    await put(`/v1/domains/${d}/password-policy`, { scope: d, requireTlsForSignIn: true });
    await askLink(erin);
    const token = lastToken(home("erin"));
    const plain = await complete(token, "Plain-Kettle-95");
    expect(plain.status).toBe(403);
    expect(plain.body.code).toBe("MP_TLS_REQUIRED");
    expect((await signIn(erin, "Plain-Kettle-95")).status).not.toBe(201);
    await h.call("DELETE", `/v1/domains/${d}/password-policy`, { token: acme.token });
    expect((await complete(token, "Later-Kettle-96")).status).toBe(204);
  });
});
