/**
 * `GET /metrics` of `mailplane serve` with its SMTP engine: Prometheus's text format for platform
 * admins only, counting API requests by route pattern and the engine's transactions and
 * deliveries — and never naming a tenant's domain or address.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ServeProcess, startServe } from "../../support/serve-process.ts";
import { swaks } from "../smtp/support/harness.ts";

const DOMAIN = "metrics-tenant.example";

/** The value of the sample `name{labels}` in exposition `text`, or undefined when absent. */
function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("GET /metrics on mailplane serve", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mp-metrics-"));
  let served: ServeProcess;
  let url = "";
  let port = 0;
  let admin = "";
  let tenant = "";

  const api = async (method: "GET" | "PUT" | "POST", path: string, token: string, body?: unknown) => {
    const res = await request(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token === admin && path !== "/metrics" ? { "mailplane-account": "acme" } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.statusCode, type: String(res.headers["content-type"]), text: await res.body.text() };
  };

  beforeAll(async () => {
    served = await startServe(
      [
        "--data-dir",
        dataDir,
        "--smtp-listen",
        "127.0.0.1:0",
        "--submission-listen",
        "off",
        "--no-dns",
        "--trust-all-domains",
        "--rspamd",
        "off",
      ],
      { MAILPLANE_DOMAIN_CHECK_INTERVAL: "0" },
    );
    url = served.url;
    port = served.smtpPort;
    admin = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    expect((await api("PUT", "/v1/accounts/acme", admin, { id: "acme", name: "ACME" })).status).toBe(201);
    const created = await api("POST", "/v1/tokens", admin, { role: "account-admin" });
    expect(created.status, created.text).toBe(201);
    tenant = (JSON.parse(created.text) as { token: string }).token;
    expect((await api("PUT", `/v1/domains/${DOMAIN}`, tenant, { name: DOMAIN })).status).toBe(201);
    const user = { address: `ana@${DOMAIN}`, password: "Correct-Horse-7" };
    expect((await api("PUT", `/v1/domains/${DOMAIN}/users/${user.address}`, tenant, user)).status).toBe(201);
  });

  afterAll(async () => {
    await served?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers platform admins only", async () => {
    expect((await request(`${url}/metrics`)).statusCode).toBe(401);
    const asTenant = await api("GET", "/metrics", tenant);
    expect(asTenant.status).toBe(403);
    expect(asTenant.text).toContain("MP_FORBIDDEN");
  });

  it("counts the engine's transactions and deliveries, and API requests by route pattern, naming no tenant", async () => {
    // One message delivered, one refused at RCPT (no such user).
    await vi.waitFor(
      async () => {
        const sent = await swaks(port, ["--to", `ana@${DOMAIN}`, "--from", "bob@outside.example"]);
        expect(sent.replyTo(".")?.code).toBe(250);
      },
      { timeout: 10_000 },
    );
    const refused = await swaks(port, ["--to", `nobody@${DOMAIN}`, "--from", "bob@outside.example"]);
    expect(refused.replyTo("RCPT")?.code).toBe(550);

    const scrape = await vi.waitFor(
      async () => {
        const res = await api("GET", "/metrics", admin);
        expect(res.status).toBe(200);
        expect(sample(res.text, "mailplane_smtp_deliveries_total", 'outcome="delivered"')).toBe(1);
        return res;
      },
      { timeout: 10_000 },
    );
    expect(scrape.type).toContain("text/plain");
    const text = scrape.text;
    expect(
      sample(
        text,
        "mailplane_smtp_transactions_total",
        'listener="inbound",action="accepted",classification="clean"',
      ),
    ).toBe(1);
    // The unknown recipient is counted although the domain does not log invalid recipients.
    expect(
      sample(text, "mailplane_smtp_recipients_refused_total", 'reason="unknown-recipient",action="reject"'),
    ).toBe(1);
    expect(text).not.toContain('action="rejected"');
    expect(sample(text, "mailplane_smtp_deliveries_total", 'outcome="failed"')).toBe(0);
    expect(sample(text, "mailplane_smtp_queue_messages")).toBe(0);
    expect(sample(text, "mailplane_smtp_connections")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "mailplane_store_up")).toBe(1);
    expect(sample(text, "mailplane_store_revision")).toBeGreaterThan(0);
    expect(
      sample(text, "mailplane_http_requests_total", 'method="PUT",route="/v1/domains/:domain",status="201"'),
    ).toBe(1);
    expect(sample(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
    // Labels are patterns and classes: no domain, address or token of a tenant appears.
    expect(text).not.toContain(DOMAIN);
    expect(text).not.toContain("outside.example");
    expect(text).not.toContain(tenant);
  });

  it("counts a request no route matched under one label, not its path", async () => {
    await request(`${url}/v1/no-such-thing/${DOMAIN}`);
    const text = (await api("GET", "/metrics", admin)).text;
    expect(sample(text, "mailplane_http_requests_total", 'method="GET",route="unmatched",status="404"')).toBe(
      1,
    );
    expect(text).not.toContain("no-such-thing");
  });
});
