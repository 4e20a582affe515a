/** The control plane's API as the lifecycle needs it: the SDK client, built from the provider's settings. */
import type { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { resolveSettings } from "./config.ts";
import type { ObjectApi, Stored } from "./lifecycle.ts";

// One client per provider process and settings: its keep-alive connections serve every resource.
// This lives in the runtime module, which is loaded at run time and never serialized.
let cached: { key: string; client: MailplaneClient; api: ObjectApi } | undefined;

/**
 * The API of the configured control plane, through the SDK client (retries on 429/5xx with
 * back-off and Retry-After, timeouts, problem+json mapped to MailplaneError with a `code`).
 * The client (and undici under it) is imported on first use: a preview only checks and diffs, and
 * neither the program nor a preview's provider process needs to load it.
 * @throws ProviderConfigError when neither stack config nor environment names endpoint and token.
 */
export async function objectApi(): Promise<ObjectApi> {
  const settings = resolveSettings();
  const key = JSON.stringify([settings.endpoint, settings.token, settings.account]);
  if (cached?.key === key) return cached.api;
  const { MailplaneClient } = await import("../../../sdk/src/client/client.ts");
  if (cached?.key === key) return cached.api;
  void cached?.client.close();
  const client = new MailplaneClient({
    endpoint: settings.endpoint,
    token: settings.token,
    ...(settings.account === undefined ? {} : { account: settings.account }),
    userAgent: "mailplane-pulumi-provider",
  });
  const api: ObjectApi = {
    get: (path) => client.request<Stored>("GET", path),
    put: (path, body, options = {}) => client.request<Stored>("PUT", path, { body, ...options }),
    patch: (path, body, ifMatch) =>
      client.request<Stored>("PATCH", path, { body, ...(ifMatch === undefined ? {} : { ifMatch }) }),
    delete: async (path, ifMatch) => {
      await client.request("DELETE", path, ifMatch === undefined ? {} : { ifMatch });
    },
  };
  cached = { key, client, api };
  return api;
}
