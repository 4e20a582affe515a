/** The control plane's API as the lifecycle needs it: the SDK client, built from the provider's settings. */
import * as pulumi from "@pulumi/pulumi";
import type { MailplaneClient } from "../../../sdk/src/client/client.ts";
import type { RetryEvent } from "../../../sdk/src/client/options.ts";
import { type ConnectionSettings, resolveSettings } from "./config.ts";
import type { ObjectApi, Stored } from "./lifecycle.ts";
import { stampOption } from "./stamp.ts";

// One client per provider process and settings: its keep-alive connections serve every resource
// with those settings (a program with several connections has one client each).
// This lives in the runtime module, which is loaded at run time and never serialized.
const cached = new Map<string, { client: MailplaneClient; api: ObjectApi }>();

/**
 * One line of progress for a retry, as `pulumi up` shows it: what failed, how long until the next
 * attempt and how much of the retry budget is used. The failure's detail is the server's (it names
 * the kind of fault only, never a secret).
 * @example retryProgress(event) // "mailplane: PUT /v1/domains/example.org: 503 MP_UNAVAILABLE (the database is unavailable (connection refused)); retry 1 in 2.0 s (0 s of the 60 s retry budget used)"
 */
export function retryProgress(event: RetryEvent): string {
  const { error } = event;
  const status = error.status > 0 ? `${error.status} ` : "";
  const detail = error.problem.detail ?? error.message;
  return (
    `mailplane: ${event.method} ${event.path}: ${status}${error.code} (${detail}); ` +
    `retry ${event.retry} in ${(event.delayMs / 1000).toFixed(1)} s ` +
    `(${Math.round(event.elapsedMs / 1000)} s of the ${Math.round(event.budgetMs / 1000)} s retry budget used)`
  );
}

/**
 * The SDK client for a connection (see {@link resolveSettings}): retries on 429/5xx with back-off and
 * Retry-After, timeouts, problem+json mapped to MailplaneError with a `code`. Each retry is logged as
 * info (progress, not an error): a control plane answering 503 while its database restarts delays the
 * update instead of failing it.
 * The client (and undici under it) is imported on first use: a preview only checks and diffs, and
 * neither the program nor a preview's provider process needs to load it.
 * @throws ProviderConfigError when neither the connection, stack config nor environment names endpoint and token.
 * @example const client = await clientFor({ account: "acme" });
 */
export async function clientFor(connection?: ConnectionSettings): Promise<MailplaneClient> {
  return (await entry(connection)).client;
}

/**
 * The four object calls of the lifecycle over {@link clientFor}'s client.
 * @example const api = await objectApi(); await api.get("/v1/domains/example.com");
 */
export async function objectApi(connection?: ConnectionSettings): Promise<ObjectApi> {
  return (await entry(connection)).api;
}

async function entry(connection?: ConnectionSettings): Promise<{ client: MailplaneClient; api: ObjectApi }> {
  const settings = resolveSettings(connection);
  const key = JSON.stringify([settings.endpoint, settings.token, settings.account]);
  const found = cached.get(key);
  if (found) return found;
  const { MailplaneClient } = await import("../../../sdk/src/client/client.ts");
  const again = cached.get(key);
  if (again) return again;
  const client = new MailplaneClient({
    endpoint: settings.endpoint,
    token: settings.token,
    ...(settings.account === undefined ? {} : { account: settings.account }),
    userAgent: "mailplane-pulumi-provider",
    onRetry: (event) => void pulumi.log.info(retryProgress(event)),
  });
  const api: ObjectApi = {
    get: (path, options = {}) =>
      client.request<Stored>(
        "GET",
        path,
        options.quick ? { timeoutMs: 5_000, retry: { maxRetries: 0 } } : {},
      ),
    // Every write carries the declaring stack's stamp (see stamp.ts).
    put: (path, body, options = {}) =>
      client.request<Stored>("PUT", path, { body, ...options, ...stampOption() }),
    patch: (path, body, ifMatch) =>
      client.request<Stored>("PATCH", path, {
        body,
        ...(ifMatch === undefined ? {} : { ifMatch }),
        ...stampOption(),
      }),
    delete: async (path, ifMatch) => {
      await client.request("DELETE", path, ifMatch === undefined ? {} : { ifMatch });
    },
  };
  const made = { client, api };
  cached.set(key, made);
  return made;
}
