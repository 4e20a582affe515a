/** `mailplane serve` as a real process: bootstrap token file (0600, path printed, token never), restart, SIGTERM. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { request } from "undici";
import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { type ServeProcess, startServe } from "../../support/serve-process.ts";
import { swaks } from "../smtp/support/harness.ts";

const CLI = fileURLToPath(new URL("../../../cli/mailplane.ts", import.meta.url));
const dirs: string[] = [];

/** Starts `mailplane serve …` (with `env` added to ours, debug logging) and waits until it listens. */
function serve(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  return startServe(args, { MAILPLANE_LOG_LEVEL: "debug", ...env });
}

async function whoami(url: string, token: string) {
  const res = await request(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("mailplane serve", () => {
  it("prints help for the CLI and for serve, and the version", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (c) => (out += c));
        child.stderr.on("data", (c) => (out += c));
        child.on("exit", (code) => resolve({ code, out }));
      });
    const top = await run(["--help"]);
    expect(top).toMatchObject({ code: 0, out: expect.stringContaining("serve") });
    const { version } = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    expect(await run(["--version"])).toEqual({ code: 0, out: `mailplane ${version}\n` });
    const help = await run(["serve", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--data-dir",
      "--listen",
      "--database-url",
      "--trust-all-domains",
      "--domain-check-interval",
      "--public-url",
      "MAILPLANE_PUBLIC_URL",
      "--report-check-interval",
      "MAILPLANE_REPORT_CHECK_INTERVAL",
    ])
      expect(help.out).toContain(flag);
    expect(await run(["serve", "--public-url", "javascript:alert(1)"])).toMatchObject({
      code: 2,
      out: expect.stringContaining("--public-url must be an http(s) URL"),
    });
    expect(await run(["serve", "--report-check-interval", "soon"])).toMatchObject({
      code: 2,
      out: expect.stringContaining("--report-check-interval must be a whole number"),
    });
    const bad = await run(["serve", "--no-such-flag"]);
    expect(bad).toMatchObject({ code: 2, out: expect.stringContaining("usage: mailplane serve") });
    // A command loads only its own file: every command the overview lists must be found by its name.
    const names = [...top.out.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(["import", "plan-summary", "serve", "smtp", "verify"]));
    for (const name of names) {
      expect(await run([name, "--help"])).toMatchObject({
        code: 0,
        out: expect.stringContaining(`usage: mailplane ${name}`),
      });
    }
    expect(await run(["nope"])).toMatchObject({
      code: 2,
      out: expect.stringMatching(/unknown command "nope"[\s\S]*commands:/),
    });
  });

  it("bootstraps a platform-admin token into a 0600 file on SQLite, prints its path only, and keeps it across restarts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mailplane-serve-"));
    dirs.push(dataDir);
    const first = await serve(["--data-dir", dataDir]);
    const tokenPath = join(dataDir, "admin-token");
    const token = readFileSync(tokenPath, "utf8").trim();
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(`token written to ${tokenPath}`);
    expect(await whoami(first.url, token)).toMatchObject({ status: 200, body: { role: "platform-admin" } });
    expect(await first.stop()).toBe(0);
    expect(first.output()).not.toContain(token);
    expect(first.output()).toContain("incoming request");

    const second = await serve(["--data-dir", dataDir]);
    expect(second.output()).not.toContain("token written");
    expect(readFileSync(tokenPath, "utf8").trim()).toBe(token);
    expect((await whoami(second.url, token)).status).toBe(200);
    expect(await second.stop()).toBe(0);
    expect(second.output()).not.toContain(token);
  });

  it("treats an empty MAILPLANE_* variable as unset, as import and verify do", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mailplane-serve-env-"));
    dirs.push(dataDir);
    // Empty, these once meant an invalid rate limit (exit 2) and an empty MX host name.
    const served = await serve(["--data-dir", dataDir], {
      MAILPLANE_RATE_LIMIT: "",
      MAILPLANE_MX_HOST: "",
      MAILPLANE_DATABASE_URL: "",
    });
    expect(served.output()).toContain("(store: sqlite)");
    expect(served.output()).toMatch(/web console at http:\/\/127\.0\.0\.1:\d+\/console\//);
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const put = (path: string, body: unknown) =>
      request(`${served.url}${path}`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${token}`,
          "mailplane-account": "acme",
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
    expect((await put("/v1/accounts/acme", { id: "acme", name: "ACME" })).statusCode).toBe(201);
    const domain = await put("/v1/domains/example.com", { name: "example.com" });
    const records = ((await domain.body.json()) as { dnsRecords: { type: string; value: string }[] })
      .dnsRecords;
    expect(records.find((r) => r.type === "MX")?.value).toBe("mx.mailplane.test");
    expect(await served.stop()).toBe(0);
  });

  it.each([
    { mode: "default", args: [], env: {} as Record<string, string>, unverified: 550 },
    {
      mode: "--trust-all-domains",
      args: ["--trust-all-domains"],
      env: {} as Record<string, string>,
      unverified: 250,
    },
    {
      mode: "MAILPLANE_TRUST_ALL_DOMAINS=1",
      args: [],
      env: { MAILPLANE_TRUST_ALL_DOMAINS: "1" },
      unverified: 250,
    },
  ])(
    "answers RCPT for an unverified domain with $unverified in $mode mode",
    async ({ args, env, unverified }) => {
      const dataDir = mkdtempSync(join(tmpdir(), "mailplane-serve-trust-"));
      dirs.push(dataDir);
      const served = await serve(
        [
          "--data-dir",
          dataDir,
          "--smtp-listen",
          "127.0.0.1:0",
          "--submission-listen",
          "off",
          "--no-dns",
          ...args,
        ],
        { MAILPLANE_DOMAIN_CHECK_INTERVAL: "0", ...env },
      );
      const port = Number(/SMTP engine listening: inbound 127\.0\.0\.1:(\d+)/.exec(served.output())![1]);
      const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
      const call = (method: "PUT" | "POST", path: string, body: unknown) =>
        request(`${served.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            "mailplane-account": "acme",
            "content-type": "application/json",
          },
          body: JSON.stringify(body),
        }).then((r) => r.statusCode);
      expect(await call("PUT", "/v1/accounts/acme", { id: "acme", name: "ACME" })).toBe(201);
      for (const name of ["unverified.example", "marked.example"]) {
        expect(await call("PUT", `/v1/domains/${name}`, { name })).toBe(201);
        const user = { address: `x@${name}`, password: "Correct-Horse-7" };
        expect(await call("PUT", `/v1/domains/${name}/users/${user.address}`, user)).toBe(201);
      }
      // marked.example is verified by the platform admin last: once the engine accepts its user, it
      // has seen everything before.
      expect(await call("POST", "/v1/domains/marked.example/verify", { method: "admin" })).toBe(200);
      const rcpt = async (to: string) =>
        (await swaks(port, ["--to", to, "--from", "s@outside.example", "--quit-after", "RCPT"])).replyTo(
          "RCPT",
        )?.code;
      await vi.waitFor(async () => expect(await rcpt("x@marked.example")).toBe(250), { timeout: 10_000 });
      expect(await rcpt("x@unverified.example")).toBe(unverified);
      expect(await served.stop()).toBe(0);
    },
  );

  it("runs on PostgreSQL given --database-url", async () => {
    const base = inject("postgresUrl");
    const db = `cli_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const url = base.replace(/\/[^/]*$/, `/${db}`);
    const dataDir = mkdtempSync(join(tmpdir(), "mailplane-serve-pg-"));
    dirs.push(dataDir);
    const served = await serve(["--data-dir", dataDir, "--database-url", url]);
    expect(served.output()).toContain("(store: postgres)");
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    expect((await whoami(served.url, token)).status).toBe(200);
    expect(await served.stop()).toBe(0);
    expect(served.output()).not.toContain(token);
  });
});
