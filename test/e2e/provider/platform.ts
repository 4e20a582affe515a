/**
 * Starts a real control plane for a provider e2e test: its own data directory and port, an account,
 * and an account-admin token — what a tenant's CI would hold. Closed and removed in `close()`.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane } from "../../../platform/api/server.ts";
import type { Store } from "../../../platform/store/store.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";

export interface TestPlatform {
  /** Base URL of the control plane. */
  url: string;
  /** The account the token acts on. */
  account: string;
  /** An account-admin token of `account` (what the stack's `mailplane:token` holds). */
  token: string;
  /** The bootstrap platform-admin token: acts on an account named by `Mailplane-Account`. */
  adminToken: string;
  /** A client with that token: the test's "someone else using the API". */
  client: MailplaneClient;
  close(): Promise<void>;
}

/**
 * Starts the control plane on 127.0.0.1 and a free port, with SQLite under a fresh temporary directory
 * (or on `store`, e.g. a PostgreSQL store the test takes away mid-run; the caller closes it).
 */
export async function startTestPlatform(
  account = "e2e",
  options: { rateLimit?: false; store?: Store } = {},
): Promise<TestPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), "mailplane-provider-e2e-"));
  const controlPlane = await startControlPlane({ dataDir, listen: "127.0.0.1:0", ...options });
  const adminToken = readFileSync(controlPlane.adminTokenPath!, "utf8").trim();
  const admin = new MailplaneClient({ endpoint: controlPlane.url, token: adminToken });
  await admin.accounts.put({ id: account, name: `Provider e2e (${account})` });
  const created = await admin.tokens.create(
    { role: "account-admin", description: "provider e2e" },
    { account },
  );
  await admin.close();
  const client = new MailplaneClient({ endpoint: controlPlane.url, token: created.token });
  return {
    url: controlPlane.url,
    account,
    token: created.token,
    adminToken,
    client,
    async close() {
      await client.close();
      await controlPlane.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
