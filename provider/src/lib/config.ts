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

function read(key: string, envName: string, config: StackConfig | undefined): string | undefined {
  // Fully qualified keys: a bare key would be prefixed with the *program's* project name.
  const fromStack = config?.get(`mailplane:${key}`);
  if (fromStack !== undefined && fromStack !== "") return fromStack;
  const fromEnv = process.env[envName];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/**
 * One stack-wide setting (`mailplane:<key>`, else the environment variable), or undefined.
 * @example stackSetting("endpoint", "MAILPLANE_ENDPOINT") // "http://127.0.0.1:8080"
 */
export function stackSetting(key: string, envName: string): string | undefined {
  return read(key, envName, stackConfig);
}

/** A resource's own connection (its `connection` input), overriding the stack-wide settings. */
export interface ConnectionSettings {
  endpoint?: string | undefined;
  token?: string | undefined;
  account?: string | undefined;
}

/**
 * Resolves endpoint, token and account: from the resource's `connection` first, then the stack
 * config (`mailplane:endpoint`, `mailplane:token`, `mailplane:account`), then the environment
 * (`MAILPLANE_ENDPOINT`, `MAILPLANE_TOKEN`, `MAILPLANE_ACCOUNT`).
 *
 * A connection that names its own endpoint must bring its own token: the stack's token is never sent
 * to another platform. A connection that brings its own token acts on its own account only (the
 * stack's `mailplane:account` belongs to the stack's token).
 * @param config the stack config to fall back on; default: the one `configure` gave this process.
 * @throws ProviderConfigError naming both ways to set what is missing.
 * @example resolveSettings({ endpoint: "https://mail.example.net", token: "mpt_…" })
 */
export function resolveSettings(
  connection: ConnectionSettings = {},
  config: StackConfig | undefined = stackConfig,
): ProviderSettings {
  const given = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  if (given(connection.endpoint) !== undefined && given(connection.token) === undefined) {
    throw new ProviderConfigError(
      "connection.endpoint is set without connection.token: give the connection its own token (the stack's mailplane:token is never sent to another endpoint)",
    );
  }
  const endpoint = given(connection.endpoint) ?? read("endpoint", "MAILPLANE_ENDPOINT", config);
  const token = given(connection.token) ?? read("token", "MAILPLANE_TOKEN", config);
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
      `${given(connection.endpoint) === undefined ? "mailplane:endpoint (or MAILPLANE_ENDPOINT)" : "connection.endpoint"} must be a URL such as http://127.0.0.1:8080, got ${JSON.stringify(endpoint)}`,
    );
  }
  const account =
    given(connection.token) !== undefined
      ? given(connection.account)
      : (given(connection.account) ?? read("account", "MAILPLANE_ACCOUNT", config));
  return { endpoint, token, account };
}
