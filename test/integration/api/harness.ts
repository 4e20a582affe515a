/** A real control plane on 127.0.0.1:0 per store backend, and a tiny HTTP helper that records every answer. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { request } from "undici";
import { inject } from "vitest";
import {
  type ControlPlane,
  type ControlPlaneOptions,
  startControlPlane,
} from "../../../platform/api/server.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";

/** One store the suites run against. */
export interface Backend {
  name: "sqlite" | "postgres";
}

/** Both stores: describe.each(BACKENDS)(…). */
export const BACKENDS: Backend[] = [{ name: "sqlite" }, { name: "postgres" }];

/** An HTTP answer, body parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** Options of one call. */
export interface CallOptions {
  token?: string | undefined;
  account?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A running control plane with its admin token, captured logs and every response body. */
export interface Harness {
  cp: ControlPlane;
  url: string;
  dataDir: string;
  /** PostgreSQL backends: the server URL and the schema this harness uses. */
  database: { url: string; schema: string } | undefined;
  adminToken: string;
  logs: string[];
  responses: string[];
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** A fresh account and an account-admin token for it. */
  tenant(prefix?: string): Promise<{ id: string; token: string }>;
  /** A token of `role` in `account` (domain-admin: for `domains`). */
  token(account: string, role: string, domains?: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts a control plane on `backend` (SQLite in a temp dir, or PostgreSQL in a schema of its own)
 * with logs captured at trace level.
 */
export async function startHarness(
  backend: Backend,
  options: Partial<ControlPlaneOptions> = {},
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "mailplane-api-"));
  const logs: string[] = [];
  const responses: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const database =
    backend.name === "postgres"
      ? { url: inject("postgresUrl"), schema: `api_${randomBytes(6).toString("hex")}` }
      : undefined;
  const cp = await startControlPlane({
    dataDir,
    listen: "127.0.0.1:0",
    logger: { level: "trace", stream } as never,
    // No DNS unless a suite brings its own table: ownership checks find nothing, and never go out.
    resolver: NO_DNS,
    ...(database ? { databaseUrl: database.url, databaseSchema: database.schema } : {}),
    // Test routes point at loopback and the IPv6 documentation block (RFC 3849), as an admin may allow.
    egress: new EgressPolicy({ allow: ["127.0.0.0/8", "2001:db8::/32"] }),
    ...options,
  });
  const adminToken = readFileSync(cp.adminTokenPath!, "utf8").trim();

  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.account !== undefined) headers["mailplane-account"] = o.account;
    if (o.body !== undefined) headers["content-type"] ??= "application/json";
    const res = await request(`${cp.url}${path}`, {
      method: method as never,
      headers,
      ...(o.body === undefined ? {} : { body: typeof o.body === "string" ? o.body : JSON.stringify(o.body) }),
    });
    const text = await res.body.text();
    responses.push(text);
    const type = String(res.headers["content-type"] ?? "");
    return {
      status: res.statusCode,
      headers: res.headers as Answer["headers"],
      text,
      body: type.includes("json") && text !== "" ? JSON.parse(text) : undefined,
    };
  };

  const token = async (account: string, role: string, domains: string[] = []) => {
    const res = await call("POST", "/v1/tokens", { token: adminToken, account, body: { role, domains } });
    if (res.status !== 201) throw new Error(`token: ${res.status} ${res.text}`);
    return res.body.token as string;
  };

  let counter = 0;
  const tenant = async (prefix = "t") => {
    const id = `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(2).toString("hex")}`;
    const res = await call("PUT", `/v1/accounts/${id}`, {
      token: adminToken,
      body: { id, name: `Tenant ${id}` },
    });
    if (res.status !== 201) throw new Error(`account: ${res.status} ${res.text}`);
    return { id, token: await token(id, "account-admin") };
  };

  return {
    cp,
    url: cp.url,
    dataDir,
    database,
    adminToken,
    logs,
    responses,
    call,
    tenant,
    token,
    async close() {
      await cp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A domain name unique to this run, so tests sharing a server never collide on the global namespace. */
export function uniqueDomain(label = "d"): string {
  return `${label}-${Date.now().toString(36)}${randomBytes(3).toString("hex")}.example`;
}
