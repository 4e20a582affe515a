/** A control plane on one store backend, a fresh tenant, and an SMTP engine on the same store: the set-up of per-feature mail tests. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { NO_DNS } from "../../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../../platform/smtp/engine-on-store.ts";
import { type Backend, type Harness, startHarness } from "../../api/harness.ts";
import { EventLog, HOSTNAME } from "./harness.ts";

/** What {@link startTenantEngine} started. */
export interface TenantEngine {
  h: Harness;
  engine: EngineOnStore;
  events: EventLog;
  tenant: { id: string; token: string };
  /**
   * An API call as the tenant (or with `token`, naming the tenant's account); throws on a status of
   * 300 or more, and returns once the engine enforces the change.
   */
  call(method: string, path: string, body?: object, token?: string): Promise<{ status: number; body: any }>;
  /** The files in a user's Maildir `new/` (none when nothing was delivered). */
  mailbox(address: string): string[];
  close(): Promise<void>;
}

/**
 * Starts the harness on `backend`, a tenant named after `prefix`, and an engine on its store with
 * every declared domain trusted (the tests are about delivery, not ownership); `engineOptions` are
 * passed to the engine.
 * @example const t = await startTenantEngine(backend, "groups"); await t.call("PUT", `/v1/domains/${d}`, { name: d });
 */
export async function startTenantEngine(
  backend: Backend,
  prefix: string,
  engineOptions: { postmaster?: string } = {},
): Promise<TenantEngine> {
  const h = await startHarness(backend);
  const tenant = await h.tenant(prefix);
  const engine = await startSmtpEngineOnStore({
    store: h.cp.store,
    dataDir: join(h.dataDir, "smtp"),
    hostname: HOSTNAME,
    resolver: NO_DNS,
    inbound: { host: "127.0.0.1", port: 0 },
    submission: { host: "127.0.0.1", port: 0 },
    policy: { trustAllDomains: true },
    ...engineOptions,
  });
  return {
    h,
    engine,
    events: new EventLog(engine),
    tenant,
    async call(method, path, body, token = tenant.token) {
      const res = await h.call(method, path, { token, account: tenant.id, ...(body ? { body } : {}) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      await engine.policy.reached(await h.cp.store.revision());
      return res;
    },
    mailbox(address) {
      try {
        return readdirSync(join(engine.maildirOf(address), "new"));
      } catch {
        return [];
      }
    },
    async close() {
      await engine.close();
      await h.close();
    },
  };
}
