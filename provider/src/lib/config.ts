/** Where the provider finds the control plane: stack config first, then the environment. */

/** What the dynamic-provider process hands to `configure`: the stack's configuration by full key. */
export interface StackConfig {
  get(key: string): string | undefined;
}

/** The resolved connection settings of one provider process. */
export interface ProviderSettings {
  /** Base URL of the control plane, e.g. `http://127.0.0.1:8080`. */
  endpoint: string;
  /** Bearer token; never logged, never part of the serialized provider. */
  token: string;
  /** For a platform-admin token: the account to act on (`Mailplane-Account`). */
  account: string | undefined;
}

/** Thrown when the provider cannot tell which control plane to use; the message says both ways to fix it. */
export class ProviderConfigError extends Error {
  override name = "ProviderConfigError";
  constructor(message: string) {
    super(message);
    // A configuration mistake, not a bug: the dynamic-provider process prints `${err}: ${err.stack}`,
    // and a stack trace there only buries the message.
    this.stack = "";
  }
}

// The stack config of this process. It lives in the runtime module (loaded once per provider
// process), never in the serialized shim, so the token cannot reach the state.
let stackConfig: StackConfig | undefined;

/** Called from the shim's `configure` with the engine's config. */
export function setStackConfig(config: StackConfig | undefined): void {
  stackConfig = config;
}

function read(key: string, envName: string): string | undefined {
  // Fully qualified keys: a bare key would be prefixed with the *program's* project name.
  const fromStack = stackConfig?.get(`mailplane:${key}`);
  if (fromStack !== undefined && fromStack !== "") return fromStack;
  const fromEnv = process.env[envName];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/**
 * Resolves endpoint, token and account from the stack config (`mailplane:endpoint`,
 * `mailplane:token`, `mailplane:account`) or else the environment (`MAILPLANE_ENDPOINT`,
 * `MAILPLANE_TOKEN`, `MAILPLANE_ACCOUNT`).
 * @throws ProviderConfigError naming both ways to set what is missing.
 */
export function resolveSettings(): ProviderSettings {
  const endpoint = read("endpoint", "MAILPLANE_ENDPOINT");
  const token = read("token", "MAILPLANE_TOKEN");
  const missing: string[] = [];
  if (endpoint === undefined) {
    missing.push(
      "the control plane's URL: `pulumi config set mailplane:endpoint http://127.0.0.1:8080` or MAILPLANE_ENDPOINT",
    );
  }
  if (token === undefined) {
    missing.push("an API token: `pulumi config set --secret mailplane:token <token>` or MAILPLANE_TOKEN");
  }
  if (missing.length > 0 || endpoint === undefined || token === undefined) {
    throw new ProviderConfigError(`mailplane is not configured; set ${missing.join(", and ")}`);
  }
  try {
    new URL(endpoint);
  } catch {
    throw new ProviderConfigError(
      `mailplane:endpoint (or MAILPLANE_ENDPOINT) must be a URL such as http://127.0.0.1:8080, got ${JSON.stringify(endpoint)}`,
    );
  }
  return { endpoint, token, account: read("account", "MAILPLANE_ACCOUNT") };
}
