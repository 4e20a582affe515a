/** The control plane's API as the lifecycle needs it, built from the provider's settings (placeholder until the SDK client lands). */
import { resolveSettings } from "./config.ts";
import type { ObjectApi } from "./lifecycle.ts";

/** The API of the configured control plane. @throws ProviderConfigError when not configured. */
export function objectApi(): ObjectApi {
  resolveSettings();
  throw new Error("mailplane: the SDK client is not available yet");
}
