/** The SDK's HTTP client: MailplaneClient, its options and the pieces it is composed of. */
export { MailplaneClient, type RawRequest } from "./client.ts";
export * from "./options.ts";
export { errorFromException, errorFromResponse, type FailedResponse } from "./problem.ts";
export {
  backoffDelay,
  isIdempotent,
  parseRetryAfter,
  type RetryContext,
  runWithRetry,
  shouldRetry,
} from "./retry.ts";
