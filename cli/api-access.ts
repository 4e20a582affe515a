/** How `import` and `verify` reach the control plane: the endpoint, token and account options, the client, and API failures in words. */
import { MailplaneClient } from "../sdk/src/client/client.ts";
import { UsageError } from "./command.ts";

/** Where the control plane is and who calls it, as given on the command line or in the environment. */
export interface ApiAccess {
  endpoint: string;
  token: string;
  /** For platform-admin tokens: the account to act on. */
  account?: string;
}

/**
 * Reads `--endpoint`, `--token` and `--account` (or MAILPLANE_ENDPOINT, MAILPLANE_TOKEN,
 * MAILPLANE_ACCOUNT) through the command's option reader.
 * @throws UsageError when the endpoint or the token is missing, or the endpoint is not a URL
 */
export function readApiAccess(opt: (flag: string, variable: string) => string | undefined): ApiAccess {
  const endpoint = opt("endpoint", "MAILPLANE_ENDPOINT");
  const token = opt("token", "MAILPLANE_TOKEN");
  const account = opt("account", "MAILPLANE_ACCOUNT");
  if (endpoint === undefined)
    throw new UsageError("name the control plane with --endpoint or MAILPLANE_ENDPOINT");
  if (token === undefined) throw new UsageError("give an API token with --token or MAILPLANE_TOKEN");
  if (!URL.canParse(endpoint)) throw new UsageError("--endpoint must be a URL such as http://127.0.0.1:8080");
  return { endpoint, token, ...(account === undefined ? {} : { account }) };
}

/**
 * A client for a command someone waits for at a terminal: a wrong endpoint fails in seconds (2
 * retries within 10 s) rather than after the SDK's minute. Close it when done.
 * @example const client = apiClient(readApiAccess(opt), "mailplane-import");
 */
export function apiClient(access: ApiAccess, userAgent: string): MailplaneClient {
  return new MailplaneClient({ ...access, userAgent, retry: { maxRetries: 2, budgetMs: 10_000 } });
}

/** What an API failure means for someone running the command, by the error's code. */
const HINTS: Record<string, string> = {
  MP_UNAUTHORIZED: "the token was not accepted: check --token or MAILPLANE_TOKEN",
  MP_FORBIDDEN: "the token may not read this: an account-admin token reads the whole tenant",
  MP_ACCOUNT_REQUIRED: "a platform-admin token acts on no account by itself: name one with --account",
  MP_NOT_FOUND: "no such object in this account (check --domain and --account)",
  MP_NETWORK: "the control plane did not answer: check --endpoint or MAILPLANE_ENDPOINT",
  MP_TIMEOUT: "the control plane did not answer in time",
  MP_RATE_LIMITED: "the control plane kept answering 429 (rate limited); try again later",
};

/**
 * `401 MP_UNAUTHORIZED: <detail>` and a hint on the next line for a MailplaneError (matched on
 * `code`); any other error's message as it is.
 */
export function describeApiError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code !== "string" || !code.startsWith("MP_")) return message;
  const status = (err as { status?: unknown }).status;
  const hint = HINTS[code];
  return `${typeof status === "number" && status > 0 ? `${status} ` : ""}${code}: ${message}${hint ? `\n  ${hint}` : ""}`;
}
